"""How the chatbot names its sources: a title quoted in 《》 once (never 《《…》》), articles of the same title
told apart in a list, and the unit that handles the matter (承办单位) under an answer."""

from __future__ import annotations

import pytest

from channels.wechat.text import MAX_TEXT_BYTES, passive_and_rest, utf8_len
from knowledge.chat_words import book_title, option_labels
from knowledge.chatbot import ANSWER_CHARS
from tests.knowledge.helpers import demo_bot
from tests.knowledge.test_chatbot import msg

PROMPT = "这个回答对您有帮助吗？请回复“有用”或“没用”；仍需反映诉求请回复“提交”。"
DISABILITY = "《中华人民共和国残疾人证》挂失补办"
LAWYER = "律师执业证书注销审核"


# -- the rules ------------------------------------------------------------------

@pytest.mark.parametrize("title, shown", [
    ("灵活就业人员如何缴纳社会保险", "《灵活就业人员如何缴纳社会保险》"),
    ("《云州市养犬管理规定》", "《云州市养犬管理规定》"),  # already one book title: not doubled
    ("  《云州市养犬管理规定》 ", "《云州市养犬管理规定》"),
    ("《关于〈云州市养犬管理规定〉的解读》", "《关于〈云州市养犬管理规定〉的解读》"),
    # book titles inside: wrapped once, the inner marks single (GB/T 15834)
    (DISABILITY, "《〈中华人民共和国残疾人证〉挂失补办》"),
    ("办理《出生医学证明》补发", "《办理〈出生医学证明〉补发》"),
    ("《民法典》与《婚姻登记条例》解读", "《〈民法典〉与〈婚姻登记条例〉解读》"),
    ("《民法典》与《婚姻登记条例》", "《〈民法典〉与〈婚姻登记条例〉》"),  # two titles, not one
])
def test_book_title_quotes_a_title_once(title, shown):
    assert book_title(title) == shown
    assert "《《" not in book_title(title) and "》》" not in book_title(title)


def test_option_labels_tell_apart_only_the_same_titles():
    assert option_labels([(1, "法律援助", "甲局"), (2, "法律援助申请", "甲局")]) == ["法律援助", "法律援助申请"]
    assert option_labels([(1, LAWYER, "广东省司法厅"), (2, LAWYER, "广州市司法局"), (3, "律师执业变更审核", None)]) \
        == [f"{LAWYER}（广东省司法厅）", f"{LAWYER}（广州市司法局）", "律师执业变更审核"]
    # the same unit twice, or no unit: the id tells them apart
    assert option_labels([(7, LAWYER, "广州市司法局"), (8, LAWYER, "广州市司法局"), (9, LAWYER, None)]) == [
        f"{LAWYER}（广州市司法局，知识编号 7）", f"{LAWYER}（广州市司法局，知识编号 8）", f"{LAWYER}（知识编号 9）"]
    # titles differing only in spaces or punctuation are the same title to a reader
    assert option_labels([(1, "律师执业证书注销审核(注销)", "甲"), (2, "律师执业证书注销审核（注销）", "乙")]) == [
        "律师执业证书注销审核(注销)（甲）", "律师执业证书注销审核（注销）（乙）"]


# -- through the chatbot ------------------------------------------------------------

@pytest.fixture
async def kb(engine, clock):
    bot, publish = await demo_bot(engine, clock)

    async def publish_text(title: str, body: str, unit: str | None, keywords=()) -> int:
        return await publish(title, f"<p>{body}</p>", unit, keywords)

    return bot, publish_text


async def test_an_answer_quotes_a_title_holding_a_book_title_once_and_names_the_unit(kb):
    bot, publish = kb
    article_id = await publish(DISABILITY, "本省持证残疾人的残疾人证遗失，应及时报告残联，声明作废后可申请补办。", "civil",
                               ["残疾人证", "挂失", "补办"])
    reply = await bot.respond(msg("残疾人证丢了怎么补办", user="a1"))
    assert reply.kind == "answer" and reply.article_id == article_id
    body, rest = reply.text.split("\n\n", 1)
    assert body == "本省持证残疾人的残疾人证遗失，应及时报告残联，声明作废后可申请补办。"
    assert rest == (f"来源：《〈中华人民共和国残疾人证〉挂失补办》（知识编号 {article_id}）\n"
                    f"承办单位：云州市民政局\n{PROMPT}")
    assert "《《" not in reply.text


