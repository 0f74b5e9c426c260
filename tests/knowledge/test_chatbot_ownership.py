"""The web chatbot inside the real app (real TicketService, intake, citizens, router's gazetteer; SQLite and
PostgreSQL): whose tickets a visitor reaches, ticket titles, follow-up questions, a detail sent after filing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline import appkeys
from hotline.citizens import resolve_citizen
from hotline.messages import Identity
from hotline.tables import ticket_messages, tickets
from knowledge.gaps import knowledge_gaps
from tests.knowledge.helpers import demo_app_client, web_say as say

ALICE_PHONE = "13912345678"


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    c = await demo_app_client(aiohttp_client, engine, clock, tmp_path)
    return c


async def alice_files(client) -> str:
    """Alice reports noise, with her own phone in the first message: the ticket is made at once."""
    await say(client, "alice", f"东山区凤凰路工地夜间噪音，联系我{ALICE_PHONE}")
    done = await say(client, "alice", "提交")
    assert done["kind"] == "ticket", done
    return done["ticket_number"]


async def inbound_texts(engine, number: str) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(
            sa.select(ticket_messages.c.text).select_from(ticket_messages.join(
                tickets, tickets.c.id == ticket_messages.c.ticket_id))
            .where(tickets.c.number == number, ticket_messages.c.direction == "in")
            .order_by(ticket_messages.c.id))).scalars())


async def test_typing_another_citizens_phone_gives_no_access_to_their_tickets(client, engine):
    alice_no = await alice_files(client)
    # a stranger files a request and gives Alice's phone number as the contact
    await say(client, "evil1", "小区门口垃圾桶满了没人清理，臭气熏天")
    await say(client, "evil1", "提交")
    await say(client, "evil1", "无")
    filed = await say(client, "evil1", ALICE_PHONE)
    assert filed["kind"] == "ticket"
    evil_no = filed["ticket_number"]
    service = client.app[appkeys.SERVICE]
    evil_ticket = await service.get_ticket_by_number(evil_no)
    # the number is the ticket's contact (the unit can call back) ...
    assert f"联系电话：{ALICE_PHONE}" in evil_ticket["text"]
    # ... but it did not make the stranger Alice
    alice_ticket = await service.get_ticket_by_number(alice_no)
    assert evil_ticket["citizen"]["id"] != alice_ticket["citizen"]["id"]
    assert {"kind": "web", "value": "evil1"} not in [
        {"kind": i["kind"], "value": i["value"]} for i in alice_ticket["citizen"]["identities"]]

    listed = await say(client, "evil1", "查询进度")
    assert evil_no in listed["text"] and alice_no not in listed["text"] and ALICE_PHONE not in listed["text"]
    asked = await say(client, "evil1", alice_no)
    assert asked["text"] == f"未找到您名下的工单 {alice_no}，请核对编号。"
    before = await inbound_texts(engine, alice_no)
    added = await say(client, "evil1", f"{alice_no}的噪音还是没解决，我要加一句：请直接打我电话")
    assert "已将您的补充内容记入工单" not in added["text"] and "当前状态" not in added["text"]
    assert await inbound_texts(engine, alice_no) == before

    # Alice still has hers: the list, the progress, and a follow-up recorded on it
    mine = await say(client, "alice", "查询进度")
    assert mine["text"].startswith(f"您最近的工单：\n1. {alice_no}（东山区凤凰路工地夜间噪音）")
    assert (await say(client, "alice", alice_no))["text"].startswith(f"工单 {alice_no} 当前状态：")
    more = await say(client, "alice", f"{alice_no}的噪音还是没解决，晚上十一点还在施工")
    assert f"已将您的补充内容记入工单 {alice_no}" in more["text"]
    assert (await inbound_texts(engine, alice_no))[-1] == f"{alice_no}的噪音还是没解决，晚上十一点还在施工"


async def test_a_record_merged_earlier_by_a_typed_phone_still_gives_no_access(client, engine, clock):
    """Citizen records merged before this was fixed (a visitor's id joined to someone's phone)."""
    alice_no = await alice_files(client)
    await say(client, "evil2", "你好")
    phone = Identity(kind="phone", value="+86" + ALICE_PHONE)
    async with engine.begin() as conn:  # as the chatbot once did: Alice's typed phone joined her record ...
        await resolve_citizen(conn, [Identity(kind="web", value="alice"), phone], clock.now())
        # ... and then the stranger's, who typed it too
        await resolve_citizen(conn, [Identity(kind="web", value="evil2"), phone], clock.now())
    alice_ticket = await client.app[appkeys.SERVICE].get_ticket_by_number(alice_no)
    assert {"kind": "web", "value": "evil2"} in [
        {"kind": i["kind"], "value": i["value"]} for i in alice_ticket["citizen"]["identities"]]
    listed = await say(client, "evil2", "我的工单")
    assert alice_no not in listed["text"] and listed["text"].startswith("没有找到您名下的工单")
    assert (await say(client, "evil2", alice_no))["text"] == f"未找到您名下的工单 {alice_no}，请核对编号。"
    before = await inbound_texts(engine, alice_no)
    await say(client, "evil2", f"工单号{alice_no}补充：请直接打我电话，工地还在施工")
    assert await inbound_texts(engine, alice_no) == before


async def test_the_title_leaves_out_the_phone_and_the_exact_spot_sent_next_goes_to_the_ticket(client, engine):
    await say(client, "v7", "凤凰路上有个井盖丢了很危险，我电话13611112222")
    done = await say(client, "v7", "提交")
    assert done["kind"] == "ticket" and "已记下您的联系电话" in done["text"]
    number = done["ticket_number"]
    ticket = await client.app[appkeys.SERVICE].get_ticket_by_number(number)
    assert ticket["title"] == "凤凰路上有个井盖丢了很危险"
    assert "联系电话：13611112222" in ticket["text"]
    # the exact spot, sent right after: recorded on that ticket, no question for the knowledge base
    spot = await say(client, "v7", "东山区凤凰路与中山路交叉口")
    assert spot["text"] == f"已将您补充的地点记入工单 {number}，承办单位会一并处理。"
    assert (await inbound_texts(engine, number))[-1] == "东山区凤凰路与中山路交叉口"
    assert all(g["question"] != "东山区凤凰路与中山路交叉口" for g in await knowledge_gaps(engine))
    # only the one detail: a question afterwards is a question again
    again = await say(client, "v7", "东山区凤凰路的路灯归哪个部门管？")
    assert again["kind"] != "progress" and "记入工单" not in again["text"]


async def test_a_follow_up_question_carries_the_earlier_question_and_answer_into_the_ticket(client):
    answer = await say(client, "w3", "住房公积金怎么提取？")
    assert answer["kind"] == "answer"
    article_id = answer["article_id"]
    follow = await say(client, "w3", "那外地人能不能退休前把钱转到老家去")
    assert follow["kind"] in ("offer", "clarify"), follow
    await say(client, "w3", "提交")
    await say(client, "w3", "就是这个")  # a question: the bot asks whether it is the problem to file
    await say(client, "w3", "无")
    done = await say(client, "w3", "我的手机是139 0000 1111")
    assert done["kind"] == "ticket", done
    ticket = await client.app[appkeys.SERVICE].get_ticket_by_number(done["ticket_number"])
    assert ticket["text"].startswith("那外地人能不能退休前把钱转到老家去\n")
    assert (f"（此前咨询：住房公积金怎么提取？，智能客服已答复知识《住房公积金提取条件和材料》（编号 {article_id}））"
            in ticket["text"])


async def test_a_typed_phone_is_the_tickets_contact_and_joins_no_record(client, engine, clock):
    """A number typed in a request is where the ticket's citizen is called back, never proof of who they
    are: it joins no citizen record, even one nobody has, and its owner's own messages stay theirs."""
    from hotline.intake import ingest
    from hotline.messages import InboundMessage
    from hotline.users import create_user, issue_token

    await say(client, "bob", "小区门口的路灯坏了一个星期了")
    await say(client, "bob", "提交")
    await say(client, "bob", "无")
    filed = await say(client, "bob", "13700001111")
    assert filed["kind"] == "ticket", filed
    number = filed["ticket_number"]
    service = client.app[appkeys.SERVICE]
    ticket = await service.get_ticket_by_number(number)
    assert ticket["contact_phone"] == "+8613700001111"
    assert [(i["kind"], i["value"]) for i in ticket["citizen"]["identities"]] == [("web", "bob")]

    # the number's owner texts in, naming that ticket: a new request of theirs, not a message on Bob's
    sms = await ingest(service, InboundMessage(
        channel="sms", external_id="sms-1", sender=Identity(kind="phone", value="+8613700001111"),
        text=f"我没有提过{number}这个诉求，请核实", received_at=clock.now()))
    assert sms.created and sms.ticket_number != number
    theirs = await service.get_ticket_by_number(sms.ticket_number)
    assert theirs["citizen"]["id"] != ticket["citizen"]["id"]
    assert (await inbound_texts(engine, number))[-1].endswith("联系电话：13700001111")

    # agents find Bob's ticket by the number he left, and the caller's own
    async with engine.begin() as conn:
        agent = await issue_token(conn, await create_user(conn, "agent-c", "agent", clock.now()), clock.now())
    resp = await client.get("/api/v1/tickets", params={"phone": "13700001111"},
                            headers={"Authorization": f"Bearer {agent}"})
    assert resp.status == 200, await resp.text()
    assert sorted(t["number"] for t in (await resp.json())["items"]) == sorted([number, sms.ticket_number])
