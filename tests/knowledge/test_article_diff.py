"""Version diffs: sentences stay aligned, and inside a changed sentence only the changed words are marked."""

from __future__ import annotations

import pytest

from knowledge.articles import ArticleService
from knowledge.diff import sentences, version_diff, words
from tests.knowledge.helpers import EDITOR


def test_one_character_changed_marks_that_character_not_the_sentence():
    d = version_diff("燃气开户", "携带房产证明到营业厅办理。三个工作日内上门通气。",
                     "燃气开户", "携带房产证明到营业厅办理。五个工作日内上门通气。", "v1", "v2")
    assert d["changes"] == [{
        "field": "body", "op": "replace", "old": "三个工作日内上门通气。", "new": "五个工作日内上门通气。",
        "segments": [{"op": "delete", "text": "三"}, {"op": "insert", "text": "五"},
                     {"op": "equal", "text": "个工作日内上门通气。"}]}]
    assert d["diff_html"] == ('<div class="kb-diff"><h3 class="kb-diff-title">燃气开户</h3><div class="kb-diff-body">'
                              "携带房产证明到营业厅办理。<del>三</del><ins>五</ins>个工作日内上门通气。</div></div>")
    # the unified diff keeps its sentence lines for existing readers
    assert "-三个工作日内上门通气。" in d["diff"] and "+五个工作日内上门通气。" in d["diff"]
    assert " 携带房产证明到营业厅办理。" in d["diff"]


def test_inserted_words_inside_a_sentence():
    segments = words("携带房产证明到营业厅办理。", "携带房产证明和身份证到营业厅办理，三个工作日内上门通气。")
    assert segments == [{"op": "equal", "text": "携带房产证明"}, {"op": "insert", "text": "和身份证"},
                        {"op": "equal", "text": "到营业厅办理"}, {"op": "insert", "text": "，三个工作日内上门通气"},
                        {"op": "equal", "text": "。"}]


def test_numbers_are_replaced_whole_and_lone_shared_characters_fold_into_the_change():
    assert words("收费3.5元", "收费12.5元") == [
        {"op": "equal", "text": "收费"}, {"op": "delete", "text": "3.5"}, {"op": "insert", "text": "12.5"},
        {"op": "equal", "text": "元"}]
    assert words("三个工作日办结", "五个自然日办结") == [
        {"op": "delete", "text": "三个工作"}, {"op": "insert", "text": "五个自然"}, {"op": "equal", "text": "日办结"}]


def test_sentences_added_removed_and_unrelated_replacements_stay_whole():
    d = version_diff("停水通知", "明天停水。请提前储水！联系电话12345。",
                     "停水通知", "明天停水。因管网抢修，停水延长至周五？联系电话12345。新增说明。", "v1", "v2")
    assert [(c["op"], c["old"], c["new"]) for c in d["changes"]] == [
        ("delete", "请提前储水！", None), ("insert", None, "因管网抢修，停水延长至周五？"),
        ("insert", None, "新增说明。")]
    assert d["changes"][0]["segments"] == [{"op": "delete", "text": "请提前储水！"}]


def test_sentences_split_after_chinese_stops_and_keep_closing_quotes():
    assert sentences("他说：“请关闭阀门。”然后离开！真的吗？ 最后") == [
        "他说：“请关闭阀门。”", "然后离开！", "真的吗？", "最后"]


def test_title_change_and_every_piece_of_text_escaped():
    d = version_diff("燃气<b>开户</b>", "正文 &amp; 说明。", "燃气<i>过户</i>", "正文 <script>alert(1)</script> 说明。",
                     "v1", "v2")
    assert d["changes"][0]["field"] == "title"
    html = d["diff_html"]
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&amp;amp;" in html
    tags = {t.split()[0].strip("</>") for t in html.replace(">", ">\n").split("<")[1:]}
    assert tags <= {"div", "h3", "del", "ins"}


async def test_service_diff_keeps_its_fields_and_adds_the_word_changes(engine, clock):
    service = ArticleService(engine, clock)
    art = await service.create(EDITOR, {"title": "燃气开户", "body": "<p>携带房产证明到营业厅办理。</p><p>咨询电话12345。</p>"})
    await service.update(EDITOR, art["id"], {"title": "燃气开户", "body": "<p>携带房产证明到服务厅办理。</p><p>咨询电话12345。</p>"})
    d = await service.diff(art["id"], 1, 2)
    assert {"from", "to", "changed_by", "changed_at", "diff"} <= d.keys()
    assert (d["from"], d["to"], d["changed_by"]) == (1, 2, "editor1")
    assert d["diff"].startswith("--- v1\n+++ v2\n") and "-携带房产证明到营业厅办理。" in d["diff"]
    assert "+携带房产证明到服务厅办理。" in d["diff"] and " 咨询电话12345。" in d["diff"]
    assert [c["segments"] for c in d["changes"]] == [[
        {"op": "equal", "text": "携带房产证明到"}, {"op": "delete", "text": "营业"}, {"op": "insert", "text": "服务"},
        {"op": "equal", "text": "厅办理。"}]]
    assert "<del>营业</del><ins>服务</ins>" in d["diff_html"]
    assert (await service.diff(art["id"], 2, 2))["changes"] == []


def test_a_new_sentence_among_edited_ones_is_paired_around():
    d = version_diff("t", "燃气表每十年更换一次。更换不收取任何费用。",
                     "t", "燃气表每八年更换一次。更换前会短信通知用户。更换不收取费用。", "v1", "v2")
    assert [(c["op"], c["new"]) for c in d["changes"]] == [
        ("replace", "燃气表每八年更换一次。"), ("insert", "更换前会短信通知用户。"), ("replace", "更换不收取费用。")]


@pytest.mark.parametrize("n", [30, 80])  # 80 x 80 is past MAX_PAIRING: paired by position
def test_many_replaced_sentences_stay_aligned(n):
    old = "".join(f"第{i}条规定适用于甲类。" for i in range(n))
    new = "".join(f"第{i}条规定适用于乙类。" for i in range(n))
    changes = version_diff("t", old, "t", new, "v1", "v2")["changes"]
    assert [c["op"] for c in changes] == ["replace"] * n
    assert all(c["old"].replace("甲", "乙") == c["new"] for c in changes)


def test_an_overlong_sentence_is_shown_whole_and_quickly():
    old = "没有句号的很长一段文字，" * 2000
    changes = version_diff("t", old, "t", old.replace("文字", "文本", 1), "v1", "v2")["changes"]
    assert [c["op"] for c in changes] == ["delete", "insert"]