async def test_the_yes_no_question_quotes_the_title_once(kb):
    bot, publish = kb
    article_id = await publish(DISABILITY, "本省持证残疾人的残疾人证遗失，应及时报告残联，声明作废后可申请补办。", "civil",
                               ["残疾人证", "挂失", "补办"])
    asked = await bot.respond(msg("残疾证丢了", user="a2"))
    assert asked.kind == "clarify" and [o["article_id"] for o in asked.options] == [article_id]
    assert asked.text == ("您想了解的是不是《〈中华人民共和国残疾人证〉挂失补办》？"
                          "是请回复 1，不是请回复“提交”反映诉求。")
    assert (await bot.respond(msg("是", user="a2"))).article_id == article_id


async def test_a_list_tells_articles_of_the_same_title_apart_by_unit_else_by_id(kb):
    bot, publish = kb
    body = "律师执业证书注销由司法行政机关审核，需提交注销申请书和执业证书。"
    by_unit = {await publish(LAWYER, body, "police"): "云州市公安局",
               await publish(LAWYER, body + "窗口受理。", "d-yunhu"): "云湖区人民政府"}
    no_unit = await publish(LAWYER, "律师执业证书注销审核，窗口受理。", None)
    listed = await bot.respond(msg("律师执业证怎么注销", user="a3"))
    assert listed.kind == "clarify" and len(listed.options) == 3
    expected = {**{i: f"{LAWYER}（{name}）" for i, name in by_unit.items()}, no_unit: f"{LAWYER}（知识编号 {no_unit}）"}
    lines = listed.text.splitlines()[1:4]
    assert lines == [f"{n}. {expected[o['article_id']]}" for n, o in enumerate(listed.options, 1)]
    assert [o["label"] for o in listed.options] == [expected[o["article_id"]] for o in listed.options]
    assert all(o["title"] == LAWYER for o in listed.options)
    # the one chosen answers, naming its own unit
    n, option = next((n, o) for n, o in enumerate(listed.options, 1) if o["article_id"] in by_unit)
    chosen = await bot.respond(msg(str(n), user="a3"))
    assert chosen.kind == "answer" and chosen.article_id == option["article_id"]
    assert f"\n承办单位：{by_unit[option['article_id']]}\n{PROMPT}" in chosen.text


async def test_an_article_without_a_unit_has_no_unit_line_and_a_wrapped_title_is_not_doubled(kb):
    bot, publish = kb
    article_id = await publish("《云州市古树名木认养办法》", "单位和个人可以认养古树名木，向园林绿化部门提交认养申请书，签订认养协议。",
                               None, ["古树名木", "认养"])
    reply = await bot.respond(msg("古树名木认养怎么申请", user="a4"))
    assert reply.kind == "answer" and reply.article_id == article_id
    assert reply.text.endswith(f"\n\n来源：《云州市古树名木认养办法》（知识编号 {article_id}）\n{PROMPT}")
    assert "承办单位" not in reply.text


async def test_a_long_answer_with_its_unit_still_fits_wechat_in_parts(kb):
    bot, publish = kb
    long_body = "残疾人证遗失的，应及时报告残联并声明作废。" + "补办须知：照片须为近期免冠彩色照片。" * 80
    article_id = await publish(DISABILITY, long_body, "civil", ["残疾人证", "挂失", "补办"])
    reply = await bot.respond(msg("残疾人证丢了怎么补办", user="a5"))
    assert reply.kind == "answer" and reply.article_id == article_id
    assert reply.text.split("\n\n", 1)[0].endswith("……") and len(reply.text.split("\n\n", 1)[0]) == ANSWER_CHARS + 2
    first, rest = passive_and_rest(reply.text)
    assert utf8_len(first) <= MAX_TEXT_BYTES and "承办单位：云州市民政局" in first + rest
