"""Generic CTI webhook: call sequence, screen pop with caller history, call records, bad input."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from channels.phone.calls import answer_rate
from channels.tables import call_records
from hotline.intake import ingest
from hotline.messages import Identity, InboundMessage
from tests.channels.phone.conftest import agent_socket
from tests.channels.phone.contract import FORM, TOKEN, form


async def post_form(client, name: str, token: str = TOKEN):
    resp = await client.post(f"/channels/phone/{token}", data=form(name), headers=FORM)
    return resp.status, await resp.json()


async def records(engine):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(call_records).order_by(call_records.c.id))).all()


async def earlier_ticket(service, text="小区门口井盖缺失，请尽快处理") -> str:
    result = await ingest(service, InboundMessage(
        channel="sms", external_id=f"sms-{text}", sender=Identity(kind="phone", value="+8613800138000"),
        sender_name="王女士", text=text, received_at=service.now()))
    return result.ticket_number


async def test_call_sequence_shows_live_on_agent_socket_with_history(make_client, service, tokens, clock):
    number = await earlier_ticket(service)
    client = await make_client()
    ws = await agent_socket(client, tokens["agent"])

    assert await post_form(client, "cti_newcall.form") == (200, {"status": "ok"})
    pop = await ws.receive_json(timeout=5)
    assert pop["type"] == "screen_pop" and pop["call_id"] == "4991155921769858278-1"
    assert pop["from"] == "+8613800138000" and pop["intake_line"] == "12345"
    assert pop["citizen"]["name"] == "王女士"
    assert [t["number"] for t in pop["open_tickets"]] == [number]
    assert pop["last_contacts"][0]["ticket_number"] == number and pop["last_contacts"][0]["channel"] == "sms"

    clock.advance(seconds=12)
    await post_form(client, "cti_answer.form")
    answered = await ws.receive_json(timeout=5)
    assert (answered["type"], answered["answered_by"], answered["wait_seconds"]) == ("call_answered", "agent01", 12.0)

    clock.advance(seconds=187)
    await post_form(client, "cti_hangup.form")
    ended = await ws.receive_json(timeout=5)
    assert (ended["type"], ended["abandoned"], ended["duration_seconds"]) == ("call_ended", False, 187.0)
    await post_form(client, "cti_recording.form")
    recording = await ws.receive_json(timeout=5)
    assert recording["recording_url"].endswith("4991155921769858278-1.wav")

    row = (await records(service.engine))[0]
    assert (row.answered_by, row.wait_seconds, row.duration_seconds, row.abandoned, row.cause) == \
        ("agent01", 12.0, 187.0, False, "normalClearing")
    assert row.recording_seconds == 187.0
    await ws.close()


async def test_the_pop_shows_requests_that_left_the_callers_number_as_contact_marked_so(make_client, service, tokens):
    own = await earlier_ticket(service)
    # a web visitor left this number as their contact: not the caller's record, but the agent should see it
    left = await ingest(service, InboundMessage(
        channel="web", external_id="web-1", sender=Identity(kind="web", value="visitor-9"),
        text="路灯坏了\n联系电话：13800138000", contact_phone="13800138000", received_at=service.now()))
    client = await make_client()
    ws = await agent_socket(client, tokens["agent"])
    await post_form(client, "cti_newcall.form")
    pop = await ws.receive_json(timeout=5)
    assert pop["citizen"]["name"] == "王女士"
    assert [(t["number"], t["contact_only"]) for t in pop["open_tickets"]] == [(left.ticket_number, True),
                                                                               (own, False)]
    await ws.close()


async def test_unknown_caller_pop_and_abandoned_landline_call(make_client, service, tokens, clock):
    client = await make_client()
    ws = await agent_socket(client, tokens["dispatcher"])
    await post_form(client, "cti_newcall_landline.form")
    pop = await ws.receive_json(timeout=5)
    assert pop["from"] == "+8657188886666" and pop["intake_line"] == "12315"   # dialled 0571-12315
    assert pop["citizen"] is None and pop["open_tickets"] == []
    clock.advance(seconds=40)
    await post_form(client, "cti_hangup_abandoned.form")
    ended = await ws.receive_json(timeout=5)
    assert ended["abandoned"] is True
    row = (await records(service.engine))[0]
    assert (row.abandoned, row.wait_seconds, row.answered_at) == (True, 40.0, None)


async def test_answer_rate_from_call_records(make_client, service, clock):
    client = await make_client()
    start = clock.now()
    for name in ("cti_newcall.form", "cti_answer.form", "cti_hangup.form",
                 "cti_newcall_landline.form", "cti_hangup_abandoned.form"):
        await post_form(client, name)
        clock.advance(seconds=10)
    report = await answer_rate(service.engine, start, start + dt.timedelta(hours=1))
    assert report == {"offered": 2, "answered": 1, "abandoned": 1, "answer_rate": 0.5, "avg_wait_seconds": 10.0}
    assert (await answer_rate(service.engine, start, start + dt.timedelta(hours=1), "12315"))["answer_rate"] == 0.0


async def test_repeated_events_are_recorded_once(make_client, service, clock):
    client = await make_client()
    await post_form(client, "cti_newcall.form")
    await post_form(client, "cti_newcall.form")
    clock.advance(seconds=5)
    await post_form(client, "cti_answer.form")
    clock.advance(seconds=5)
    await post_form(client, "cti_answer.form")
    rows = await records(service.engine)
    assert len(rows) == 1 and rows[0].wait_seconds == 5.0


async def test_json_body_is_accepted(make_client, service):
    client = await make_client()
    payload = {"event": "newCall", "from": "+86 138 0013 8000", "to": "12345", "direction": "in", "callId": "json-1"}
    resp = await client.post(f"/channels/phone/{TOKEN}", json=payload)
    assert resp.status == 200
    assert (await records(service.engine))[0].from_number == "+8613800138000"


async def test_agent_socket_requires_an_agent(make_client, tokens):
    client = await make_client()
    resp = await client.get("/api/v1/agents/ws")
    assert resp.status == 401
    resp = await client.get("/api/v1/agents/ws", headers={"Authorization": f"Bearer {tokens['housing']}"})
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"


# -- bad input -------------------------------------------------------------------------------

async def test_unknown_token_is_401_and_writes_nothing(make_client, service):
    client = await make_client()
    status, body = await post_form(client, "cti_newcall.form", token="guess")
    assert status == 401 and body["error"]["code"] == "verification_failed"
    assert await records(service.engine) == []


async def test_unknown_event_is_acknowledged(make_client, service):
    client = await make_client()
    assert await post_form(client, "cti_unknown.form") == (200, {"status": "ignored", "reason": "unknown_event"})
    assert await records(service.engine) == []


async def test_answer_for_unknown_call_changes_nothing(make_client, service):
    client = await make_client()
    assert await post_form(client, "cti_answer.form") == (200, {"status": "unknown_call"})
    assert await records(service.engine) == []


@pytest.mark.parametrize("body, content_type", [
    (b"event=newCall&from=13800138000&to=12345&direction=in", FORM["Content-Type"]),          # no callId
    (b"from=13800138000&callId=1", FORM["Content-Type"]),                                      # no event
    (b"event=newCall&from=13800138000&to=12345&direction=sideways&callId=1", FORM["Content-Type"]),
    (b"event=recording&callId=1&url=file%3A%2F%2F%2Fetc%2Fpasswd&duration=3", FORM["Content-Type"]),
    (b"event=recording&callId=1&url=https%3A%2F%2Fpbx%2Fa.wav&duration=long", FORM["Content-Type"]),
    (b"{broken", "application/json"),
    (json.dumps(["newCall"]).encode(), "application/json"),
    (b"\xff\xfe", FORM["Content-Type"]),
])
async def test_malformed_events_are_400(make_client, service, body, content_type):
    client = await make_client()
    resp = await client.post(f"/channels/phone/{TOKEN}", data=body, headers={"Content-Type": content_type})
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "malformed_payload"
    assert await records(service.engine) == []


async def test_oversize_body_is_413(make_client, service):
    client = await make_client(max_body_bytes=512)
    resp = await client.post(f"/channels/phone/{TOKEN}", data=form("cti_newcall.form") + b"&x=" + b"y" * 1000,
                             headers=FORM)
    assert resp.status == 413
    assert await records(service.engine) == []
