"""The web chatbot inside the real app (demo knowledge base, real TicketService): findings of an exploratory test.

1. After an answer, 没用 then 提交 no longer files the earlier *question* as the problem without asking; a
   problem told in answer to "where" is not taken for the place.
2. The owner of a replied ticket rates it (满意/基本满意/不满意) through the callback transition.
3. Progress of a replied ticket shows the unit's reply; 进度怎么样了 … ask for progress.
4. The phone step says why a number is needed and takes "不留"; a note or a second number is kept.
"""

from __future__ import annotations

import types

import pytest
import sqlalchemy as sa

from hotline import appkeys
from hotline.tables import outbox, tickets
from hotline.users import Actor
from knowledge.articles import ArticleService
from knowledge.importer import Columns, import_file
from tests.knowledge.helpers import EDITOR, demo_app_client, web_say as say

AGENT = Actor(username="agent1", role="agent")
EBIKE = ("id,title,body,category,unit,keywords\n"
         "r7-ebike,电动自行车停放充电常见问题,"
         "\"<p>问：电动自行车可以在楼道里充电吗？</p><p>答：不可以。电动自行车不得在建筑物的公共门厅、疏散走道、"
         "楼梯间、安全出口停放或充电，应到小区集中充电点充电。</p>"
         "<p>问：小区没有充电桩怎么办？</p><p>答：可向物业或社区申请建设集中充电设施。</p>\","
         "C010202,housing,电动自行车、楼道充电、充电桩\n")


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    c = await demo_app_client(aiohttp_client, engine, clock, tmp_path)
    path = tmp_path / "ebike.csv"
    path.write_text(EBIKE, encoding="utf-8")
    articles = ArticleService(engine, clock, index=c.app[appkeys.SEARCH])
    report = await import_file(articles, EDITOR, path, Columns("id", "title", "body", "category", "unit", "keywords"))
    assert report.failed == [] and report.created == 1
    return c


async def ticket_of(client, number: str) -> dict:
    return await client.app[appkeys.SERVICE].get_ticket_by_number(number)


# -- 1. an earlier question is no problem description --------------------------------------------------------

async def test_after_an_unhelpful_answer_the_bot_asks_for_the_problem_before_the_place(client):
    answer = await say(client, "e1", "电动自行车可以在楼道里充电吗")
    assert answer["kind"] == "answer" and "不可以" in answer["text"], answer
    assert (await say(client, "e1", "没用"))["kind"] == "offer"
    asked = await say(client, "e1", "提交")
    assert asked["kind"] == "collect" and "地点" not in asked["text"]
    assert "您刚才咨询的是：“电动自行车可以在楼道里充电吗”。请简要描述您要反映的问题" in asked["text"]
    assert asked["text"].endswith("如要按刚才的问题提交，请回复“就是这个”。")
    # the citizen tells the problem: it is the problem, and the bot asks where
    where = await say(client, "e1", "我们楼道里天天有人给电动车充电，物业不管")
    assert where["kind"] == "collect" and "地点" in where["text"]
    contact = await say(client, "e1", "西湖小区3栋2单元")
    assert contact["kind"] == "collect" and "联系电话" in contact["text"]
    done = await say(client, "e1", "13812345678")
    assert done["kind"] == "ticket", done
    ticket = await ticket_of(client, done["ticket_number"])
    assert ticket["text"].startswith("我们楼道里天天有人给电动车充电，物业不管\n地点：西湖小区3栋2单元\n"
                                     "联系电话：13812345678\n")
    assert "（此前咨询：电动自行车可以在楼道里充电吗）" in ticket["text"]
    assert "（智能客服曾提供知识《电动自行车停放充电常见问题》" in ticket["text"]
    assert ticket["title"] == "我们楼道里天天有人给电动车充电，物业不管"
    assert ticket["address"] == "西湖小区3栋2单元" and ticket["contact_phone"] == "+8613812345678"


async def test_the_question_kept_and_a_problem_told_for_the_place_is_the_problem(client):
    await say(client, "e2", "电动自行车可以在楼道里充电吗")
    await say(client, "e2", "提交")
    where = await say(client, "e2", "就是这个")
    assert where["kind"] == "collect" and "地点" in where["text"]
    # no place in it, and it tells the problem: it becomes the problem, and the place is asked again
    again = await say(client, "e2", "我们楼道里天天有人给电动车充电，物业不管")
    assert again["kind"] == "collect" and again["text"].startswith("已将您的描述记为要反映的问题。")
    assert "地点" in again["text"] and "联系电话" not in again["text"]
    # the real address is the place, not refused as a bad phone number
    contact = await say(client, "e2", "东山区凤凰路12号3栋")
    assert contact["kind"] == "collect" and "联系电话" in contact["text"]
    done = await say(client, "e2", "13812345678")
    assert done["kind"] == "ticket", done
    ticket = await ticket_of(client, done["ticket_number"])
    assert ticket["text"].startswith("我们楼道里天天有人给电动车充电，物业不管\n地点：东山区凤凰路12号3栋\n")
    assert "（此前咨询：电动自行车可以在楼道里充电吗）" in ticket["text"]


