"""Intake: every accepted message in exactly one ticket, even when delivered again or concurrently."""

import asyncio
import datetime as dt

import sqlalchemy as sa

from hotline.messages import Attachment, Identity, InboundMessage
from hotline.tables import attachments, ticket_messages, tickets

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)


def msg(external_id="m1", text="东山区松林路垃圾三天没人清运了", sender="o_openid_1", channel="wechat", **kw):
    return InboundMessage(channel=channel, external_id=external_id,
                          sender=Identity(kind="wechat" if channel == "wechat" else "email", value=sender),
                          text=text, received_at=NOW, **kw)


async def counts(service):
    async with service.engine.connect() as conn:
        t = (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar_one()
        m = (await conn.execute(sa.select(sa.func.count()).select_from(ticket_messages)
                                .where(ticket_messages.c.direction == "in"))).scalar_one()
    return t, m


async def test_same_message_three_times_concurrently_gives_one_ticket(service):
    before = await counts(service)
    results = await asyncio.gather(*(service.ingest(msg()) for _ in range(3)))
    assert len({r.ticket_number for r in results}) == 1
    assert sorted(r.created for r in results) == [False, False, True]
    assert sum(r.duplicate for r in results) == 2
    again = await service.ingest(msg())
    assert again.duplicate and again.ticket_number == results[0].ticket_number
    after = await counts(service)
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)


async def test_follow_up_with_ticket_number_threads_into_the_open_ticket(service):
    first = await service.ingest(msg("m1"))
    follow = await service.ingest(msg("m2", text=f"请问工单{first.ticket_number}处理得怎么样了？"))
    assert follow.threaded and follow.ticket_id == first.ticket_id and not follow.created
    # Another citizen quoting the number does not get into someone else's ticket.
    stranger = await service.ingest(msg("m3", text=f"我也有问题 {first.ticket_number}", sender="o_other"))
    assert stranger.created and stranger.ticket_id != first.ticket_id
    ticket = await service.get_ticket(first.ticket_number)
    assert [m["text"][:2] for m in ticket["messages"]] == ["东山", "请问"]


async def test_same_conversation_and_reply_to_thread(service):
    first = await service.ingest(msg("e1", channel="email", sender="citizen@example.cn", thread_hint="conv-9"))
    same = await service.ingest(msg("e2", channel="email", sender="citizen@example.cn", text="补充：还有异味",
                                    thread_hint="conv-9"))
    assert same.threaded and same.ticket_id == first.ticket_id
    # An outbound mail we sent, and a reply referring to it (even from another address).
    async with service.engine.begin() as conn:
        await conn.execute(sa.insert(ticket_messages).values(
            ticket_id=first.ticket_id, direction="out", channel="email", external_id="<out-1@12345.gov.cn>",
            author="platform", text="已受理", attachments=[], created_at=NOW))
    reply = await service.ingest(msg("e3", channel="email", sender="family@example.cn", text="谢谢",
                                     reply_to=("<out-1@12345.gov.cn>",)))
    assert reply.threaded and reply.ticket_id == first.ticket_id


async def test_a_burst_of_messages_of_one_conversation_gives_one_ticket(service):
    results = await asyncio.gather(*(
        service.ingest(msg(f"burst-{i}", channel="email", sender="burst@example.cn", text=f"第{i}条：井盖丢失",
                           thread_hint="conv-burst")) for i in range(5)))
    assert len({r.ticket_id for r in results}) == 1
    assert sum(r.created for r in results) == 1 and sum(r.threaded for r in results) == 4
    async with service.engine.connect() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).select_from(ticket_messages).where(
            ticket_messages.c.ticket_id == results[0].ticket_id))).scalar_one()
    assert count == 5


async def test_closed_ticket_is_not_reopened_by_a_new_message(service):
    from hotline.users import Actor

    first = await service.ingest(msg("c1"))
    await service.transition(first.ticket_number, "answer", Actor("a", "agent"), {"answer": "已答复"})
    later = await service.ingest(msg("c2", text=f"关于{first.ticket_number}还有新问题"))
    assert later.created and later.ticket_id != first.ticket_id


async def test_attachments_are_stored_and_linked(service, settings):
    data = "现场照片".encode() * 100
    result = await service.ingest(msg("a1", attachments=(Attachment(filename="照片.jpg", content_type="image/jpeg",
                                                                     data=data),)))
    ticket = await service.get_ticket(result.ticket_number)
    assert ticket["attachments"] == [{"id": ticket["attachments"][0]["id"], "filename": "照片.jpg",
                                      "content_type": "image/jpeg", "size": len(data)}]
    async with service.engine.connect() as conn:
        path = (await conn.execute(sa.select(attachments.c.path))).scalar_one()
    with open(path, "rb") as fh:
        assert fh.read() == data


