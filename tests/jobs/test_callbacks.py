"""Callbacks (回访): asked after a reply, answered by the citizen, closed or reopened; unreachable after N."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.jobs import callbacks
from hotline.jobs.tables import callback_tasks
from hotline.messages import Identity
from hotline.users import Actor
from tests.jobs.helpers import CITIZEN_PHONE, replied, rows, unit_actor

CITIZEN = Actor(username="citizen:sms", role="citizen")


async def pending_for(service, kind: str, value: str) -> str | None:
    async with service.engine.connect() as conn:
        return await callbacks.pending_callback_for(conn, Identity(kind=kind, value=value))


async def test_reply_asks_for_satisfaction_and_satisfied_closes(harness, service):
    number = await replied(service)
    await harness.settle()
    sms = harness.channels["sms"]
    question = [m for m in sms.sent if m.template == "callback"]
    assert len(question) == 1 and question[0].recipient.value == CITIZEN_PHONE
    assert "1 满意" in question[0].text and number in question[0].text
    assert await pending_for(service, "phone", CITIZEN_PHONE) == number

    await service.transition(number, "callback", CITIZEN, {"satisfaction": "满意"})
    await harness.settle()
    ticket = await service.get_ticket(number)
    assert ticket["state"] == "closed"
    [task] = await rows(service.engine, callback_tasks)
    assert (task.state, task.satisfaction) == ("answered", "满意")
    assert await pending_for(service, "phone", CITIZEN_PHONE) is None
    assert "已办结" in sms.texts(CITIZEN_PHONE)[-1]


async def test_dissatisfied_reopens_to_the_same_unit_with_the_reason(inproc, service):
    number = await replied(service, "housing")
    await inproc.settle()
    await service.transition(number, "callback", CITIZEN, {"satisfaction": "不满意", "note": "灯还是不亮"})
    await inproc.settle()
    ticket = await service.get_ticket(number)
    assert ticket["state"] == "dispatched" and ticket["reopen_count"] == 1
    assert ticket["lead_unit"]["code"] == "housing"
    reopen_notice = [t for t in inproc.channels["sms"].texts("13900000101") if "重办" in t]
    assert len(reopen_notice) == 1 and "灯还是不亮" in reopen_notice[0]
    async with service.engine.connect() as conn:
        counted = await callbacks.dissatisfied_by_unit(conn)
    housing = (await unit_actor(service, "housing")).unit_id
    assert counted == {housing: 1}
    # The unit replies again: a new round, a new callback task.
    actor = await unit_actor(service, "housing")
    await service.transition(number, "sign", actor)
    await service.transition(number, "reply", actor, {"text": "已更换整条线路"})
    await inproc.settle()
    assert [(t.round, t.state) for t in await rows(service.engine, callback_tasks)] == [(0, "answered"), (1, "asked")]
    assert await pending_for(service, "phone", CITIZEN_PHONE) == number


async def test_no_answer_is_asked_again_then_unreachable(inproc, service, clock):
    number = await replied(service)
    await inproc.settle()
    for _ in range(3):
        clock.advance(hours=24, minutes=5)
        await inproc.sweep()
    [task] = await rows(service.engine, callback_tasks)
    assert (task.state, task.attempts) == ("unreachable", 3)
    asked = [m for m in inproc.channels["sms"].sent if m.template == "callback"]
    assert len(asked) == 3 and all(number in m.text for m in asked)
    assert await pending_for(service, "phone", CITIZEN_PHONE) is None
    await inproc.sweep()
    assert len([m for m in inproc.channels["sms"].sent if m.template == "callback"]) == 3


async def test_citizen_without_a_messaging_identity_goes_to_the_phone_queue(inproc, service):
    number = await replied(service, channel="email", identities=[Identity(kind="email", value="lihua@example.cn")])
    await inproc.settle()
    async with service.engine.connect() as conn:
        queue = await callbacks.phone_queue(conn)
    assert [item["number"] for item in queue] == [number]
    [task] = await rows(service.engine, callback_tasks)
    assert task.mode == "phone"
    assert task.recipient_kind == "email" and task.recipient == "lihua@example.cn"  # how the agent asks
    from hotline.actions import InvalidParams

    agent = Actor(username="t-agent", role="agent")
    with pytest.raises(InvalidParams, match="尚未回访"):  # not before the callback was tried in earnest
        await service.transition(number, "close", agent)
    for expected in ("asked", "asked", "unreachable"):
        assert await callbacks.phone_unanswered(inproc.ctx, task.id) == expected
    # nobody could be reached: the ticket is closed without a satisfaction rather than left open for ever
    closed = await service.transition(number, "close", agent, {"note": "三次回访均未接通"})
    assert (closed["state"], closed["satisfaction"]) == ("closed", None)


async def test_the_callback_asks_the_contact_phone_left_in_the_request(inproc, service):
    contact = "+8613900002222"
    number = await replied(service, channel="web", identities=[Identity(kind="web", value="visitor-2")],
                           contact_phone=contact)
    await inproc.settle()
    [question] = [m for m in inproc.channels["sms"].sent if m.template == "callback"]
    assert question.recipient == Identity(kind="phone", value=contact) and number in question.text
    assert await pending_for(service, "phone", contact) == number


async def test_running_the_reply_event_twice_makes_one_task_and_one_question(inproc, service):
    from hotline.jobs import tasks
    from hotline.tables import outbox

    number = await replied(service)
    async with service.engine.connect() as conn:
        reply_id = (await conn.execute(sa.select(outbox.c.id).where(outbox.c.topic == "ticket.reply"))).scalar_one()
    await tasks.deliver_event(inproc.ctx, reply_id)
    async with service.engine.begin() as conn:  # as if a lost Redis made the relay hand it out again
        await conn.execute(sa.update(outbox).where(outbox.c.id == reply_id).values(delivered_at=None))
    await tasks.deliver_event(inproc.ctx, reply_id)
    await inproc.settle()
    assert len(await rows(service.engine, callback_tasks)) == 1
    assert len([m for m in inproc.channels["sms"].sent if m.template == "callback"]) == 1
    assert await pending_for(service, "phone", CITIZEN_PHONE) == number


async def test_satisfaction_sms_through_the_real_adapter_closes_the_loop(aiohttp_client, service, settings, clock,
                                                                        monkeypatch):
    """Done-when: a citizen's "1" by SMS (real SMS adapter, loopback gateway) closes the ticket."""
    import asyncio
    import contextlib

    import channels.web
    from channels.sms.settings import SmsSettings
    from hotline import appkeys
    from hotline.app import create_app
    from tests.channels.sms.fakes import API_KEY, SECRET, FakeGateway, fixture, signed
    from tests.jobs.conftest import quiet_outbox

    monkeypatch.setenv("HOTLINE_JOBS_RELAY_INTERVAL", "0.05")
    await quiet_outbox(service)
    async with contextlib.AsyncExitStack() as stack:
        gateway = await FakeGateway().start(stack)
        app = create_app(settings, engine=service.engine, clock=clock, migrate=False,
                         plugins=["hotline.api.setup:setup", "hotline.jobs.web:setup"])
        app[appkeys.SERVICE] = service
        channels.web.setup(app, only=["sms"], channel_settings={"sms": SmsSettings(
            secret=SECRET, api_base=gateway.url, api_key=API_KEY, retry_backoff_seconds=0.01)})
        client = await aiohttp_client(app)

        async def until(check, what):
            for _ in range(200):
                if await check():
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"timed out waiting for {what}")

        async def inbound(**data):
            body, headers = signed(fixture("mo.json", **data), at=clock.now().timestamp())
            resp = await client.post("/channels/sms/inbound", data=body, headers=headers)
            assert resp.status == 200
            return await resp.json()

        created = await inbound()
        number = created["ticket_number"]
        texts = lambda: ["".join(s["parts"]) for s in gateway.sent]  # noqa: E731

        async def acknowledged():
            return any(number in t and "已受理" in t for t in texts())

        await until(acknowledged, "the ticket number by SMS")
        await service.transition(number, "dispatch", Actor("t-dispatcher", "dispatcher"), {"lead_unit": "housing"})
        actor = await unit_actor(service, "housing")
        await service.transition(number, "sign", actor)
        await service.transition(number, "reply", actor, {"text": "井盖已补装"})

        async def asked():
            return any("1 满意" in t and number in t for t in texts())

        await until(asked, "the callback question")
        assert await pending_for(service, "phone", "+8613800138000") == number
        rated = await inbound(id="MO-CB-1", text="1")
        assert rated == {"status": "rated", "ticket_number": number, "satisfaction": "满意"}

        async def closed():
            return (await service.get_ticket(number))["state"] == "closed"

        await until(closed, "the ticket to close")
        [task] = await rows(service.engine, callback_tasks)
        assert (task.state, task.satisfaction) == ("answered", "满意")


