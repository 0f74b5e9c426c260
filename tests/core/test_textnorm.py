from hotline.textnorm import TABLE_FILE, normalise


def test_traditional_and_full_width_become_simplified_ascii_with_the_same_length():
    for raw, expected in [
        ("電梯壞了，請盡快維修！", "电梯坏了，请尽快维修！"),
        ("後面沒有路燈", "后面没有路灯"),
        ("東山區松林街道１２３號", "东山区松林街道123号"),
        ("ＡＢＣ小區ａｂｃ", "ABC小区abc"),
    ]:
        assert normalise(raw) == expected
        assert len(normalise(raw)) == len(raw)


def test_simplified_text_and_chinese_punctuation_are_left_alone():
    # 坏/著/乾/于 are valid simplified characters that a naive t2s conversion would change (坏 -> 坯).
    text = "电梯坏了，著名的乾隆年间，于是？　（全角空格和标点不变）"
    assert normalise(text) == text
    assert normalise("") == "" and normalise("abc 123") == "abc 123"


def test_table_is_one_to_one_and_idempotent():
    pairs = [line.split("\t") for line in TABLE_FILE.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert len(pairs) > 2000
    sources = {s for s, _ in pairs}
    assert all(len(s) == 1 and len(d) == 1 and s != d for s, d in pairs)
    assert not sources & {d for _, d in pairs}  # a target is never rewritten again
    sample = "".join(s for s, _ in pairs)
    assert normalise(normalise(sample)) == normalise(sample)


def test_zhe_becomes_zhuo_only_in_traditional_text():
    assert normalise("樓下飯店著火了，大家都很著急") == "楼下饭店着火了，大家都很着急"
    assert normalise("這位著名作家的原著") == "这位著名作家的原著"
    assert normalise("显著提高，著火点") == "显著提高，著火点"  # simplified text: nothing is touched
