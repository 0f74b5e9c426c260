"""Tokenizer, synonyms, highlighting and the HTML sanitizer."""

from __future__ import annotations

from knowledge.sanitize import clean_html, plain_text
from knowledge.search.base import highlight
from knowledge.synonyms import DEFAULT_GROUPS, SynonymSet, parse_group, read_groups
from knowledge.tokenize import Tokenizer


def test_tokenizer_words_and_bigrams():
    tok = Tokenizer(["云州市", "住房公积金"])
    words = tok.words("请问云州市住房公积金怎么提取？")
    assert "云州市" in words and "住房公积金" in words and "公积金" in words
    assert "请问" not in words and "？" not in words and "怎么" not in words
    assert tok.bigrams("公积金！ok") == ["公积", "积金", "ok"]


def test_private_dictionaries_do_not_leak():
    a, b = Tokenizer(["管道气"]), Tokenizer()
    assert "管道气" in a.words("管道气泄漏") and "管道气" not in b.words("管道气泄漏")


def test_synonym_groups():
    syn = SynonymSet([("社保", "社会保险"), "公积金，住房公积金", ("孤单",)])
    assert syn.expand(["社保", "交"]) == ["社保", "交", "社会保险"]
    assert syn.expand(["住房公积金"]) == ["住房公积金", "公积金"]
    assert len(syn.groups) == 2
    assert parse_group(" 医保/ 医疗保险、医保 ") == ("医保", "医疗保险")


def test_synonym_files_have_one_group_per_line_and_comments(tmp_path):
    path = tmp_path / "groups.txt"
    path.write_text("# heading\n社保,社会保险  # trailing note\n\n停电，没电、断电\n", encoding="utf-8")
    assert read_groups(path) == (("社保", "社会保险"), ("停电", "没电", "断电"))


def test_the_default_groups_map_what_citizens_say_and_break_no_everyday_text():
    syn, tok = SynonymSet(), Tokenizer(SynonymSet().terms())
    assert "燃气泄漏" in syn.group_of("煤气味") and "拖欠工资" in syn.group_of("不发工资")
    assert all(len(group) >= 2 for group in DEFAULT_GROUPS)
    # every member is a segmenter word: 不发工资 and 煤气味 stay whole, and nothing else is glued together
    assert "不发工资" in tok.words("老板一直不发工资") and "煤气味" in tok.words("家里有煤气味")
    assert tok.words("他打的电话没人接") == Tokenizer().words("他打的电话没人接")
    assert tok.words("房屋出租合同") == Tokenizer().words("房屋出租合同")


def test_highlight_escapes_and_marks():
    out = highlight("<b>社保</b>卡丢失后请挂失社保卡", ["社保卡", "社保"])
    assert out == "&lt;b&gt;<em>社保</em>&lt;/b&gt;卡丢失后请挂失<em>社保卡</em>"


def test_highlight_terms_rejoin_characters_and_keep_single_ones_when_nothing_else():
    from knowledge.search.base import highlight_terms
    assert highlight_terms(["犬", "只", "登记"]) == ["犬只", "登记"]
    assert highlight_terms(["社保"], ["社会保险"]) == ["社保", "社会保险"]
    assert highlight_terms(["狗", "咬"]) == ["狗咬", "狗", "咬"]  # the pair first, each character failing that
    assert highlight_terms(["犬"], ["狗"]) == ["犬", "狗"]  # a typed word and a synonym are never joined


def test_sanitizer_allow_list():
    dirty = ('<h2 style="x">标题</h2><p onmouseover="x()">正文<iframe src="https://evil"></iframe>'
             '<a href="javascript:alert(1)">坏</a><a href="https://ok.cn/a">好</a><svg onload=alert(1)></svg></p>')
    clean = clean_html(dirty)
    assert clean == ('<h2>标题</h2><p>正文<a rel="noopener noreferrer">坏</a>'
                     '<a href="https://ok.cn/a" rel="noopener noreferrer">好</a></p>')
    assert plain_text(clean) == "标题\n正文坏好"  # links are inline: no gap; a heading ends a line


def test_plain_text_inline_tags_add_no_spaces_block_tags_separate():
    assert plain_text(clean_html("<p>可申请每台<b>20万元</b>补贴</p>")) == "可申请每台20万元补贴"
    inline = ('<p>请<strong>携带</strong><em>身份证</em>、<i>户口簿</i>到<a href="https://ok.cn">窗口</a>'
              '<span>办理</span>，<u>当天</u>办结，CO<sub>2</sub>、m<sup>2</sup>。</p>')
    assert plain_text(clean_html(inline)) == "请携带身份证、户口簿到窗口办理，当天办结，CO2、m2。"
    blocks = ("<h2>办理材料</h2><p>身份证</p><p>户口簿<br>照片</p><div>地址</div><ul><li>甲</li><li>乙</li></ul>"
              "<table><tr><th>项目</th><td>金额</td></tr></table>")
    assert plain_text(clean_html(blocks)) == "\n".join("办理材料 身份证 户口簿 照片 地址 甲 乙 项目 金额".split())
    assert plain_text("<p>每台 <b>20万元</b> 补贴&nbsp;&amp;</p>") == "每台 20万元 补贴 &"  # the author's own spaces stay


def test_overlapping_synonym_groups_do_not_hide_each_other():
    # 医保 is in two groups (one user-added): both still expand it, and each member finds 医保
    syn = SynonymSet([("医保", "医疗保险"), ("社保", "社会保险"), ("医保", "医疗保障"), ("社会保险", "社会保障卡")])
    assert set(syn.expand(["医保"])) == {"医保", "医疗保险", "医疗保障"}
    assert syn.expand(["医疗保险"]) == ["医疗保险", "医保"]
    assert set(syn.expand(["社会保险"])) == {"社会保险", "社保", "社会保障卡"}
    assert syn.expand(["社保"]) == ["社保", "社会保险"]


def test_an_faqs_questions_are_its_question_lines_never_an_answers_line():
    from knowledge.search.base import SearchDoc, faq_questions

    body = ("办理须知如下。\n问：电动自行车在哪里登记？\n答：您是否已购买保险？未购买的请先购买。\n"
            "燃气费怎么交？在营业厅或网上缴纳。\n答: 有疑问吗？请致电12345。")
    doc = SearchDoc(kind="article", ref_id="1", title="燃气费怎么交？", body=body)
    # the title's own question is not counted again; a ticket is no FAQ
    assert faq_questions(doc) == ["电动自行车在哪里登记？"]
    assert faq_questions(SearchDoc(kind="ticket", ref_id="2", title="", body=body)) == []
