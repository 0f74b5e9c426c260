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


async def test_the_ticket_list_filters_by_the_routers_flags(aiohttp_client, engine, tmp_path):
    from hotline.users import create_user, issue_token

    app = create_app(Settings(data_dir=tmp_path), engine=engine, migrate=False,
                     plugins=["hotline.api.setup:setup", "routing.web:setup"])
    client = await aiohttp_client(app)
    service = app[SERVICE]
    await seed_demo(service, users=False)
    tokens = {}
    async with engine.begin() as conn:
        for name, role, unit in (("leader1", "leader", None), ("housing1", "unit", "housing")):
            tokens[role] = await issue_token(conn, await create_user(conn, name, role, service.now(), unit_code=unit),
                                             service.now())
    texts = {"calm": "小区门口路灯坏了一周，晚上很黑",
             "sensitive": "开发商延期交房两年，两百多户业主明天要去市政府门口拉横幅集体上访，电视台记者也会来",
             "emergency": "我家厨房燃气泄漏了，闻到很浓的煤气味，老人晕倒了",
             "out_of_scope": "我对区人民法院的民事判决不服，要求市政府撤销法院的判决"}
    numbers = {key: (await service.create_ticket(NewTicket(channel="phone", text=text)))["number"]
               for key, text in texts.items()}

    async def listed(flag, role="leader", status=200):
        resp = await client.get("/api/v1/tickets", params={"flag": flag, "limit": "200"},
                                headers={"Authorization": f"Bearer {tokens[role]}"})
        body = await resp.json()
        assert resp.status == status, body
        return body

    for flag in ("sensitive", "emergency", "out_of_scope"):
        found = {t["number"] for t in (await listed(flag))["items"]}
        assert numbers[flag] in found and numbers["calm"] not in found, flag
    assert (await listed("sensitive"))["total"] == 1  # the demo's sample tickets are no mass incidents
    error = (await listed("media", status=400))["error"]
    assert "flag 只能是" in error["message"] and "sensitive（敏感/群体性事项）" in error["message"]
    assert "智能分拨标记" in (await listed("sensitive", role="unit", status=403))["error"]["message"]


async def test_an_auto_dispatch_that_cannot_happen_leaves_the_ticket_in_the_manual_queue_and_says_why(
        aiohttp_client, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_ROUTING_AUTO_THRESHOLD", "0.1")  # this suggestion would be dispatched at once
    app = create_app(Settings(data_dir=tmp_path), engine=engine, migrate=False,
                     plugins=["hotline.api.setup:setup", "routing.web:setup"])
    await aiohttp_client(app)
    service = app[SERVICE]
    await seed_demo(service, users=False)
    async with engine.begin() as conn:  # the unit its rule names has stopped meanwhile
        await conn.execute(sa.update(units).where(units.c.code == "urban").values(active=False))
    created = await service.create_ticket(NewTicket(channel="phone", request_type="投诉",
                                                    text="东山区松林街道竹园社区门口的垃圾好几天没人清运，臭气熏天"))
    ticket = await service.get_ticket(created["number"])
    assert ticket["state"] == "new" and ticket["lead_unit"] is None
    routing = ticket["routing"]
    assert routing["lead_unit"] == "urban" and routing["auto_dispatch"] is False and routing["queue"] == "manual"
    assert "urban 不存在或已停用" in routing["auto_dispatch_error"]
