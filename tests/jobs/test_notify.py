"""Citizen and unit notices: the citizen's channel, WeChat -> SMS fallback, quiet nights, retries."""

from __future__ import annotations

import datetime as dt

from hotline.jobs import failures
from hotline.jobs.tables import notifications
from hotline.messages import Identity
from tests.jobs.helpers import CITIZEN_PHONE, new_ticket, rows

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
OPENID = "oWx-citizen-openid-1"


async def test_ticket_number_goes_out_on_the_channel_the_citizen_used(inproc, service):
    number = await new_ticket(service, channel="wechat", identities=[Identity(kind="wechat", value=OPENID),
                                                                      Identity(kind="phone", value=CITIZEN_PHONE)])
    await inproc.settle()
    [sent] = inproc.channels["wechat"].sent
    assert sent.recipient == Identity(kind="wechat", value=OPENID) and number in sent.text
    assert inproc.channels["sms"].sent == []


async def test_wechat_out_of_window_falls_back_to_sms(inproc, service):
    inproc.channels["wechat"].refuse = "超出48小时客服消息窗口"
    number = await new_ticket(service, channel="wechat", identities=[Identity(kind="wechat", value=OPENID),
                                                                      Identity(kind="phone", value=CITIZEN_PHONE)])
    await inproc.settle()
    [sms] = inproc.channels["sms"].sent
    assert sms.recipient.value == CITIZEN_PHONE and number in sms.text
    states = sorted((n.channel, n.state) for n in await rows(service.engine, notifications))
    assert states == [("sms", "sent"), ("wechat", "failed")]


async def test_the_contact_phone_typed_in_a_request_gets_the_notices(inproc, service):
    # a web chatbot visitor: the ticket's own channel cannot reach them, the number they left can
    contact = "+8613900001111"
    number = await new_ticket(service, channel="web", identities=[Identity(kind="web", value="visitor-1")],
                              contact_phone=contact)
    await inproc.settle()
    [sms] = inproc.channels["sms"].sent
    assert sms.recipient == Identity(kind="phone", value=contact) and number in sms.text
    # a WeChat follower who left another number for this request: the fallback goes there, not to the
    # number their record holds
    inproc.channels["wechat"].refuse = "超出48小时客服消息窗口"
    other = await new_ticket(service, channel="wechat", identities=[Identity(kind="wechat", value=OPENID),
                                                                     Identity(kind="phone", value=CITIZEN_PHONE)],
                             contact_phone=contact)
    await inproc.settle()
    assert [m.recipient.value for m in inproc.channels["sms"].sent if other in m.text] == [contact]


async def test_no_citizen_notice_at_night_until_morning(inproc, service, clock):
    clock.set(dt.datetime(2026, 11, 23, 22, 30, tzinfo=SHANGHAI).astimezone(dt.timezone.utc))
    number = await new_ticket(service)
    await inproc.settle()
    assert inproc.channels["sms"].sent == []
    [held] = await rows(service.engine, notifications)
    assert held.state == "pending"
    assert held.send_after == dt.datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)
    clock.set(dt.datetime(2026, 11, 24, 7, 59, tzinfo=SHANGHAI).astimezone(dt.timezone.utc))
    await inproc.sweep()
    assert inproc.channels["sms"].sent == []
    clock.set(dt.datetime(2026, 11, 24, 8, 1, tzinfo=SHANGHAI).astimezone(dt.timezone.utc))
    await inproc.sweep()
    [sent] = inproc.channels["sms"].sent
    assert number in sent.text


async def test_retryable_send_failure_is_retried(inproc, service):
    inproc.channels["sms"].retryable_failures = 2
    number = await new_ticket(service)
    await inproc.settle()
    [sent] = inproc.channels["sms"].sent
    assert number in sent.text
    [row] = await rows(service.engine, notifications)
    assert (row.state, row.attempts) == ("sent", 3)


async def test_send_failing_every_attempt_is_marked_failed(inproc, service):
    inproc.channels["sms"].retryable_failures = 10
    await new_ticket(service)
    await inproc.settle()
    [row] = await rows(service.engine, notifications)
    assert (row.state, row.attempts, row.error) == ("failed", 3, "gateway busy")
    assert inproc.channels["sms"].sent == []
    assert await failures.list_failures(service.engine) == []  # a failed notice is not a crashed job


async def test_unconfigured_channel_is_recorded_not_crashed(inproc, service):
    del inproc.channels["sms"]
    await new_ticket(service)
    await inproc.settle()
    [row] = await rows(service.engine, notifications)
    assert row.state == "failed" and "未配置" in row.error