async def test_a_place_answering_the_question_about_the_problem_keeps_the_question(client):
    await say(client, "e3", "电动自行车可以在楼道里充电吗")
    await say(client, "e3", "提交")
    contact = await say(client, "e3", "西湖小区3栋楼下")  # a place: the question is the problem
    assert contact["kind"] == "collect" and "已记下地点：西湖小区3栋楼下" in contact["text"]
    assert "联系电话" in contact["text"]
    done = await say(client, "e3", "13812345678")
    ticket = await ticket_of(client, done["ticket_number"])
    assert ticket["text"].startswith("电动自行车可以在楼道里充电吗\n地点：西湖小区3栋楼下\n联系电话：13812345678")
    assert "此前咨询" not in ticket["text"]


async def test_a_problem_told_before_submitting_is_not_asked_again(client):
    await say(client, "e4", "我家楼下的烧烤摊每天半夜油烟很大")
    where = await say(client, "e4", "提交")
    assert where["text"].endswith("请告诉我们问题发生的地点（区、街道、小区或门牌号）；与具体地点无关请回复“无”。")


# -- 2. rating a replied ticket --------------------------------------------------------------------------------

async def file_and_reply(client, user: str, reply: str) -> str:
    await say(client, user, "东山区凤凰路上井盖松动，车一过就响，我电话13611112222")
    done = await say(client, user, "提交")
    assert done["kind"] == "ticket", done
    number = done["ticket_number"]
    service = client.app[appkeys.SERVICE]
    async with service.engine.connect() as conn:
        urban = (await conn.execute(sa.text("SELECT id FROM units WHERE code = 'urban'"))).scalar_one()
    unit = Actor(username="urban-user", role="unit", unit_id=urban)
    await service.transition(number, "dispatch", AGENT, {"lead_unit": "urban"})
    await service.transition(number, "sign", unit)
    await service.transition(number, "reply", unit, {"text": reply})
    assert (await ticket_of(client, number))["state"] == "replied"
    return number


async def run_callback_job(client, engine, clock) -> None:
    """The job the relay runs for the ticket.callback event (close, or reopen with the reason)."""
    from hotline.jobs.tasks import callback_result

    async with engine.connect() as conn:
        outbox_id = (await conn.execute(sa.select(outbox.c.id).where(outbox.c.topic == "ticket.callback")
                                        .order_by(outbox.c.id.desc()))).scalars().first()
    ctx = types.SimpleNamespace(engine=engine, service=client.app[appkeys.SERVICE], now=clock.now)
    await callback_result(ctx, outbox_id)


async def test_the_owner_rates_a_replied_ticket_by_number_and_dissatisfied_reopens_it(client, engine, clock):
    number = await file_and_reply(client, "r1", "已安排维修人员于12月5日更换井盖，联系电话02388800000。")
    # someone else cannot rate it
    other = await say(client, "r2", f"{number} 答复我不满意，井盖还是松的")
    assert "感谢您的评价" not in other["text"]
    assert (await ticket_of(client, number))["satisfaction"] is None

    rated = await say(client, "r1", f"{number} 答复我不满意，井盖还是松的")
    assert rated["kind"] == "progress" and rated["ticket_number"] == number
    assert rated["text"].startswith(f"感谢您的评价！工单 {number} 已记录为“不满意”。工单将退回承办单位重新办理")
    ticket = await ticket_of(client, number)
    assert ticket["state"] == "callback_done" and ticket["satisfaction"] == "不满意"
    assert ticket["events"][-1]["action"] == "callback" and ticket["events"][-1]["note"] == "答复我不满意，井盖还是松的"
    await run_callback_job(client, engine, clock)
    ticket = await ticket_of(client, number)
    assert ticket["state"] == "dispatched" and ticket["reopen_count"] == 1
    assert "重办原因：答复我不满意，井盖还是松的" in [m["text"] for m in ticket["messages"]]


