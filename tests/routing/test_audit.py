"""The routing audit: suggestions at intake against where tickets were finally dispatched."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from hotline.service import NewTicket
from hotline.tables import units
from hotline.users import SYSTEM, Actor
from routing.audit import routing_audit

DISPATCHER = Actor(username="dispatcher1", role="dispatcher")


def suggestion(version: str, unit: str, confidence: float, *, top3=(), auto=False, rule=1, emergency=None) -> dict:
    return {"model_version": version, "lead_unit": unit, "confidence": confidence, "auto_dispatch": auto,
            "rule": rule, "co_units": [], "top3": [{"unit": u, "score": 0.1} for u in (top3 or (unit,))],
            "emergency": emergency, "out_of_scope": None, "category": "C0801"}


async def create(service, routing: dict) -> int:
    async with service.transaction() as conn:
        created = await service.create_on(conn, NewTicket(channel="phone", text="小区门口路灯不亮", request_type="求助"),
                                          SYSTEM, routing)
    return created["id"]


async def unit_actor(service, code: str) -> Actor:
    async with service.engine.connect() as conn:
        unit_id = (await conn.execute(sa.select(units.c.id).where(units.c.code == code))).scalar_one()
    return Actor(username=f"{code}1", role="unit", unit_id=unit_id)


async def test_audit_judges_each_suggestion_by_the_final_lead_unit(service, clock):
    outside = await create(service, suggestion("v1", "urban", 0.99, auto=True))
    clock.advance(days=2)
    since = clock.now() - dt.timedelta(hours=1)
    # v1: auto-dispatched and right; auto-dispatched, returned and sent elsewhere; manual and right
    await create(service, suggestion("v1", "urban", 0.95, auto=True))
    returned = await create(service, suggestion("v1", "urban", 0.92, auto=True))
    await service.transition(returned, "return", await unit_actor(service, "urban"), {"reason": "不属于本单位职责"})
    await service.transition(returned, "dispatch", DISPATCHER, {"lead_unit": "s-dongshan-songlin"})
    manual = await create(service, suggestion("v1", "market", 0.6, rule=2))
    await service.transition(manual, "dispatch", DISPATCHER, {"lead_unit": "market"})
    # v2: wrong but second in the top 3; an emergency (never auto-dispatched) sent as suggested; not dispatched yet
    second = await create(service, suggestion("v2", "market", 0.55, top3=("market", "housing")))
    await service.transition(second, "dispatch", DISPATCHER, {"lead_unit": "housing"})
    urgent = await create(service, suggestion("v2", "urban", 0.85, emergency={"number": "119", "reason": "火情"}))
    await service.transition(urgent, "dispatch", DISPATCHER, {"lead_unit": "urban"})
    await create(service, suggestion("v2", "housing", 0.3))

    report = await routing_audit(service.engine, since, clock.now() + dt.timedelta(hours=1), threshold=0.9)

    assert outside  # created before the period: not counted
    assert (report["tickets"], report["dispatched"], report["unit_correct"], report["top3_hits"]) == (6, 5, 3, 4)
    assert (report["auto_dispatched"], report["auto_correct"], report["auto_returned"]) == (2, 1, 1)
    assert report["unit_accuracy"] == 0.6 and report["auto_precision"] == 0.5 and report["return_rate"] == 0.2
    v1, v2 = report["versions"]
    assert (v1["model_version"], v1["tickets"], v1["dispatched"], v1["unit_correct"]) == ("v1", 3, 3, 2)
    assert (v2["model_version"], v2["tickets"], v2["dispatched"], v2["unit_correct"]) == ("v2", 3, 2, 1)
    bands = {(b["from"], b["to"]): (b["tickets"], b["unit_correct"]) for b in report["bands"]}
    assert bands[(0.9, 1.0)] == (2, 1) and bands[(0.8, 0.9)] == (1, 1) and bands[(0.0, 0.5)] == (1, 0)
    # What each threshold would have done: the emergency is never eligible for auto-dispatch.
    what_if = {t["threshold"]: (t["tickets"], t["precision"]) for t in report["thresholds"]}
    assert what_if[0.5] == (4, 0.5) and what_if[0.6] == (3, round(2 / 3, 4))
    assert what_if[0.9] == (2, 0.5) and what_if[0.95] == (1, 1.0)
    assert report["thresholds"][0]["coverage"] == 0.8
    assert {(c["suggested"], c["final"], c["count"]) for c in report["confusions"]} == {
        ("urban", "s-dongshan-songlin", 1), ("market", "housing", 1)}
    assert [c["suggested_name"] for c in report["confusions"] if c["suggested"] == "urban"] == ["云州市城市管理局"]


async def test_audit_of_an_empty_period_has_no_rates(service, clock):
    report = await routing_audit(service.engine, clock.now() + dt.timedelta(days=1), clock.now() + dt.timedelta(days=2))
    assert report["tickets"] == 0 and report["unit_accuracy"] is None
    assert all(t["precision"] is None for t in report["thresholds"])


def test_audit_cli_prints_figures_and_charts(tmp_path):
    import json

    from click.testing import CliRunner

    from hotline.cli import main
    from tests.routing.conftest import demo_city

    data_dir = tmp_path / "data"

    async def routed(service):
        await create(service, suggestion("v7", "urban", 0.93, auto=True))
        wrong = await create(service, suggestion("v7", "market", 0.62))
        await service.transition(wrong, "dispatch", DISPATCHER, {"lead_unit": "housing"})

    demo_city(data_dir, routed)
    res = CliRunner().invoke(main, ["routing", "audit", "--data-dir", str(data_dir), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    # The six demo tickets were created without a router: nothing to judge.
    assert (report["tickets"], report["dispatched"], report["unit_correct"], report["auto_precision"]) == (2, 2, 1, 1.0)
    assert report["threshold"] == 0.75 and report["confusions"][0]["final_name"] == "云州市住房和城乡建设局"

    res = CliRunner().invoke(main, ["routing", "audit", "--data-dir", str(data_dir)])
    assert res.exit_code == 0, res.output
    assert "建议单位被采纳 50.0%" in res.stdout and "█" * 30 + " 100.0%" in res.stdout  # the 0.9–1.0 band
    assert "0.75 * 覆盖" in res.stdout and "云州市市场监督管理局 → 云州市住房和城乡建设局：1 件" in res.stdout

    res = CliRunner().invoke(main, ["routing", "audit", "--data-dir", str(data_dir), "--since", "2026-13-01"])
    assert res.exit_code == 2 and "开始日期格式应为 YYYY-MM-DD" in res.output
    res = CliRunner().invoke(main, ["routing", "audit", "--data-dir", str(data_dir),
                                    "--since", "2026-11-02", "--until", "2026-11-01"])
    assert res.exit_code == 2 and "开始日期不能晚于结束日期" in res.output


async def test_audit_over_http(aiohttp_client, service, clock, tmp_path):
    from aiohttp import web

    from hotline.appkeys import ENGINE, SERVICE, SETTINGS
    from hotline.config import Settings
    from routing import web as routing_web
    from tests.routing.test_web import Listeners, as_role, fake_auth

    app = web.Application(middlewares=[fake_auth])
    app[SETTINGS], app[ENGINE], app[SERVICE] = Settings(data_dir=tmp_path), service.engine, Listeners()
    routing_web.setup(app)
    client = await aiohttp_client(app)
    ticket = await create(service, suggestion("v9", "market", 0.7))
    await service.transition(ticket, "dispatch", DISPATCHER, {"lead_unit": "market"})
    day = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()

    resp = await client.get(f"/api/v1/routing/audit?since={day}&until={day}", headers=as_role("leader"))
    assert resp.status == 200
    report = await resp.json()
    assert report["versions"] == [{**report["versions"][0], "model_version": "v9", "dispatched": 1, "unit_correct": 1}]
    assert report["threshold"] == 0.75
    resp = await client.get(f"/api/v1/routing/audit?since={day}", headers=as_role("agent"))
    assert resp.status == 403
    for query, message in [("since=23/11/2026", "开始日期格式应为 YYYY-MM-DD"), ("days=0", "days 应为 1 到 3660"),
                           (f"since={day}&until=2020-01-01", "开始日期不能晚于结束日期")]:
        resp = await client.get(f"/api/v1/routing/audit?{query}", headers=as_role("admin"))
        assert resp.status == 400 and message in (await resp.json())["error"]["message"], query
