"""An FAQ article answers with the one question-answer pair asked about (knowledge.faq_answer)."""

from __future__ import annotations

import pytest

from knowledge.confidence import MatchScorer
from knowledge.faq_answer import FaqPair, choose_pair, faq_pairs
from knowledge.synonyms import SynonymSet
from knowledge.tokenize import Tokenizer
from tests.knowledge.helpers import demo_bot
from tests.knowledge.test_chatbot import msg

GAS_FAQ = "\n".join([
    "燃气表不走字怎么办？联系燃气公司上门检测更换。",
    "燃气费怎么缴纳？可在手机银行或营业厅缴纳。",
    "燃气管道改装要申请吗？须向燃气公司申请，由专业人员施工。",
    "施工完成后须经验收方可通气。",
])


@pytest.fixture(scope="module")
def scorer() -> MatchScorer:
    synonyms = SynonymSet()
    return MatchScorer(Tokenizer(synonyms.terms()), synonyms)


# -- splitting ------------------------------------------------------------------

def test_splits_question_answer_lines_with_answers_running_over_following_lines():
    assert faq_pairs("燃气服务", GAS_FAQ) == [
        FaqPair("燃气表不走字怎么办？", "燃气表不走字怎么办？联系燃气公司上门检测更换。"),
        FaqPair("燃气费怎么缴纳？", "燃气费怎么缴纳？可在手机银行或营业厅缴纳。"),
        FaqPair("燃气管道改装要申请吗？",
                "燃气管道改装要申请吗？须向燃气公司申请，由专业人员施工。\n施工完成后须经验收方可通气。"),
    ]


def test_splits_ask_and_answer_style_where_an_answer_line_may_hold_a_question_mark():
    body = "\n".join([
        "问：居住证在哪里办理？",
        "答：到居住地派出所办理。",
        "问：居住证需要什么材料？",
        "答：您是否已登记居住信息？已登记的带身份证即可。",  # an answer line, not a new question
        "未登记的须先登记。",
        "问：居住证多久能拿到？",
        "答：十五个工作日。",
    ])
    pairs = faq_pairs("居住证常见问题", body)
    assert [p.question for p in pairs] == ["居住证在哪里办理？", "居住证需要什么材料？", "居住证多久能拿到？"]
    assert pairs[1].text == "问：居住证需要什么材料？\n答：您是否已登记居住信息？已登记的带身份证即可。\n未登记的须先登记。"
    assert pairs[2].text == "问：居住证多久能拿到？\n答：十五个工作日。"


def test_text_before_the_first_question_belongs_to_no_pair():
    body = "为方便市民办理燃气业务，现将常见问题解答如下。\n以下内容自2026年1月起施行。\n" + GAS_FAQ
    pairs = faq_pairs("燃气服务", body)
    assert [p.question for p in pairs] == ["燃气表不走字怎么办？", "燃气费怎么缴纳？", "燃气管道改装要申请吗？"]
    assert all("常见问题解答" not in p.text and "2026年" not in p.text for p in pairs)


def test_a_body_that_is_no_faq_has_no_pairs():
    prose = "燃气泄漏时请立即关闭阀门，打开门窗通风。\n不要开关电器，到户外拨打抢修电话。"
    assert faq_pairs("燃气泄漏应急处置", prose) == []
    # one question line is no FAQ either, nor a question that only repeats the title
    assert faq_pairs("燃气泄漏怎么办？", "燃气泄漏怎么办？\n燃气表不走字怎么办？联系燃气公司。\n关闭阀门。") == []
    assert faq_pairs("燃气", "") == []


# -- choosing -------------------------------------------------------------------

@pytest.mark.parametrize("question, expected", [
    ("燃气表不走字怎么办", "燃气表不走字怎么办？"),
    ("我家想改燃气管道需要审批吗", "燃气管道改装要申请吗？"),
    ("煤气费在哪交", "燃气费怎么缴纳？"),  # a synonym (煤气 -> 燃气) and a word of the question (费)
])
def test_chooses_the_pair_whose_question_matches(scorer, question, expected):
    chosen = choose_pair(scorer, question, faq_pairs("燃气服务", GAS_FAQ))
    assert chosen is not None and chosen.question == expected


@pytest.mark.parametrize("question", [
    "燃气泄漏怎么办",  # only 燃气 (every question has it) and filler (怎么办) in common
    "燃气",
    "燃气费怎么缴纳，燃气表不走字怎么办",  # two pairs asked about equally
    "火星移民签证",  # nothing in common
])
def test_no_pair_when_none_is_clearly_best(scorer, question):
    assert choose_pair(scorer, question, faq_pairs("燃气服务", GAS_FAQ)) is None


