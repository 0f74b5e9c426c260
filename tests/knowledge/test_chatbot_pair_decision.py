"""The answer decision is made on what is shown: an FAQ article's pair, the asked place, the asked qualifier.

* An FAQ article answers only with a pair that passes the checks itself (knowledge.confidence.MatchScorer
  .judge_shown): sibling pairs of one FAQ share most words, so the article passing them says nothing about
  the pair. Otherwise the bot asks which of the article's questions is meant.
* A question naming another region than a place-specific article's is not answered from it.
* A question qualifying the article's topic by a word the article lacks (城乡居民养老保险 against
  城乡居民医保) is not answered directly.
"""

from __future__ import annotations

import pytest

from knowledge.confidence import MatchScorer
from knowledge.synonyms import SynonymSet
from knowledge.tokenize import Tokenizer
from tests.knowledge.helpers import demo_bot
from tests.knowledge.test_chatbot import msg


@pytest.fixture(scope="module")
def scorer() -> MatchScorer:
    synonyms = SynonymSet()
    return MatchScorer(Tokenizer(synonyms.terms()), synonyms)


# -- the scorer's new checks -------------------------------------------------------

@pytest.mark.parametrize("question, thing", [
    ("举报违规聚集的人有何奖励？", "奖励"),
    ("企业复工审批流程是什么？", "流程"),
    ("贴息贷款的额度是多少", "额度"),
    ("采用何种方式接送返岗员工？", "方式"),
    ("办理居住证要准备哪些材料", "材料"),
    ("燃气费怎么缴纳", None),  # asks how: the act check's matter
    ("社保卡丢了", None),  # asks nothing
])
def test_the_thing_a_what_question_asks_for(scorer, question, thing):
    assert scorer.asked_thing(question) == thing


@pytest.mark.parametrize("question, text, topic, qualifier", [
    # the shared 城乡居民 qualifies another insurance than the article's
    ("城乡居民养老保险在哪里交", "城乡居民医保参保缴费 城乡居民可参加基本医疗保险，每年集中缴费。",
     "城乡居民医保参保缴费", "养老保险"),
    # whose parking fee: a hospital's, not a residential compound's
    ("市第一医院的停车费怎么这么贵", "小区停车收费标准 住宅小区的停车服务收费由物业公示。", "小区停车收费标准", "医院"),
    ("小区的停车费标准是多少", "小区停车收费标准 住宅小区的停车服务收费由物业公示。", "小区停车收费标准", None),
    # a story around the question is not what is asked (问问 is no noun either)
    ("我家楼下新开了一家超市。想问问小区停车费标准是多少", "小区停车收费标准 住宅小区的停车服务收费。",
     "小区停车收费标准", None),
])
def test_a_qualifier_of_the_topic_that_the_article_lacks(scorer, question, text, topic, qualifier):
    assert scorer.lacking_qualifier(question, text, topic) == qualifier


def test_the_shown_pair_is_judged_not_the_article(scorer):
    title = "疫情防控举报常见问题"
    right = scorer.judge_shown("举报不戴口罩的人有何奖励", "举报有奖励吗？查实后给予举报人500元奖励。", title, title)
    sibling = scorer.judge_shown("举报不戴口罩的人有何奖励", "如何举报不戴口罩的人？拨打12345举报。", title, title)
    assert not right.lacks_thing and sibling.lacks_thing
    # the asked fact must be in the pair shown, not elsewhere in the article
    when = scorer.judge_shown("企业复工时间是哪天", "企业复工如何管理员工？建立员工健康台账。", title, title)
    assert when.lacks_fact


# -- through the chatbot -----------------------------------------------------------

REPORT_TITLE = "疫情防控违规行为举报常见问题"
REPORT_PAIRS = [
    "如何举报不执行防控规定的人员？拨打12345热线或向所在社区举报。",
    "举报后多久会处理？接到举报后24小时内核查处理。",
    "举报人的信息会保密吗？举报人信息严格保密，不对外公开。",
]


@pytest.fixture
async def report_faq(engine, clock):
    bot, publish = await demo_bot(engine, clock)
    article_id = await publish(REPORT_TITLE, "".join(f"<p>{p}</p>" for p in REPORT_PAIRS), "police",
                               ["举报", "防控"])
    return bot, article_id


async def test_a_sibling_pair_of_the_faq_is_no_answer_the_bot_asks_which_question_is_meant(report_faq):
    bot, article_id = report_faq
    # the article matches well, and its first pair shares all but the asked thing (奖励)
    reply = await bot.respond(msg("举报不执行防控规定的人员有什么奖励？"))
    assert reply.kind == "clarify" and "12345热线" not in reply.text
    assert reply.options and all(o["article_id"] == article_id for o in reply.options)
    assert reply.options[0]["label"] == "如何举报不执行防控规定的人员？"
    assert "1. 如何举报不执行防控规定的人员？" in reply.text and "都不是请回复“提交”" in reply.text
    # choosing a question answers with its pair
    chosen = await bot.respond(msg("1"))
    assert chosen.kind == "answer" and chosen.article_id == article_id
    assert chosen.text.startswith("如何举报不执行防控规定的人员？拨打12345热线") and "24小时" not in chosen.text


async def test_the_faq_pair_asked_about_still_answers(report_faq):
    bot, article_id = report_faq
    reply = await bot.respond(msg("防控违规行为举报后多久会处理"))
    assert reply.kind == "answer" and reply.article_id == article_id
    assert reply.text.startswith("举报后多久会处理？接到举报后24小时内核查处理。\n\n"), reply.text


async def test_a_question_about_another_region_is_not_answered_from_the_local_article(engine, clock):
    bot, _ = await demo_bot(engine, clock)
    local = await bot.respond(msg("高龄津贴怎么申领", user="u-local"))
    assert local.kind == "answer"  # the demo article, about 云州市
    for question in ("上海市高龄津贴怎么申领", "浙江省的高龄津贴怎么申领"):
        reply = await bot.respond(msg(question, user=f"u-{question}"))
        assert reply.kind == "offer" and "提交" in reply.text, question


@pytest.mark.parametrize("question", [
    "城乡居民养老保险在哪里交",  # the article is on 城乡居民医保
    "市中心医院的停车费怎么收",  # the article is on 小区停车收费
])
async def test_a_differing_qualifier_is_not_answered_directly(engine, clock, question):
    bot, _ = await demo_bot(engine, clock)
    reply = await bot.respond(msg(question))
    assert reply.kind != "answer"


async def test_an_article_of_one_question_is_judged_as_its_pair(engine, clock):
    bot, publish = await demo_bot(engine, clock)
    title = "企业复工审批需要提交哪些材料？"
    article_id = await publish(title, f"<p>{title}提交复工申请表、防控方案和员工健康台账。</p>", "hrss",
                               ["复工", "审批"])
    asked = await bot.respond(msg("企业复工审批需要提交哪些材料", user="u-materials"))
    assert asked.kind == "answer" and asked.article_id == article_id
    # the same words but another thing asked for (证明 is not named): no answer, the article is offered
    other = await bot.respond(msg("企业复工审批需要提交哪些证明？", user="u-proof"))
    assert other.kind == "clarify" and "复工申请表" not in other.text
    # nor a time the article does not state
    days = await bot.respond(msg("企业复工审批需要多少天", user="u-days"))
    assert days.kind != "answer"
