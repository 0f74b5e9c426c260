"""Complaints stated without a question (knowledge/complaint.py) and how the chatbot replies to them.

complaint_cases.csv: messages as citizens type them, 1 for a complaint, report or request for action that asks
nothing, 0 for a question (also one about a problem: 噪音扰民怎么投诉？), a consultation, a greeting, thanks or a
progress query. The dialogue tests run the real chatbot over the demo knowledge base: a complaint is offered
a request first (before the answer, or before the choices), and 提交 files it with its own words.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from knowledge.chat_words import COMPLAINT_LEADS
from knowledge.complaint import is_complaint
from knowledge.tables import kb_chat_log
from tests.knowledge.helpers import demo_bot
from tests.knowledge.test_chatbot import msg

CASES = list(csv.DictReader(Path(__file__).with_name("complaint_cases.csv").open(encoding="utf-8")))
FEEDBACK_PROMPT = "这个回答对您有帮助吗？请回复“有用”或“没用”；仍需反映诉求请回复“提交”。"
NOISE = "来源：《施工噪音扰民投诉》"  # demo-021, which says how to report construction noise


@pytest.mark.parametrize("case", CASES, ids=[c["text"] for c in CASES])
def test_each_labelled_message_is_classified_right(case):
    assert is_complaint(case["text"]) is (case["complaint"] == "1")


def test_the_labelled_set_is_large_and_balanced_and_the_detector_is_cheap():
    labels = [c["complaint"] for c in CASES]
    assert labels.count("1") >= 50 and labels.count("0") >= 50 and set(labels) == {"0", "1"}
    is_complaint("预热")  # the tokenizer is made on first use
    start = time.perf_counter()
    for case in CASES:
        is_complaint(case["text"])
    assert (time.perf_counter() - start) / len(CASES) < 0.001  # well under a millisecond a message


def test_whole_words_only():
    assert is_complaint("物业也不管")
    assert not is_complaint("不管怎样都要先去社区登记")  # 不管 inside 不管怎样
    assert not is_complaint("不管是谁都可以参加")  # 不管 = whoever
    assert is_complaint("垃圾堆了几天了没人清理")  # 几天了 tells, it does not ask
    assert not is_complaint("垃圾几天清运一次")


async def test_a_complaint_with_an_answer_is_offered_a_request_first_and_submit_files_it(engine, clock):
    bot, _ = await demo_bot(engine, clock)
    complaint = "楼下工地夜间施工噪音扰民严重，望处理"
    reply = await bot.respond(msg(complaint))
    assert reply.kind == "answer" and reply.article_id is not None
    assert reply.text.startswith(COMPLAINT_LEADS["answer"]) and reply.text.startswith("您反映的问题可以提交诉求")
    assert NOISE in reply.text and reply.text.endswith(FEEDBACK_PROMPT)
    collect = await bot.respond(msg("提交"))
    assert collect.kind == "collect" and collect.text.endswith("请告诉我们问题发生的地点（区、街道、小区或门牌号）；"
                                                               "与具体地点无关请回复“无”。")
    assert (await bot.respond(msg("云湖区湖滨街道翠柳小区3栋"))).text == "请留下您的联系电话，方便承办单位与您联系。"
    done = await bot.respond(msg("13812345678"))
    assert done.kind == "ticket"
    (sent,) = bot.service.messages
    assert sent.text.startswith(f"{complaint}\n地点：云湖区湖滨街道翠柳小区3栋\n联系电话：13812345678")
    assert "（智能客服曾提供知识《施工噪音扰民投诉》" in sent.text  # as 提交 after any answer


async def test_feedback_on_a_complaints_answer_is_recorded(engine, clock):
    bot, _ = await demo_bot(engine, clock)
    reply = await bot.respond(msg("夜间施工噪音扰民", user="u-feedback"))  # the labelled case: still answered
    assert reply.kind == "answer" and NOISE in reply.text and reply.text.startswith(COMPLAINT_LEADS["answer"])
    assert (await bot.respond(msg("有用", user="u-feedback"))).text == "感谢您的反馈！"
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(kb_chat_log))).one()
    assert row.outcome == "answered" and row.helpful is True and row.article_id == reply.article_id


async def test_the_same_topic_asked_as_a_question_gets_the_plain_answer(engine, clock):
    bot, _ = await demo_bot(engine, clock)
    for n, question in enumerate(("楼下工地夜间施工噪音扰民怎么投诉？", "晚上工地施工太吵怎么投诉")):
        reply = await bot.respond(msg(question, user=f"u-question-{n}"))
        assert reply.kind == "answer" and NOISE in reply.text
        assert not reply.text.startswith("您反映的问题") and "以下信息供您参考" not in reply.text


async def test_a_complaint_given_choices_is_offered_a_request_first_and_submit_files_it(engine, clock):
    bot, _ = await demo_bot(engine, clock)
    complaint = "公司已经拖欠我们三个月工资了"
    reply = await bot.respond(msg(complaint))
    # the submit offer leads; the close article stays offered (the labelled set counts it as help)
    assert reply.kind == "clarify" and reply.options
    assert reply.text.startswith(COMPLAINT_LEADS["clarify"]) and reply.text.startswith("您反映的问题需要相关部门处理")
    collect = await bot.respond(msg("提交"))
    assert collect.kind == "collect" and "地点" in collect.text and "您刚才咨询的是" not in collect.text
    await bot.respond(msg("东山区凤凰街道"))
    assert (await bot.respond(msg("13812345678"))).kind == "ticket"
    (sent,) = bot.service.messages
    assert sent.text.startswith(f"{complaint}\n地点：东山区凤凰街道\n联系电话：13812345678")
    assert "智能客服曾提供知识" not in sent.text  # only offered, never shown


async def test_a_question_given_choices_and_a_complaint_without_article_are_unchanged(engine, clock):
    bot, _ = await demo_bot(engine, clock)
    question = await bot.respond(msg("医保", user="u-topic"))
    assert question.kind == "clarify" and question.text.startswith("您想了解的是以下哪一项")
    nothing = await bot.respond(msg("小区门口占道经营的摊点太多，严重影响通行", user="u-none"))
    assert nothing.kind == "offer" and nothing.text.startswith("暂时没有找到相关答案。需要为您提交诉求")