def test_no_choice_among_fewer_than_two_pairs(scorer):
    assert choose_pair(scorer, "燃气费怎么缴纳", []) is None
    assert choose_pair(scorer, "燃气费怎么缴纳", [FaqPair("燃气费怎么缴纳？", "燃气费怎么缴纳？营业厅。")]) is None


# -- through the chatbot ------------------------------------------------------------

EBIKE_TITLE = "电动自行车登记上牌常见问题"
EBIKE_PAIRS = [
    ("电动自行车在哪里登记上牌？", ["到各区车管所或指定销售网点办理登记上牌。"]),
    ("电动自行车上牌需要带什么材料？", ["携带身份证、购车发票和车辆合格证。"]),
    ("电动自行车号牌丢了怎么补领？", ["携带身份证和行驶证到车管所申请补领。", "补领号牌免费，当场发放。"]),
    ("外地购买的电动自行车能在本市上牌吗？", ["符合国家标准的车辆可以登记上牌。"]),
]


@pytest.fixture
async def faq_bot(engine, clock):
    bot, publish = await demo_bot(engine, clock)

    async def publish_paragraphs(title: str, paragraphs: list[str], keywords: list[str]) -> int:
        return await publish(title, "".join(f"<p>{p}</p>" for p in paragraphs), "police", keywords)

    return bot, publish_paragraphs


async def test_an_faq_article_answers_with_the_pair_asked_about(faq_bot):
    bot, publish = faq_bot
    paragraphs = []  # 问：question / 答：answer, the third answer over two paragraphs
    for question, (first, *more) in EBIKE_PAIRS:
        paragraphs += [f"问：{question}", f"答：{first}", *more]
    article_id = await publish(EBIKE_TITLE, paragraphs, ["电动自行车", "号牌", "上牌"])
    reply = await bot.respond(msg("电动自行车号牌丢了怎么补领？"))
    assert reply.kind == "answer" and reply.article_id == article_id
    answer, source = reply.text.split("\n\n", 1)
    assert answer == "问：电动自行车号牌丢了怎么补领？\n答：携带身份证和行驶证到车管所申请补领。\n补领号牌免费，当场发放。"
    assert "销售网点" not in reply.text and "购车发票" not in reply.text  # the other pairs' answers
    assert source.startswith(f"来源：《{EBIKE_TITLE}》（知识编号 {article_id}）\n") and "有帮助吗" in source
    assert (await bot.respond(msg("有用"))).kind == "feedback"  # the feedback dialogue goes on as for any answer


async def test_an_faq_article_asked_about_no_one_pair_answers_from_its_start(faq_bot):
    bot, publish = faq_bot
    article_id = await publish(EBIKE_TITLE, [f"{q}{a[0]}" for q, a in EBIKE_PAIRS[:3]],
                               ["电动自行车", "号牌", "上牌"])
    reply = await bot.respond(msg("电动自行车上牌常见问题"))  # 上牌: the first two pairs alike
    assert reply.kind == "answer" and reply.article_id == article_id
    assert reply.text.startswith("电动自行车在哪里登记上牌？到各区车管所或指定销售网点办理登记上牌。\n"
                                 "电动自行车上牌需要带什么材料？")


async def test_a_long_pair_is_cut_and_still_shows_no_other_pair(faq_bot):
    bot, publish = faq_bot
    long_answer = "携带身份证和行驶证到车管所申请补领。" + "补领须知：" + "号牌须按规定安装在车尾。" * 60
    pairs = [*EBIKE_PAIRS[:2], (EBIKE_PAIRS[2][0], [long_answer]), EBIKE_PAIRS[3]]
    article_id = await publish(EBIKE_TITLE, [f"{q}{a[0]}" for q, a in pairs], ["电动自行车", "号牌", "上牌"])
    reply = await bot.respond(msg("电动自行车号牌丢了怎么补领"))
    assert reply.kind == "answer" and reply.article_id == article_id
    answer = reply.text.split("\n\n", 1)[0]
    assert answer.startswith("电动自行车号牌丢了怎么补领？携带身份证") and answer.endswith("……")
    assert len(answer) == 600 + len("……") and "销售网点" not in reply.text
    assert f"来源：《{EBIKE_TITLE}》（知识编号 {article_id}）" in reply.text