async def test_no_second_acknowledgement_where_the_channel_answered_itself(inproc, service):
    from hotline.messages import InboundMessage

    def inbound(channel, external_id, sender):
        return InboundMessage(channel=channel, external_id=external_id, sender=sender, text="小区门口积水严重",
                              received_at=service.now())

    # WeChat answers the citizen's request with its number itself (a passive reply): no extra notice.
    inproc.channels["wechat"].acknowledges_intake = True
    wechat = await service.ingest(inbound("wechat", "wx-1", Identity(kind="wechat", value=OPENID)))
    # E-mail does not: the number goes out as a notice.
    email = await service.ingest(inbound("email", "<m1@example.cn>", Identity(kind="email", value="a@example.cn")))
    await inproc.settle()
    assert inproc.channels["wechat"].sent == []
    [mail] = inproc.channels["email"].sent
    assert email.ticket_number in mail.text and wechat.ticket_number not in mail.text


async def test_a_send_whose_worker_died_is_taken_up_by_the_sweep_after_the_lease(inproc, service, clock):
    import sqlalchemy as sa

    inproc.channels["sms"].retryable_failures = 0
    number = await new_ticket(service)
    await inproc.settle()
    inproc.channels["sms"].sent.clear()
    # As if the worker was killed inside adapter.send(): claimed, never finished.
    async with service.engine.begin() as conn:
        await conn.execute(sa.update(notifications).values(state="sending", claimed_at=clock.now(), sent_at=None))
    await inproc.sweep()
    assert inproc.channels["sms"].sent == []  # still within the lease: maybe still sending
    clock.advance(minutes=11)
    await inproc.sweep()
    [sent] = inproc.channels["sms"].sent
    assert number in sent.text
    [row] = await rows(service.engine, notifications)
    assert row.state == "sent"


async def test_a_direct_answer_a_refusal_and_each_dispatch_reach_the_citizen_in_their_own_words(inproc, service):
    from hotline.users import Actor
    from tests.jobs.helpers import DISPATCHER, unit_actor

    agent = Actor(username="t-agent", role="agent")
    answered = await new_ticket(service)
    await service.transition(answered, "answer", agent, {"answer": "请携带身份证到任一社保服务网点挂失补办。"})
    refused = await new_ticket(service)
    await service.transition(refused, "reject", agent, {"reason": "no_substance"})
    moved = await new_ticket(service)
    await service.transition(moved, "dispatch", DISPATCHER, {"lead_unit": "water"})
    await service.transition(moved, "return", await unit_actor(service, "water"), {"reason": "不属于供水业务"})
    await service.transition(moved, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    await inproc.settle()  # both dispatch events are delivered after the second dispatch
    texts = [m.text for m in inproc.channels["sms"].sent]
    assert f"【12345热线】您的工单 {answered} 已答复：请携带身份证到任一社保服务网点挂失补办。" in texts
    assert any(t.startswith(f"【12345热线】很抱歉，您的工单 {refused} 不予受理，原因：") for t in texts)
    dispatches = [t for t in texts if t.startswith(f"【12345热线】您的工单 {moved} 已转交")]
    assert len(dispatches) == 2 and "自来水" in dispatches[0] and "住房和城乡建设局" in dispatches[1]


async def test_a_unit_sent_back_a_ticket_it_returned_hears_why(inproc, service):
    from tests.jobs.helpers import DISPATCHER, unit_actor

    number = await new_ticket(service)
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "water"})
    await service.transition(number, "return", await unit_actor(service, "water"), {"reason": "不属于供水业务"})
    await service.transition(number, "dispatch", DISPATCHER,
                             {"lead_unit": "water", "co_units": ["housing"], "note": "是小区二次供水泵房，属供水职责"})
    await inproc.settle()
    unit_notices = [n.text for n in await rows(service.engine, notifications)
                    if n.audience == "unit" and n.kind == "dispatch"]
    lead = [t for t in unit_notices if "（主办）" in t]
    assert len(lead) == 2 and "退单未获同意" not in lead[0]
    assert lead[1].endswith("贵单位此前的退单未获同意，理由：是小区二次供水泵房，属供水职责")
    assert all("退单未获同意" not in t for t in unit_notices if "（协办）" in t)


async def test_units_hear_of_a_new_ticket_and_of_the_extension_decision(inproc, service):
    from tests.jobs.helpers import DISPATCHER, unit_actor

    number = await new_ticket(service)
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing", "co_units": ["water"]})
    housing = await unit_actor(service, "housing")
    await service.transition(number, "sign", housing)
    await service.transition(number, "request_extension", housing, {"days": 3, "reason": "等配件"})
    await service.transition(number, "approve_extension", DISPATCHER)
    await inproc.settle()
    unit_notices = [(n.kind, n.text) for n in await rows(service.engine, notifications) if n.audience == "unit"]
    kinds = sorted(k for k, _ in unit_notices)
    assert kinds.count("dispatch") >= 2 and "approve_extension" in kinds
    texts = " ".join(t for _, t in unit_notices)
    assert "已派至贵单位（主办）" in texts and "已派至贵单位（协办）" in texts and "延期 3 个工作日" in texts
