"""SMS: signed inbound, long messages, intake lines, receipts, retries, satisfaction replies."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from channels.sms import segments
from channels.tables import sms_outbound, sms_parts
from hotline import appkeys
from hotline.messages import Identity, OutboundMessage
from hotline.tables import ticket_messages, tickets, units
from hotline.users import Actor
from tests.channels.sms.fakes import fixture, signed

DISPATCHER = Actor(username="t-dispatcher", role="dispatcher")


async def rows(engine, table, *where):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(table).where(*where).order_by(table.c.id))).all()


async def inbound(client, clock, data, **kw):
    body, headers = signed(data, at=kw.pop("at", clock.now().timestamp()), **kw)
    resp = await client.post("/channels/sms/inbound", data=body, headers=headers)
    return resp.status, await resp.json()


async def settle(client) -> None:
    await client.app[appkeys.CHANNELS]["sms"].settle()


def test_segments_chinese_70_67_and_ascii_160_153():
    assert segments.split("汉" * 70) == ["汉" * 70]
    parts = segments.split("汉" * 71)
    assert [len(p) for p in parts] == [67, 4]
    assert [len(p) for p in segments.split("a" * 161)] == [153, 8]
    assert segments.split("a" * 160) == ["a" * 160]
    # An emoji is two UTF-16 units and is never cut in half.
    parts = segments.split("汉" * 66 + "😀" + "汉" * 10)
    assert parts[0] == "汉" * 66 and parts[1].startswith("😀")
    text = "市民您好，" * 40
    assert segments.join(dict(enumerate(segments.split(text), start=1))) == text


async def test_inbound_sms_creates_ticket_and_acknowledges(make_client, service, clock, gateway, monkeypatch):
    from tests.jobs.conftest import quiet_outbox

    monkeypatch.setenv("HOTLINE_JOBS_RELAY_INTERVAL", "0.05")
    await quiet_outbox(service)
    clock.set(dt.datetime(2026, 11, 23, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8))))  # a quiet hour
    client = await make_client(jobs=True)
    status, body = await inbound(client, clock, fixture("mo.json"))
    assert status == 200 and body["created"] is True
    ticket = await service.get_ticket_by_number(body["ticket_number"])
    assert ticket["channel"] == "sms" and ticket["intake_line"] == "12345" and "井盖" in ticket["text"]
    assert {"kind": "phone", "value": "+8613800138000"} in [
        {"kind": i["kind"], "value": i["value"]} for i in ticket["citizen"]["identities"]]
    # The number goes back through the notification jobs (recorded, retried), at once even at night:
    # it answers the message the citizen has just sent.
    for _ in range(200):
        if gateway.sent:
            break
        await asyncio.sleep(0.05)
    [ack] = gateway.sent
    assert ack["to"] == "+8613800138000" and body["ticket_number"] in "".join(ack["parts"])


async def test_leader_number_is_an_intake_line(make_client, service, clock):
    client = await make_client()
    status, body = await inbound(client, clock, fixture("mo_leader.json"))
    ticket = await service.get_ticket_by_number(body["ticket_number"])
    assert ticket["intake_line"] == "mayor"
    assert ticket["citizen"]["identities"][0]["value"] == "+8657188886666"  # 0571 landline -> +86


async def test_long_sms_parts_are_joined_in_order(make_client, service, clock):
    client = await make_client()
    status, body = await inbound(client, clock, fixture("mo_part2.json"))  # arrives first
    assert body == {"status": "partial"}
    status, body = await inbound(client, clock, fixture("mo_part1.json"))
    ticket = await service.get_ticket_by_number(body["ticket_number"])
    assert ticket["text"] == fixture("mo_part1.json")["text"] + fixture("mo_part2.json")["text"]
    # The gateway re-delivering a part changes nothing.
    status, again = await inbound(client, clock, fixture("mo_part2.json"))
    assert again["duplicate"] is True and again["ticket_number"] == body["ticket_number"]
    assert len(await rows(service.engine, tickets, tickets.c.text.contains("鸽子"))) == 1


async def test_same_sms_concurrently_gives_one_ticket(make_client, service, clock):
    client = await make_client()
    results = await asyncio.gather(*(inbound(client, clock, fixture("mo.json")) for _ in range(3)))
    assert len({body["ticket_number"] for _, body in results}) == 1
    assert len(await rows(service.engine, tickets, tickets.c.text.contains("井盖丢了"))) == 1
    assert len(await rows(service.engine, ticket_messages, ticket_messages.c.external_id == "MO2611231000000001")) == 1


async def test_follow_up_with_ticket_number_threads(make_client, service, clock):
    client = await make_client()
    _, first = await inbound(client, clock, fixture("mo.json"))
    _, second = await inbound(client, clock, fixture("mo.json", id="MO-2", text=f"补充：{first['ticket_number']} 井盖旁还有积水"))
    assert second["threaded"] is True and second["ticket_number"] == first["ticket_number"]


async def test_outbound_long_message_is_split_and_receipted(make_client, service, clock, gateway):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["sms"]
    text = "您反映的文三路井盖缺失问题，经西湖区城管局现场核实，已于当日补装新井盖并设置警示标志。" * 2
    result = await adapter.send(OutboundMessage(channel="sms", recipient=Identity(kind="phone", value="13800138000"),
                                                text=text, external_id="notice-1"))
    assert result.ok and result.external_id == "GW-000001"
    assert "".join(gateway.sent[0]["parts"]) == text and len(gateway.sent[0]["parts"]) == 2
    row = (await rows(service.engine, sms_outbound))[0]
    assert (row.status, row.segments, row.phone) == ("sent", 2, "+8613800138000")
    # Sending the same message again does not send twice.
    again = await adapter.send(OutboundMessage(channel="sms", recipient=Identity(kind="phone", value="13800138000"),
                                               text=text, external_id="notice-1"))
    assert again.ok and len(gateway.sent) == 1
    body, headers = signed(fixture("receipt_delivered.json", ref="notice-1"), at=clock.now().timestamp())
    resp = await client.post("/channels/sms/receipt", data=body, headers=headers)
    assert resp.status == 200 and (await resp.json())["status"] == "ok"
    assert (await rows(service.engine, sms_outbound))[0].status == "delivered"
    body, headers = signed(fixture("receipt_undeliv.json"), at=clock.now().timestamp())
    await client.post("/channels/sms/receipt", data=body, headers=headers)
    row = (await rows(service.engine, sms_outbound))[0]
    assert (row.status, row.error) == ("failed", "MK:0001")


async def test_outbound_retries_transient_failures(make_client, service, gateway):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["sms"]
    gateway.failures = [503, 502]
    msg = OutboundMessage(channel="sms", recipient=Identity(kind="phone", value="+8613800138000"), text="测试")
    result = await adapter.send(msg)
    assert result.ok and gateway.attempts == 3
    assert (await rows(service.engine, sms_outbound))[0].attempts == 3
    gateway.failures = [503, 503, 503]
    result = await adapter.send(msg)
    assert (result.ok, result.retryable) == (False, True)
    gateway.failures = [400]
    result = await adapter.send(msg)
    assert (result.ok, result.retryable) == (False, False) and gateway.attempts == 7


async def replied_ticket(service, phone_text: str) -> str:
    from hotline.intake import ingest
    from hotline.messages import InboundMessage

    result = await ingest(service, InboundMessage(
        channel="phone", external_id=f"call-{phone_text}", sender=Identity(kind="phone", value="+8613800138000"),
        text=phone_text, received_at=service.now()))
    number = result.ticket_number
    async with service.engine.connect() as conn:
        unit_id = (await conn.execute(sa.select(units.c.id).where(units.c.code == "housing"))).scalar_one()
    unit = Actor(username="t-housing", role="unit", unit_id=unit_id)
    await service.transition(number, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    await service.transition(number, "sign", unit)
    await service.transition(number, "reply", unit, {"text": "已处理"})
    return number


@pytest.mark.parametrize("reply, expected", [("1", "满意"), ("基本满意", "基本满意"), ("3", "不满意")])
async def test_satisfaction_reply_lands_on_the_callback_ticket(make_client, service, clock, gateway, reply,
                                                               expected):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["sms"]
    older = await replied_ticket(service, "楼道灯不亮")
    newer = await replied_ticket(service, "小区垃圾未清运")
    # The callback SMS is about the older ticket, although the newer one is more recent.
    result = await adapter.send(OutboundMessage(
        channel="sms", recipient=Identity(kind="phone", value="13800138000"), template="callback",
        ticket_number=older, text=f"您反映的问题（工单{older}）已办理，请回复：1满意 2基本满意 3不满意"))
    assert result.ok
    status, body = await inbound(client, clock, fixture("mo.json", id="MO-R1", text=reply))
    assert body == {"status": "rated", "ticket_number": older, "satisfaction": expected}
    rated = await service.get_ticket_by_number(older)
    assert rated["satisfaction"] == expected and rated["state"] == "callback_done"
    assert (await service.get_ticket_by_number(newer))["satisfaction"] is None
    assert rated["messages"][-1]["text"] == reply
    # The same reply delivered again is not a second rating.
    status, again = await inbound(client, clock, fixture("mo.json", id="MO-R1", text=reply))
    assert again["duplicate"] is True and again["ticket_number"] == older
    assert len([e for e in (await service.get_ticket_by_number(older))["events"] if e["action"] == "callback"]) == 1
    await settle(client)
    assert any("感谢您对工单" in "".join(s["parts"]) for s in gateway.sent)


async def test_digit_without_callback_is_an_ordinary_message(make_client, service, clock):
    client = await make_client()
    status, body = await inbound(client, clock, fixture("mo.json", text="1"))
    assert body["status"] == "ok" and body["created"] is True


# -- bad input -------------------------------------------------------------------------------

async def snapshot(engine) -> tuple[int, ...]:
    return tuple([len(await rows(engine, table)) for table in (tickets, ticket_messages, sms_parts)])


async def test_bad_signature_and_replayed_timestamp_are_401(make_client, service, clock):
    client = await make_client()
    before = await snapshot(service.engine)
    status, body = await inbound(client, clock, fixture("mo.json"), secret="wrong")
    assert status == 401 and body["error"]["code"] == "verification_failed"
    status, body = await inbound(client, clock, fixture("mo.json"), at=clock.now().timestamp() - 301)
    assert status == 401 and "时间戳" in body["error"]["message"]
    status, body = await inbound(client, clock, fixture("mo.json"), at=clock.now().timestamp() + 301)
    assert status == 401
    resp = await client.post("/channels/sms/inbound", data=json.dumps(fixture("mo.json")))
    assert resp.status == 401
    # A signature over a different body (tampered in transit).
    body_bytes, headers = signed(fixture("mo.json"), at=clock.now().timestamp())
    resp = await client.post("/channels/sms/inbound", data=body_bytes.replace("井盖".encode(), "路灯".encode()),
                             headers=headers)
    assert resp.status == 401
    assert await snapshot(service.engine) == before


@pytest.mark.parametrize("data", [
    b"{not json",
    b"[1, 2]",
    json.dumps({"id": "x", "from": "13800138000", "to": "12345", "text": "hi"}).encode(),  # no type
    json.dumps({"type": "mo", "from": "13800138000", "to": "12345", "text": "hi"}).encode(),  # no id
    json.dumps({"type": "mo", "id": "x", "from": "abc", "to": "12345", "text": "hi",
                "received_at": "2026-11-23T10:00:00+08:00"}).encode(),
    json.dumps({"type": "mo", "id": "x", "from": "13800138000", "to": "12345", "text": "hi",
                "received_at": "2026-11-23T10:00:00"}).encode(),  # naive time
    json.dumps({"type": "mo", "id": "x", "from": "13800138000", "to": "12345", "text": "hi",
                "received_at": "2026-11-23T10:00:00+08:00", "udh": {"ref": "1", "total": 2, "seq": 3}}).encode(),
])
async def test_malformed_payloads_are_400(make_client, service, clock, data):
    client = await make_client()
    before = await snapshot(service.engine)
    body, headers = signed(data, at=clock.now().timestamp())
    resp = await client.post("/channels/sms/inbound", data=body, headers=headers)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "malformed_payload"
    assert await snapshot(service.engine) == before


async def test_oversize_body_is_413(make_client, service, clock):
    client = await make_client(max_body_bytes=1024)
    before = await snapshot(service.engine)
    status, body = await inbound(client, clock, fixture("mo.json", text="很长" * 1000))
    assert status == 413
    assert await snapshot(service.engine) == before


async def test_unknown_types_and_statuses_are_acknowledged(make_client, service, clock):
    client = await make_client()
    before = await snapshot(service.engine)
    status, body = await inbound(client, clock, fixture("keepalive.json"))
    assert (status, body) == (200, {"status": "ignored", "reason": "unknown_event"})
    data, headers = signed(fixture("receipt_unknown_status.json"), at=clock.now().timestamp())
    resp = await client.post("/channels/sms/receipt", data=data, headers=headers)
    assert resp.status == 200 and (await resp.json())["status"] == "ignored"
    assert await snapshot(service.engine) == before


# -- long messages: reused references, stale parts, retries ----------------------------------

PART1, PART2 = fixture("mo_part1.json"), fixture("mo_part2.json")
# The same phone a day later: its 8-bit UDH reference counter has come round to "a7" again.
LATER1 = fixture("mo_part1.json", id="MO2611241100000011", received_at="2026-11-24T11:00:00+08:00",
                 text="文三路138号3幢门口的垃圾桶已经三天没有清运了，天气热，气味很大，苍蝇很多，")
LATER2 = fixture("mo_part2.json", id="MO2611241100000012", received_at="2026-11-24T11:00:01+08:00",
                 text="请环卫部门尽快清运。")


async def test_reused_reference_a_day_later_is_a_second_ticket_and_retried_parts_dedupe(make_client, service,
                                                                                       clock):
    client = await make_client()
    assert (await inbound(client, clock, PART1))[1] == {"status": "partial"}
    _, first = await inbound(client, clock, PART2)
    assert first["created"] is True
    _, again = await inbound(client, clock, PART1)  # the gateway re-delivers a part
    assert (again["duplicate"], again["ticket_number"]) == (True, first["ticket_number"])

    clock.advance(hours=25)
    assert (await inbound(client, clock, LATER1))[1] == {"status": "partial"}
    _, second = await inbound(client, clock, LATER2)
    assert second["created"] is True and second["ticket_number"] != first["ticket_number"]
    for part in (LATER2, LATER1):
        _, again = await inbound(client, clock, part)
        assert (again["duplicate"], again["ticket_number"]) == (True, second["ticket_number"])

    texts = {n: (await service.get_ticket_by_number(n))["text"] for n in (first["ticket_number"],
                                                                          second["ticket_number"])}
    assert texts == {first["ticket_number"]: PART1["text"] + PART2["text"],
                     second["ticket_number"]: LATER1["text"] + LATER2["text"]}
    stored = await rows(service.engine, ticket_messages, ticket_messages.c.external_id.startswith("+8613900139000:a7:"))
    assert len(stored) == 2


async def test_a_part_older_than_24_hours_is_not_joined(make_client, service, clock):
    client = await make_client()
    assert (await inbound(client, clock, PART1))[1] == {"status": "partial"}  # its second part never came
    clock.advance(hours=25)
    assert (await inbound(client, clock, LATER2))[1] == {"status": "partial"}
    _, body = await inbound(client, clock, LATER1)
    assert (await service.get_ticket_by_number(body["ticket_number"]))["text"] == LATER1["text"] + LATER2["text"]
    assert await rows(service.engine, tickets, tickets.c.text.contains("鸽子")) == []


async def test_parts_are_kept_until_the_message_is_accepted(make_client, service, clock, monkeypatch):
    client = await make_client()
    real_ingest = service.ingest
    failures = [RuntimeError("database connection lost")]

    async def flaky_ingest(message):
        if failures:
            raise failures.pop()
        return await real_ingest(message)

    monkeypatch.setattr(service, "ingest", flaky_ingest)
    await inbound(client, clock, PART1)
    status, _ = await inbound(client, clock, PART2)
    assert status == 500
    status, body = await inbound(client, clock, PART2)  # the gateway retries the part
    assert status == 200 and body["created"] is True
    assert (await service.get_ticket_by_number(body["ticket_number"]))["text"] == PART1["text"] + PART2["text"]


async def test_rating_that_failed_midway_is_recorded_when_the_gateway_retries(make_client, service, clock, gateway,
                                                                             monkeypatch):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["sms"]
    number = await replied_ticket(service, "路灯不亮")
    await adapter.send(OutboundMessage(channel="sms", recipient=Identity(kind="phone", value="13800138000"),
                                       template="callback", ticket_number=number, text=f"工单{number}请评价：1满意"))
    transition = service.transition

    async def database_hiccup(*args, **kwargs):
        monkeypatch.setattr(service, "transition", transition)  # only the first call fails
        raise ConnectionError("database connection lost")

    monkeypatch.setattr(service, "transition", database_hiccup)
    status, _ = await inbound(client, clock, fixture("mo.json", id="MO-R9", text="1"))
    assert status >= 500  # the gateway will retry
    status, body = await inbound(client, clock, fixture("mo.json", id="MO-R9", text="1"))
    assert body == {"status": "rated", "ticket_number": number, "satisfaction": "满意"}
    assert (await service.get_ticket_by_number(number))["state"] == "callback_done"


async def test_a_receipt_that_beats_the_send_answer_is_kept(make_client, service):
    client = await make_client()
    adapter = client.app[appkeys.CHANNELS]["sms"]
    mark = adapter._mark  # noqa: SLF001

    async def receipt_first(ref, **values):
        if values.get("gateway_id"):  # the gateway's answer arrives after its delivery receipt
            async with service.engine.begin() as conn:
                await conn.execute(sa.update(sms_outbound).where(sms_outbound.c.client_ref == ref)
                                   .values(status="delivered"))
        await mark(ref, **values)

    adapter._mark = receipt_first  # noqa: SLF001
    result = await adapter.send(OutboundMessage(channel="sms", recipient=Identity(kind="phone", value="13800138000"),
                                                text="通知", external_id="r-1"))
    assert result.ok
    async with service.engine.connect() as conn:
        row = (await conn.execute(sa.select(sms_outbound).where(sms_outbound.c.client_ref == "r-1"))).one()
    assert row.status == "delivered" and row.gateway_id