async def test_satisfied_right_after_the_progress_of_a_replied_ticket_rates_it(client, engine, clock):
    number = await file_and_reply(client, "r3", "井盖已更换并固定。")
    progress = await say(client, "r3", number)
    assert progress["text"] == (f"工单 {number} 当前状态：已答复，承办单位：{(await ticket_of(client, number))['lead_unit_name']}。"
                                "\n答复内容：井盖已更换并固定。"
                                "\n对办理结果是否满意？请回复“满意”“基本满意”或“不满意”（可附上原因）。")
    rated = await say(client, "r3", "满意")
    assert rated["text"] == f"感谢您的评价！工单 {number} 已记录为“满意”。"
    assert (await ticket_of(client, number))["satisfaction"] == "满意"
    await run_callback_job(client, engine, clock)
    assert (await ticket_of(client, number))["state"] == "closed"
    # the progress now shows the rating, and asks no more
    after = await say(client, "r3", f"{number}办得怎么样了")
    assert "您的评价：满意" in after["text"] and "答复内容：井盖已更换并固定。" in after["text"]
    assert "请回复“满意”" not in after["text"]


async def test_a_long_reply_is_cut_in_the_progress(client):
    number = await file_and_reply(client, "r4", "经现场核查，" + "井盖已重新固定" * 60)
    progress = await say(client, "r4", f"查询{number}")
    reply_line = next(line for line in progress["text"].splitlines() if line.startswith("答复内容："))
    assert reply_line.endswith("……") and len(reply_line) == len("答复内容：") + 300 + 2
    # a question after the progress that mentions 不满意 is no rating of the ticket
    asked = await say(client, "r4", "我对物业服务不满意怎么投诉")
    assert "感谢您的评价" not in asked["text"]
    assert (await ticket_of(client, number))["satisfaction"] is None
    # a bare 不满意 with a reason is: recorded as the callback answer, the reason with it
    rated = await say(client, "r4", "查询" + number) and await say(client, "r4", "不满意，井盖还是松的")
    assert rated["text"].startswith(f"感谢您的评价！工单 {number} 已记录为“不满意”。")
    ticket = await ticket_of(client, number)
    assert ticket["satisfaction"] == "不满意" and ticket["events"][-1]["note"] == "不满意，井盖还是松的"


# -- 3. progress in everyday words -------------------------------------------------------------------------------

@pytest.mark.parametrize("words", ["进度怎么样了", "办得怎么样了", "有结果了吗"])
async def test_everyday_progress_questions_list_the_citizens_tickets(client, engine, words):
    await say(client, "p1", "东山区凤凰路上井盖松动，车一过就响，我电话13611112222")
    done = await say(client, "p1", "提交")
    listed = await say(client, "p1", words)
    assert listed["kind"] == "progress" and listed["text"].startswith(f"您最近的工单：\n1. {done['ticket_number']}")
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar_one() == 1


# -- 4. the phone step -------------------------------------------------------------------------------------------

async def up_to_the_phone(client, user: str) -> None:
    await say(client, user, "提交")
    await say(client, user, "小区门口的路灯坏了一个星期了")
    asked = await say(client, user, "西湖小区3栋楼下")
    assert "联系电话" in asked["text"]


async def test_a_citizen_may_decline_to_leave_a_phone_number(client):
    await up_to_the_phone(client, "c1")
    why = await say(client, "c1", "无")
    assert why["kind"] == "collect" and "格式不正确" not in why["text"]
    assert "回电" in why["text"] and "回访" in why["text"] and "回复“不留”" in why["text"]
    done = await say(client, "c1", "不想留")
    assert done["kind"] == "ticket", done
    ticket = await ticket_of(client, done["ticket_number"])
    assert ticket["text"].startswith("小区门口的路灯坏了一个星期了\n地点：西湖小区3栋楼下\n联系电话：未提供")
    assert ticket["contact_phone"] is None


async def test_a_wrong_number_is_told_so_and_declining_files_without_one(client):
    await up_to_the_phone(client, "c2")
    wrong = await say(client, "c2", "1381234")
    assert wrong["text"].startswith("电话号码格式不正确。") and "回复“不留”" in wrong["text"]
    done = await say(client, "c2", "不留")
    assert done["kind"] == "ticket"
    assert (await ticket_of(client, done["ticket_number"]))["contact_phone"] is None


async def test_what_is_said_with_the_number_is_kept_beside_it(client):
    await up_to_the_phone(client, "c3")
    done = await say(client, "c3", "我的电话是13812345678，白天打")
    ticket = await ticket_of(client, done["ticket_number"])
    assert "\n联系电话：13812345678（白天打）" in ticket["text"] and ticket["contact_phone"] == "+8613812345678"

    await up_to_the_phone(client, "c4")
    done = await say(client, "c4", "13800138000 或 13900139000")
    ticket = await ticket_of(client, done["ticket_number"])
    assert "\n联系电话：13800138000（或 13900139000）" in ticket["text"] and ticket["contact_phone"] == "+8613800138000"