async def test_a_failed_intake_leaves_nothing_half_written(service):
    before = await counts(service)
    huge = Attachment(filename="big.bin", data=b"0" * (20 * 1024 * 1024 + 1))
    try:
        await service.ingest(msg("big", attachments=(huge,)))
    except Exception as exc:  # noqa: BLE001
        assert "超过" in str(exc)
    else:
        raise AssertionError("oversize attachment accepted")
    assert await counts(service) == before
    # The same message can be delivered again later (without the oversize part) and is accepted once.
    ok = await service.ingest(msg("big"))
    assert ok.created and await counts(service) == (before[0] + 1, before[1] + 1)


async def test_unit_users_see_sender_identities_and_numbers_in_text_masked(service):
    from hotline.users import Actor
    from hotline.views import load_ticket
    from tests.core.test_service import DISPATCHER, unit_actor

    result = await service.ingest(InboundMessage(
        channel="sms", external_id="sms-1", sender=Identity(kind="phone", value="+8613812345678"),
        text="井盖丢失，请回电 +86 139-1234-5678 或 8613912345679", received_at=NOW))
    await service.transition(result.ticket_number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    housing = await unit_actor(service, "housing")
    async with service.engine.connect() as conn:
        ticket_id = (await conn.execute(sa.select(tickets.c.id).where(
            tickets.c.number == result.ticket_number))).scalar_one()
        seen = await load_ticket(service, conn, ticket_id, housing)
        staff = await load_ticket(service, conn, ticket_id, Actor("agent1", "agent"))
    [inbound] = [m for m in seen["messages"] if m["direction"] == "in"]
    assert inbound["author"] == "phone:138****5678"
    assert inbound["text"] == "井盖丢失，请回电 139****5678 或 139****5679"
    assert "12345678" not in str(seen) and "1234-5678" not in str(seen)
    assert [m["author"] for m in staff["messages"] if m["direction"] == "in"] == ["phone:+8613812345678"]


async def test_a_contact_phone_is_kept_on_the_ticket_masked_for_units_and_checked(service):
    from hotline.actions import InvalidParams
    from hotline.users import Actor
    from hotline.views import load_ticket
    from tests.core.test_service import DISPATCHER, unit_actor

    text = "楼下饭店油烟太大了熏得家里没法开窗我电话13812345678请回电"  # 30 characters end inside the number
    result = await service.ingest(msg("c1", text=text, contact_phone="０２３－８８１２３４５６"))
    assert result.created
    await service.transition(result.ticket_number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    housing = await unit_actor(service, "housing")
    async with service.engine.connect() as conn:
        ticket_id = (await conn.execute(sa.select(tickets.c.id).where(
            tickets.c.number == result.ticket_number))).scalar_one()
        seen = await load_ticket(service, conn, ticket_id, housing)
        staff = await load_ticket(service, conn, ticket_id, Actor("agent1", "agent"))
    assert (staff["contact_phone"], seen["contact_phone"]) == ("+862388123456", "023****56")
    assert staff["title"] == "楼下饭店油烟太大了熏得家里没法开窗我电话"  # never cut inside a number
    assert "1381234" not in str(seen) and seen["text"].endswith("我电话138****5678请回电")
    assert [i["kind"] for i in staff["citizen"]["identities"]] == ["wechat"]  # no identity made of it
    # a follow-up giving a number where the ticket has one changes nothing; a bad number is refused whole
    again = await service.ingest(msg("c2", text=f"{result.ticket_number} 补充", contact_phone="13800000000"))
    assert again.threaded and (await service.get_ticket(result.ticket_number))["contact_phone"] == "+862388123456"
    before = await counts(service)
    try:
        await service.ingest(msg("c3", contact_phone="电话"))
    except InvalidParams as exc:
        assert "电话" in str(exc)
    else:
        raise AssertionError("a contact that is no phone number was accepted")
    assert await counts(service) == before


async def test_a_web_or_email_sender_is_masked_alike_as_identity_and_as_message_author(service):
    from hotline.views import load_ticket
    from tests.core.test_service import DISPATCHER, unit_actor

    housing = await unit_actor(service, "housing")
    for n, sender, shown in ((1, Identity(kind="web", value="sess-visitor-1"), "***"),
                             (2, Identity(kind="email", value="li.si@example.cn"), "l***@example.cn")):
        result = await service.ingest(InboundMessage(
            channel="web" if sender.kind == "web" else "email", external_id=f"m-{n}", sender=sender,
            text=f"井盖丢失 {n}", received_at=NOW))
        await service.transition(result.ticket_number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
        async with service.engine.connect() as conn:
            ticket_id = (await conn.execute(sa.select(tickets.c.id).where(
                tickets.c.number == result.ticket_number))).scalar_one()
            seen = await load_ticket(service, conn, ticket_id, housing)
        assert [i["value"] for i in seen["citizen"]["identities"]] == [shown]
        assert [m["author"] for m in seen["messages"] if m["direction"] == "in"] == [f"{sender.kind}:{shown}"]
        assert sender.value not in str(seen)
