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
    # links are inline: no gap, the address after the text; a heading ends a line
    assert plain_text(clean) == "标题\n正文坏好（https://ok.cn/a）"


def test_plain_text_inline_tags_add_no_spaces_block_tags_separate():
    assert plain_text(clean_html("<p>可申请每台<b>20万元</b>补贴</p>")) == "可申请每台20万元补贴"
    inline = ('<p>请<strong>携带</strong><em>身份证</em>、<i>户口簿</i>到<a href="https://ok.cn">窗口</a>'
              '<span>办理</span>，<u>当天</u>办结，CO<sub>2</sub>、m<sup>2</sup>。</p>')
    assert plain_text(clean_html(inline)) == "请携带身份证、户口簿到窗口（https://ok.cn）办理，当天办结，CO2、m2。"
    blocks = ("<h2>办理材料</h2><p>身份证</p><p>户口簿<br>照片</p><div>地址</div><ul><li>甲</li><li>乙</li></ul>"
              "<table><tr><th>项目</th><td>金额</td></tr></table>")
    assert plain_text(clean_html(blocks)) == "\n".join(["办理材料", "身份证", "户口簿", "照片", "地址", "• 甲", "• 乙",
                                                        "项目 | 金额"])
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


def test_plain_text_list_items_keep_their_bullets_and_numbers():
    # a list item is a line starting with "• " (an <ol>'s "1. "); an inner list is two spaces in
    body = ("<p>材料：</p><ul>\n  <li>身份证</li>\n  <li>户口簿</li>\n</ul>"
            "<ol><li>网上申请</li><li><p>窗口审核</p></li><li>领证<ul><li>当场领取</li><li>邮寄<ol><li>填地址</li></ol></li></ul></li>"
            "<li></li></ol><p>咨询12345。</p>")
    assert plain_text(clean_html(body)) == "\n".join([
        "材料：", "• 身份证", "• 户口簿", "1. 网上申请", "2. 窗口审核", "3. 领证", "  • 当场领取", "  • 邮寄",
        "    1. 填地址", "咨询12345。"])
    # the author's white space around an item's text and between items leaves no empty bullet
    assert plain_text("<ul>\n<li>\n  身份证 \n</li>\n<li><b>户口</b>簿</li></ul>") == "• 身份证\n• 户口簿"
    # an <ol> numbers its own items: a list after it starts again at 1
    assert plain_text("<ol><li>甲</li><li>乙</li></ol><ol><li>丙</li></ol>") == "1. 甲\n2. 乙\n1. 丙"


def test_plain_text_table_rows_are_lines_of_cells():
    body = ("<table>\n<thead>\n<tr>\n<th>区域</th>\n<th>地址</th>\n<th>电话</th>\n</tr>\n</thead>\n<tbody>"
            "<tr><td>西湖区</td><td>文三路<b>138</b>号</td><td>0571-87001234</td></tr>"
            "<tr><td>上城区</td><td><p>解放路88号</p><p>二楼</p></td><td></td></tr>"
            "<tr><td></td><td></td><td></td></tr></tbody></table><p>以上。</p>")
    assert plain_text(clean_html(body)) == "\n".join([
        "区域 | 地址 | 电话", "西湖区 | 文三路138号 | 0571-87001234",
        "上城区 | 解放路88号 二楼 |", "以上。"])  # a cell's paragraphs stay on its row; an empty row is no line


def test_plain_text_links_keep_their_address():
    body = clean_html('<p>详见<a href="https://zjj.yunzhou.gov.cn/bszn?id=3&amp;p=1">住建局办事指南</a>，'
                      '来信<a href="mailto:zjj@yunzhou.gov.cn">电子邮箱</a>，'
                      '<a href="mailto:xf@yunzhou.gov.cn">xf@yunzhou.gov.cn</a>，'
                      '官网<a href="https://www.yunzhou.gov.cn/">www.yunzhou.gov.cn</a>，'
                      '<a href="https://gjj.yunzhou.gov.cn">https://gjj.yunzhou.gov.cn</a>，'
                      '热线<a href="tel:0571-12345">0571-12345</a>，<a href="tel:+8657187001234">拨打电话</a>，'
                      '<a href="javascript:alert(1)">点此</a>，<a href="bszn.html">本站指南</a>。</p>')
    assert 'javascript' not in body  # the sanitizer removed it: the link's text stays, without an address
    assert plain_text(body) == ("详见住建局办事指南（https://zjj.yunzhou.gov.cn/bszn?id=3&p=1），"
                                "来信电子邮箱（zjj@yunzhou.gov.cn），xf@yunzhou.gov.cn，官网www.yunzhou.gov.cn，"
                                "https://gjj.yunzhou.gov.cn，热线0571-12345，拨打电话（+8657187001234），点此，本站指南。")
    # in a list item or a cell as anywhere
    assert plain_text('<ul><li><a href="http://a.cn/x">表格下载</a></li></ul>') == "• 表格下载（http://a.cn/x）"


def test_an_faqs_questions_in_list_items_and_table_cells_are_found():
    from knowledge.search.base import SearchDoc, faq_questions

    body = plain_text(clean_html(
        "<ul><li>电动自行车在哪里登记？到车管所办理。</li><li>问：号牌丢了怎么补领？</li><li>答：号牌能否代领？可以。</li></ul>"
        "<ol><li>外地车能在本市上牌吗？可以。</li></ol>"
        "<table><tr><th>问题</th><th>答复</th></tr><tr><td>上牌要带什么材料？</td><td>身份证。</td></tr>"
        "<tr><td>1</td><td>补领要多久办结？</td><td>当场。</td></tr></table>"))
    assert body.splitlines()[:2] == ["• 电动自行车在哪里登记？到车管所办理。", "• 问：号牌丢了怎么补领？"]
    doc = SearchDoc(kind="article", ref_id="1", title="电动自行车上牌", body=body)
    assert faq_questions(doc) == ["电动自行车在哪里登记？", "号牌丢了怎么补领？", "外地车能在本市上牌吗？",
                                  "上牌要带什么材料？", "补领要多久办结？"]
    # a decimal number is no list number: "1.5米…" stays part of the line's question; a bullet is never part
    # of one ("• 多少钱？" is too short a question, as "多少钱？" is)
    assert faq_questions(SearchDoc(kind="article", ref_id="2", title="", body="1.5米高的围墙要审批吗？要。\n• 多少钱？")) == [
        "1.5米高的围墙要审批吗？"]
