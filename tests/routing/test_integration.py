"""The routing package inside the real application: suggestions at intake, corrections from dispatchers."""

import sqlalchemy as sa

from hotline.app import create_app
from hotline.appkeys import ROUTER, SERVICE
from hotline.config import Settings
from hotline.demo import seed_demo
from hotline.service import NewTicket
from hotline.tables import tickets, units
from hotline.users import Actor
from routing.tables import routing_corrections

DISPATCHER = Actor(username="dispatcher1", role="dispatcher")


async def test_intake_suggestion_and_dispatcher_corrections(aiohttp_client, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_ROUTING_AUTO_THRESHOLD", "1.5")  # everything goes to the manual queue
    app = create_app(Settings(data_dir=tmp_path), engine=engine, migrate=False,
                     plugins=["hotline.api.setup:setup", "routing.web:setup"])
    await aiohttp_client(app)
    service = app[SERVICE]
    assert service.router is app[ROUTER]
    await seed_demo(service, users=False)

    created = await service.create_ticket(NewTicket(
        channel="phone", request_type="投诉", title="垃圾无人清运",
        text="东山区松林街道竹园社区门口的垃圾好几天没人清运，臭气熏天"))
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets).where(tickets.c.id == created["id"]))).first()
        unit_ids = dict((await conn.execute(sa.select(units.c.code, units.c.id))).all())
    suggestion = row.routing
    assert suggestion["model_version"] == app[ROUTER].model.version
    assert suggestion["auto_dispatch"] is False and suggestion["lead_unit"] == "urban"
    assert row.district == "东山区" and row.state == "new"

    # the dispatcher disagrees: the street office leads
    await service.transition(created["id"], "dispatch", DISPATCHER,
                             {"lead_unit": "s-dongshan-songlin", "category": "C0901"})
    # the street office returns it, and it goes to the urban management bureau after all
    street = Actor(username="songlin1", role="unit", unit_id=unit_ids["s-dongshan-songlin"])
    await service.transition(created["id"], "return", street, {"reason": "不属于本街道职责"})
    await service.transition(created["id"], "dispatch", DISPATCHER, {"lead_unit": "urban"})

    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(routing_corrections).order_by(routing_corrections.c.id))).mappings().all()
    assert [(r["kind"], r["lead_unit"], r["previous_unit"], r["suggested_unit"]) for r in rows] == [
        ("dispatch", "s-dongshan-songlin", None, "urban"),
        ("redispatch", "urban", "s-dongshan-songlin", "urban"),
    ]
    assert rows[0]["category"] == "C0901" and rows[0]["actor"] == "dispatcher1"
    assert rows[0]["model_version"] == suggestion["model_version"]


async def test_request_type_left_open_is_filled_from_the_router(aiohttp_client, engine, tmp_path):
    app = create_app(Settings(data_dir=tmp_path), engine=engine, migrate=False,
                     plugins=["hotline.api.setup:setup", "routing.web:setup"])
    await aiohttp_client(app)
    service = app[SERVICE]
    await seed_demo(service, users=False)
    open_type = await service.create_ticket(NewTicket(channel="wechat", text="我要举报东山区幸福路有人违规搭建彩钢棚"))
    given = await service.create_ticket(NewTicket(channel="phone", text="我要举报东山区幸福路有人违规搭建彩钢棚",
                                                  request_type="投诉"))
    async with engine.connect() as conn:
        rows = {r.id: r for r in (await conn.execute(sa.select(tickets))).all()}
    assert rows[open_type["id"]].request_type == "举报" == rows[open_type["id"]].routing["request_type"]
    assert rows[given["id"]].request_type == "投诉" == rows[given["id"]].routing["request_type"]
