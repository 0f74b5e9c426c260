from routing.segment import STOPWORDS, Segmenter, looks_segmented


def test_detects_pre_segmented_text():
    assert looks_segmented("投诉 小区 物业 违规 收 停车费 业主 反映 物业 置之不理")
    assert not looks_segmented("投诉小区物业违规收停车费，业主反映物业置之不理。")
    assert not looks_segmented("hello world foo bar")


def test_user_words_change_segmentation_at_run_time(tmp_path):
    seg = Segmenter()
    assert "翠湖花园" not in seg.tokens("翠湖花园物业乱收费")
    seg.add_words(["翠湖花园"])
    assert "翠湖花园" in seg.tokens("翠湖花园物业乱收费")
    d = tmp_path / "dict.txt"
    d.write_text("玉河街道 10 ns\n# comment\n凤栖梧桐苑\n", encoding="utf-8")
    assert seg.load_userdict(d) == 2
    assert "凤栖梧桐苑" in seg.tokens("凤栖梧桐苑门口积水")


def test_segmenters_do_not_share_dictionaries():
    a, b = Segmenter(["桃花坞里"]), Segmenter()
    assert "桃花坞里" in a.tokens("桃花坞里停电")
    assert "桃花坞里" not in b.tokens("桃花坞里停电")


def test_tokens_drop_punctuation_and_stopwords_and_keep_segmented_input():
    seg = Segmenter()
    toks = seg.tokens("我们小区的路灯坏了，请尽快修理！")
    assert "，" not in toks and "！" not in toks
    assert not set(toks) & STOPWORDS
    assert "路灯" in toks
    assert seg.tokens("A3 区 路灯 坏 了 的 修理") == ["a3", "区", "路灯", "坏", "修理"]
