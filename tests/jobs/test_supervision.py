"""The supervision loop with a controllable clock: yellow -> reminder, red -> urge, still red -> escalation."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa

from hotline.jobs import supervision
from hotline.jobs.tables import notifications, supervision_stages
from hotline.tables import ticket_events, tickets
from tests.jobs.helpers import CITIZEN_PHONE, dispatched, rows

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
STREET = "+8613900000401"  # s-yunhu-hubin's contact (unit notified over sms)
STREET_RAW = "13900000401"
DISTRICT_RAW = "13900000301"  # d-yunhu, the street office's supervisor (sms + email)
PLATFORM_RAW = "02388812345"  # the platform's duty supervisor (sms + email)


def at(clock, hour: int, minute: int = 0, day: int = 23) -> None:
    clock.set(dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.timezone.utc))


async def stages(engine, ticket_id=None):
    where = [supervision_stages.c.ticket_id == ticket_id] if ticket_id else []
    return [(r.stage, r.at) for r in await rows(engine, supervision_stages, *where, order=supervision_stages.c.at)]


async def test_unanswered_ticket_goes_yellow_then_red_reminder_urge_escalation(harness, service, clock):
    number = await dispatched(service, "s-yunhu-hubin")  # Mon 10:00: sign-for due 12:00
    ticket = await service.get_ticket(number)
    await harness.settle()
    sms, email = harness.channels["sms"], harness.channels["email"]
    # The citizen heard about creation and dispatch; the street office of the new ticket.
    citizen = [m for m in sms.sent if m.recipient.value == CITIZEN_PHONE]
    assert len(citizen) == 2 and number in citizen[0].text and "云湖区湖滨街道办事处" in citizen[1].text
    [new] = sms.texts(STREET_RAW)
    assert "已派至贵单位（主办）" in new and sms.texts(DISTRICT_RAW) == []

    at(clock, 10, 30)
    await harness.sweep()
    assert (await service.get_ticket(number))["deadlines"]["light"] == "green"
    assert await stages(service.engine) == []

    at(clock, 11, 40)  # 20 minutes of 2 hours left
    await harness.sweep()
    assert (await service.get_ticket(number))["deadlines"]["light"] == "yellow"
    assert [s for s, _ in await stages(service.engine)] == ["reminder"]
    assert len(sms.texts(STREET_RAW)) == 2 and "即将超期" in sms.texts(STREET_RAW)[1]

    at(clock, 12, 1)
    await harness.sweep()
    after = await service.get_ticket(number)
    assert after["deadlines"]["light"] == "red" and after["urge_count"] == 1
    [urge] = await rows(service.engine, ticket_events, ticket_events.c.ticket_id == ticket["id"],
                        ticket_events.c.action == "urge")
    assert urge.actor == "system" and "督办" in urge.note
    assert "督办" in sms.texts(STREET_RAW)[2]
    assert "督办" in sms.texts(DISTRICT_RAW)[0]                     # the supervisor, by sms ...
    assert any("督办" in m.text for m in email.sent if m.recipient.value == "yunhu@yunzhou.gov.cn")  # ... and email
    assert sms.texts(PLATFORM_RAW) == []

    at(clock, 16, 30)  # 3.5 working hours after the urge: not yet
    await harness.sweep()
    assert [s for s, _ in await stages(service.engine)] == ["reminder", "urge"]

    at(clock, 17, 5)
    await harness.sweep()
    assert [s for s, _ in await stages(service.engine)] == ["reminder", "urge", "escalation"]
    assert "升级督办" in sms.texts(PLATFORM_RAW)[0]
    assert any("升级督办" in m.text for m in email.sent if m.recipient.value == "duty@12345.yunzhou.gov.cn")

    # Sweeping again records nothing twice and sends nothing more.
    sent = (len(sms.sent), len(email.sent))
    await harness.sweep()
    await harness.sweep()
    assert [s for s, _ in await stages(service.engine)] == ["reminder", "urge", "escalation"]
    assert (await service.get_ticket(number))["urge_count"] == 1
    assert (len(sms.sent), len(email.sent)) == sent
    # The order the unit side heard it in.
    unit_side = [m.text for m in sms.sent if m.recipient.value != CITIZEN_PHONE]
    kinds = ["派单" in t and "dispatch" or "即将超期" in t and "reminder" or "升级督办" in t and "escalation"
             or "督办" in t and "urge" for t in unit_side]
    assert kinds == ["dispatch", "reminder", "urge", "urge", "escalation"]


async def test_concurrent_sweeps_record_each_stage_once(inproc, service, clock):
    number = await dispatched(service, "housing")
    at(clock, 12, 5)
    results = await asyncio.gather(*(supervision.sweep(inproc.ctx) for _ in range(3)))
    assert sorted(r for result in results for r in result) == [(number, "urge")]
    assert (await service.get_ticket(number))["urge_count"] == 1


async def test_signed_ticket_is_supervised_on_its_reply_deadline(inproc, service, clock):
    from tests.jobs.helpers import unit_actor

    number = await dispatched(service, "housing")  # 求助: 3 working days to reply
    await service.transition(number, "sign", await unit_actor(service, "housing"))
    at(clock, 12, 5)
    await inproc.sweep()
    assert await stages(service.engine) == []  # signed in time: the sign-for deadline no longer counts
    at(clock, 17, 0, day=25)  # Wednesday 17:00: 2 of 24 working hours left (due Thursday 10:00)
    await inproc.sweep()
    assert [s for s, _ in await stages(service.engine)] == ["reminder"]
    at(clock, 10, 30, day=26)
    await inproc.sweep()
    assert [s for s, _ in await stages(service.engine)] == ["reminder", "urge"]


async def test_reopened_ticket_is_supervised_afresh(inproc, service, clock):
    number = await dispatched(service, "housing")
    at(clock, 12, 5)
    await inproc.sweep()
    ticket = await service.get_ticket(number)
    async with service.engine.begin() as conn:  # a new round, as after 不满意 -> reopen
        await conn.execute(sa.update(tickets).where(tickets.c.id == ticket["id"]).values(reopen_count=1))
    await inproc.sweep()
    assert [(r.round, r.stage) for r in await rows(service.engine, supervision_stages)] == [(0, "urge"), (1, "urge")]
    urges = await rows(service.engine, notifications, notifications.c.kind == "urge")
    assert sorted(n.channel for n in urges) == ["email", "email", "sms", "sms"]  # housing: sms + email, twice


async def test_unit_given_a_returned_ticket_starts_afresh(inproc, service, clock):
    from tests.jobs.helpers import DISPATCHER, unit_actor

    number = await dispatched(service, "housing")  # Mon 10:00: sign-for due 12:00
    at(clock, 12, 5)
    await inproc.sweep()
    assert [s for s, _ in await stages(service.engine)] == ["urge"]
    await service.transition(number, "return", await unit_actor(service, "housing"), {"reason": "不属于本单位职责"})
    at(clock, 12, 10)
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "s-yunhu-hubin"})  # due 14:10
    at(clock, 15, 30)  # housing's urge was 3.5 working hours ago; the street office is red for the first time
    await inproc.sweep()
    street = await unit_actor(service, "s-yunhu-hubin")
    recorded = [(r.stage, r.unit_id) for r in await rows(service.engine, supervision_stages,
                                                         order=supervision_stages.c.id)]
    assert recorded[1:] == [("urge", street.unit_id)]  # its own urge, not an escalation from housing's
    assert any("督办" in t for t in inproc.channels["sms"].texts(STREET_RAW))


async def test_a_late_sign_for_leaves_the_reply_deadline_its_own_reminder_and_urge(harness, service, clock):
    from tests.jobs.helpers import DISPATCHER, unit_actor

    at(clock, 10)  # Mon 10:00: sign-for due 12:00, a 求助 reply due Thu 10:00
    number = await dispatched(service, "housing")
    ticket = await service.get_ticket(number)
    housing = await unit_actor(service, "housing")
    at(clock, 12, 1)
    await harness.sweep()  # the sign-for deadline has passed: urged for that
    await service.transition(number, "sign", housing)
    at(clock, 15, day=25)  # Wed 15:00: the reply deadline is close
    await harness.sweep()
    at(clock, 10, 1, day=26)  # Thu 10:01: and past
    await harness.sweep()
    recorded = await rows(service.engine, supervision_stages, supervision_stages.c.ticket_id == ticket["id"],
                          order=supervision_stages.c.at)
    assert [(r.deadline, r.stage) for r in recorded] == [("sign", "urge"), ("reply", "reminder"), ("reply", "urge")]
    urges = await rows(service.engine, ticket_events, ticket_events.c.ticket_id == ticket["id"],
                       ticket_events.c.action == "urge", order=ticket_events.c.id)
    assert [u.note for u in urges] == [supervision.URGE_NOTES["sign"], supervision.URGE_NOTES["reply"]]

    # returned and dispatched to the same unit again: that dispatch is supervised afresh
    await service.transition(number, "return", housing, {"reason": "需要其他部门配合"})
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing", "note": "已协调水务局配合"})
    at(clock, 14, day=26)  # Thu 14:00: the new sign-for deadline (2 working hours from 10:01, 13:01) has passed
    await harness.sweep()
    recorded = await rows(service.engine, supervision_stages, supervision_stages.c.ticket_id == ticket["id"],
                          order=supervision_stages.c.at)
    assert [(r.deadline, r.stage) for r in recorded][-1] == ("sign", "urge")
