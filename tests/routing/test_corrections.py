import datetime as dt
from types import SimpleNamespace

import sqlalchemy as sa

from hotline.tables import ticket_events
from routing.corrections import record_correction
from routing.tables import routing_corrections
from tests.routing.conftest import insert_ticket

SUGGESTION = {"category": "C0203", "lead_unit": "ecology", "model_version": "routing-test-1", "request_type": "投诉"}


def event(ticket_id, action="dispatch", lead="ecology", category="C0203", from_state="new", **ticket):
    return SimpleNamespace(ticket_id=ticket_id, action=action, from_state=from_state, to_state="dispatched",
                           actor="dispatcher1", params={"lead_unit": lead, "co_units": ["d-yunhu"], "category": category},
                           ticket={"id": ticket_id, "title": "广场舞扰民", "text": "每晚广场舞音响太吵",
                                   "request_type": "投诉", "routing": SUGGESTION} | ticket)


async def stored(engine):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(routing_corrections).order_by(routing_corrections.c.id))).mappings().all()


async def test_dispatch_as_suggested_is_not_a_correction(engine):
    async with engine.begin() as conn:
        tid = await insert_ticket(conn, "每晚广场舞音响太吵", number="T1")
        assert await record_correction(conn, event(tid)) is False
    assert await stored(engine) == []


async def test_changed_unit_and_category_are_stored_with_suggestion(engine):
    async with engine.begin() as conn:
        tid = await insert_ticket(conn, "每晚广场舞音响太吵", number="T2")
        assert await record_correction(conn, event(tid, lead="police", category="C1001")) is True
    [row] = await stored(engine)
    assert (row["kind"], row["lead_unit"], row["category"]) == ("dispatch", "police", "C1001")
    assert (row["suggested_unit"], row["suggested_category"]) == ("ecology", "C0203")
    assert row["model_version"] == "routing-test-1" and row["actor"] == "dispatcher1"
    assert row["text"] == "广场舞扰民。每晚广场舞音响太吵" and row["co_units"] == ["d-yunhu"]


async def test_changed_category_only_is_stored(engine):
    async with engine.begin() as conn:
        tid = await insert_ticket(conn, "工厂噪音", number="T3")
        assert await record_correction(conn, event(tid, category="C0201")) is True
    assert (await stored(engine))[0]["category"] == "C0201"


async def core_event(conn, ticket_id, action, lead=None):
    """The row the core writes to ticket_events before it calls listeners."""
    await conn.execute(sa.insert(ticket_events).values(
        ticket_id=ticket_id, action=action, from_state="x", to_state="y", actor="someone",
        data={"lead_unit": lead} if lead else {}, at=dt.datetime.now(dt.timezone.utc)))


async def test_returned_ticket_redispatched_elsewhere(engine):
    async with engine.begin() as conn:
        tid = await insert_ticket(conn, "广场舞", number="T4")
        await core_event(conn, tid, "dispatch", "ecology")
        assert await record_correction(conn, event(tid)) is False  # as suggested
        await core_event(conn, tid, "return")  # the ecology bureau returns it
        await core_event(conn, tid, "dispatch", "police")
        assert await record_correction(conn, event(tid, lead="police", from_state="accepted")) is True
        await core_event(conn, tid, "return")  # the police return it too
        await core_event(conn, tid, "dispatch", "police")
        # sent back to the unit that just returned it: nothing new learned
        assert await record_correction(conn, event(tid, lead="police", from_state="accepted")) is False
    rows = await stored(engine)
    assert [(r["kind"], r["lead_unit"], r["previous_unit"]) for r in rows] == [("redispatch", "police", "ecology")]


async def test_other_actions_ignored(engine):
    async with engine.begin() as conn:
        tid = await insert_ticket(conn, "x", number="T5")
        assert await record_correction(conn, event(tid, action="reopen", lead="police")) is False
        assert await record_correction(conn, event(tid, action="dispatch", lead=None)) is False
    assert await stored(engine) == []
