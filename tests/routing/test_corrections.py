import datetime as dt
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from hotline.lifecycle import IllegalTransition
from hotline.service import NewTicket
from hotline.tables import ticket_events, ticket_units, units
from hotline.users import Actor
from routing.corrections import record_correction
from routing.retrain import load_history
from routing.tables import routing_corrections
from tests.routing.conftest import insert_ticket, insert_unit

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


async def test_a_corrected_request_type_alone_is_stored(engine):
    async with engine.begin() as conn:
        tid = await insert_ticket(conn, "广场舞音响能开到几点", number="T3b")
        ev = event(tid, request_type="咨询")
        ev.params["request_type"] = "咨询"
        assert await record_correction(conn, ev) is True
    assert (await stored(engine))[0]["request_type"] == "咨询"


async def core_event(conn, ticket_id, action, lead=None, category="C0203"):
    """The row the core writes to ticket_events before it calls listeners (a dispatch names unit and category)."""
    await conn.execute(sa.insert(ticket_events).values(
        ticket_id=ticket_id, action=action, from_state="x", to_state="y", actor="someone",
        data={"lead_unit": lead, "category": category} if lead else {}, at=dt.datetime.now(dt.timezone.utc)))


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


# -- through the real ticket lifecycle -------------------------------------------------------------

DISPATCHER = Actor(username="dispatcher1", role="dispatcher")


class FixedRouter:
    """Suggests SUGGESTION for every ticket (the real router is tested elsewhere)."""

    async def suggest(self, text, **kwargs):
        return dict(SUGGESTION)


async def lifecycle(service, listeners=1):
    """A new ticket with the fixed suggestion; returns its id and a unit user factory."""
    service.router = FixedRouter()
    for _ in range(listeners):
        service.add_listener(record_correction)
    async with service.engine.connect() as conn:
        unit_ids = dict((await conn.execute(sa.select(units.c.code, units.c.id))).all())
    created = await service.create_ticket(NewTicket(channel="phone", request_type="投诉", title="广场舞扰民",
                                                    text="每晚广场舞音响太吵"))
    return created["id"], lambda code: Actor(username=f"{code}1", role="unit", unit_id=unit_ids[code])


def summary(rows):
    return [(r["kind"], r["previous_unit"], r["lead_unit"], r["category"]) for r in rows]


async def label(engine):
    [example] = [e for e in await load_history(engine) if e.text == "广场舞扰民。每晚广场舞音响太吵"]
    return example.category


async def test_redispatch_is_compared_with_the_dispatch_it_was_returned_from(service):
    tid, unit = await lifecycle(service)
    await service.transition(tid, "dispatch", DISPATCHER, {"lead_unit": "urban", "category": "C1001"})
    await service.transition(tid, "return", unit("urban"), {"reason": "分类有误，应为市容环卫"})
    # same unit, corrected category: a correction of the dispatcher's own earlier label
    await service.transition(tid, "dispatch", DISPATCHER, {"lead_unit": "urban", "category": "C0901",
                                                          "note": "已更正分类，仍由城管办理"})
    assert summary(await stored(service.engine)) == [
        ("dispatch", None, "urban", "C1001"), ("redispatch", "urban", "urban", "C0901")]
    assert await label(service.engine) == "C0901"

    await service.transition(tid, "return", unit("urban"), {"reason": "不属于本单位职责"})
    await service.transition(tid, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    await service.transition(tid, "return", unit("housing"), {"reason": "不属于本单位职责"})
    await service.transition(tid, "dispatch", DISPATCHER, {"lead_unit": "ecology"})
    await service.transition(tid, "return", unit("ecology"), {"reason": "请核实地址"})
    await service.transition(tid, "dispatch", DISPATCHER, {"lead_unit": "ecology", "note": "地址已核实"})  # nothing new
    with pytest.raises(IllegalTransition):  # the same dispatch submitted twice
        await service.transition(tid, "dispatch", DISPATCHER, {"lead_unit": "ecology", "note": "地址已核实"})
    rows = await stored(service.engine)
    assert summary(rows)[2:] == [("redispatch", "urban", "housing", "C0901"),
                                 ("redispatch", "housing", "ecology", "C0901")]
    assert {(r["suggested_unit"], r["suggested_category"]) for r in rows} == {("ecology", "C0203")}
    assert await label(service.engine) == "C0901"


async def test_redispatch_compares_with_the_unit_that_returned_it_not_the_suggestion(service):
    """A ticket handed over already with the police (no dispatch event), returned and sent to the suggested unit."""
    async with service.engine.begin() as conn:
        police = await insert_unit(conn, "police")
        tid = await insert_ticket(conn, "每晚广场舞音响太吵", number="T6", lead_unit_id=police, routing=SUGGESTION)
        await conn.execute(sa.insert(ticket_units).values(ticket_id=tid, unit_id=police, role="lead", active=True,
                                                          dispatched_at=service.now()))
    service.add_listener(record_correction)
    await service.transition(tid, "return", Actor(username="police1", role="unit", unit_id=police),
                             {"reason": "不属于公安职责"})
    await service.transition(tid, "dispatch", DISPATCHER, {"lead_unit": "ecology", "category": "C0203"})
    assert summary(await stored(service.engine)) == [("redispatch", "police", "ecology", "C0203")]


async def test_a_listener_run_twice_stores_the_correction_once(service):
    tid, _ = await lifecycle(service, listeners=2)
    await service.transition(tid, "dispatch", DISPATCHER, {"lead_unit": "urban", "category": "C0901"})
    assert summary(await stored(service.engine)) == [("dispatch", None, "urban", "C0901")]