async def test_answer_whose_close_job_was_lost_is_acted_on_by_the_sweep(harness, service, clock):
    from hotline.jobs import tasks
    from hotline.tables import outbox

    number = await replied(service)
    await harness.settle()
    await service.transition(number, "callback", CITIZEN, {"satisfaction": "满意"})
    async with service.engine.connect() as conn:
        event_id = (await conn.execute(sa.select(sa.func.max(outbox.c.id)).where(
            outbox.c.topic == "ticket.callback"))).scalar_one()
    # Delivered, but the process died before queueing the close job it found.
    _, lost_jobs = await tasks._deliver_one(harness.ctx, event_id)  # noqa: SLF001
    assert lost_jobs == [("hotline.jobs.tasks.callback_result", event_id)]
    await harness.sweep()
    assert (await service.get_ticket(number))["state"] == "callback_done"  # may still be on its way
    clock.advance(minutes=6)
    await harness.sweep()
    assert (await service.get_ticket(number))["state"] == "closed"
    await harness.sweep()  # nothing left to do, nothing done twice
    assert [e["action"] for e in (await service.get_ticket(number))["events"]].count("close") == 1


async def test_without_an_sms_channel_a_phone_only_citizen_is_called_back_by_an_agent(inproc, service):
    del inproc.channels["sms"]  # an installation with no SMS gateway configured
    number = await replied(service)
    await inproc.settle()
    [task] = await rows(service.engine, callback_tasks)
    assert (task.mode, task.recipient) == ("phone", CITIZEN_PHONE)
    async with service.engine.connect() as conn:
        assert [item["number"] for item in await callbacks.phone_queue(conn)] == [number]


async def test_an_answer_recorded_before_the_first_question_still_lands_on_the_task(inproc, service):
    number = await replied(service)
    await service.transition(number, "callback", Actor(username="t-agent", role="agent"), {"satisfaction": "不满意",
                                                                                          "note": "灯还是不亮"})
    await inproc.settle()
    [task] = await rows(service.engine, callback_tasks)
    assert (task.state, task.satisfaction, task.reason) == ("answered", "不满意", "灯还是不亮")
