"""The console's dispatch queue end to end: console.js in jsdom (node) against the real app with the router.

A ticket the router suggested for the city management bureau is dispatched there and handed back
(退单) by that bureau. The node driver (tests/console/dispatch_driver.js) logs in as a dispatcher
through the login form, finds the ticket in the 待派单 list marked as returned, and opens it: the
router's candidates are offered as buttons, the bureau's struck through; who returned it and why is
shown; the dispatch form starts with the best candidate that did not hand it back, not with the
bureau. The dispatcher clicks another candidate, corrects the category and dispatches. What the
server stored is checked here: the dispatch, and the correction the router learns from. Last, the list
filtered to the tickets the router flagged as sensitive or mass incidents shows just that one, marked.
"""

from __future__ import annotations

import sqlalchemy as sa

from hotline import appkeys
from hotline.app import create_app
from hotline.config import Settings
from hotline.demo import seed_demo
from hotline.service import NewTicket
from hotline.tables import units
from hotline.users import Actor, create_user
from routing.tables import routing_corrections
from tests.core.test_console_kb import ROOT, require_node_and_jsdom, run_driver

DRIVER = ROOT / "tests" / "console" / "dispatch_driver.js"
TEXT = "东山区松林街道竹园社区门口的垃圾好几天没人清运，臭气熏天"
REASON = "垃圾清运已委托街道，请派松林街道"
MASS = "开发商延期交房两年，两百多户业主明天要去市政府门口拉横幅集体上访，电视台记者也会来"
GAS = "我家厨房燃气泄漏了，满屋子煤气味，我妈已经晕倒了"
DISPATCHER = {"username": "dispatcher-q", "password": "dispatch-pass-123"}
LEADER = {"username": "leader-q", "password": "leader-pass-123"}


async def test_a_returned_ticket_in_the_dispatch_queue(aiohttp_server, monkeypatch, tmp_path):
    require_node_and_jsdom()
    monkeypatch.setenv("HOTLINE_ROUTING_AUTO_THRESHOLD", "1.5")  # every ticket waits for a dispatcher
    app = create_app(Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None),
                     plugins=["hotline.api.setup:setup", "hotline.console.web:setup", "routing.web:setup"])
    server = await aiohttp_server(app, host="127.0.0.1")
    service = app[appkeys.SERVICE]
    await seed_demo(service, users=False, extras=False)
    async with service.engine.begin() as conn:
        await create_user(conn, DISPATCHER["username"], "dispatcher", service.now(), password=DISPATCHER["password"])
        await create_user(conn, LEADER["username"], "leader", service.now(), password=LEADER["password"])
        urban_id = (await conn.execute(sa.select(units.c.id).where(units.c.code == "urban"))).scalar()
    number = (await service.create_ticket(NewTicket(channel="phone", request_type="投诉", text=TEXT)))["number"]
    routing = (await service.get_ticket(number))["routing"]
    top3 = [c["unit"] for c in routing["top3"]]
    assert routing["lead_unit"] == "urban" and len(top3) == 3 and top3[0] == "urban"
    boss = Actor(username="dispatcher-q", role="dispatcher")
    await service.transition(number, "dispatch", boss, {"lead_unit": "urban"})
    await service.transition(number, "return", Actor(username="urban1", role="unit", unit_id=urban_id),
                             {"reason": REASON})
    # sent to the street office next, and recalled by the dispatcher before it signed: not a unit's return
    await service.transition(number, "dispatch", boss, {"lead_unit": top3[2]})
    await service.transition(number, "recall", boss, {"reason": "先核实地址"})

    sensitive = (await service.create_ticket(NewTicket(channel="phone", text=MASS)))["number"]
    emergency = (await service.create_ticket(NewTicket(channel="phone", text=GAS)))["number"]
    assert (await service.get_ticket(emergency))["routing"]["emergency"]["number"] == "119"
    scenario = {"dispatcher": DISPATCHER, "leader": LEADER, "number": number, "pick": top3[2], "category": "C0902",
                "sensitive": sensitive, "returned": "urban", "emergency": emergency, "co": "ecology"}
    result = await run_driver(DRIVER, server, scenario)
    seen, leader = result["dispatcher"], result["leader"]

    assert seen["listed_badges"] == ["待派单", "退回 1 次"]  # the unit's return; the dispatcher's recall is no return
    assert seen["header"].endswith("投诉 · 电话 · 12345")  # the channel as staff say it
    assert [(c["unit"], c["returned"], c["disabled"]) for c in seen["candidates"]] == [
        (top3[0], True, False), (top3[1], False, False), (top3[2], True, False)]
    assert seen["candidates"][0]["text"].startswith("云州市城市管理局") and seen["candidates"][0]["text"].endswith("（已退回）")
    assert seen["candidates"][2]["text"].endswith("（已撤回）")
    assert len(seen["returns"]) == 2 and "退单：云州市城市管理局" in seen["returns"][0] and REASON in seen["returns"][0]
    assert "撤回派单：东山区松林街道办事处" in seen["returns"][1]
    assert seen["form_unit"] == top3[1]  # the best candidate that neither handed it back nor was recalled from it
    assert seen["returned_option"] == ["urban"] and seen["recalled_option"] == [top3[2]]
    assert seen["category_start"] == "" and seen["category_options"] > 50  # "不更正" and the taxonomy
    assert seen["note_at_start"] == {"required": False, "placeholder": "派单说明（可选）"}
    assert seen["note_for_returned"]["required"] and "驳回退单的理由" in seen["note_for_returned"]["placeholder"]
    assert seen["note_after_pick"] is False  # the street office only had it recalled: no reason needed
    assert seen["form_unit_after_click"] == top3[2]
    assert seen["after"]["state"] == "已派单" and seen["after"]["lead"] == "东山区松林街道办事处"
    assert seen["flagged"] == [{"number": sensitive, "badges": ["敏感"]}]
    assert any(a.startswith("敏感/群体性事项：请报告值班领导（") for a in seen["flagged_alerts"])
    flagged_route = (await service.get_ticket(sensitive))["routing"]
    assert flagged_route["co_units"]  # its rule names co-handling units: the form starts with them
    assert seen["flagged_form"] == {"lead": flagged_route["lead_unit"], "co": ",".join(flagged_route["co_units"])}
    # the emergency transfer starts with the number the router named (119, not the list's first, 110), and is
    # confirmed before the ticket leaves the platform
    assert seen["transfer_number"] == "119"
    assert seen["transfer_confirms"] == [f"确认将工单 {emergency} 转接 119（火警）？转接后本平台不再办理。"]
    assert seen["transfer_state"] == "已转紧急热线"
    assert (await service.get_ticket(emergency))["state"] == "emergency"
    assert seen["alerts"] == []
    assert "null" not in leader["text"] and "操作" not in leader["cards"] and leader["alerts"] == []
    assert leader["cards"] == ["诉求与答复", "流转记录"]

    ticket = await service.get_ticket(number)
    assert ticket["lead_unit"]["code"] == top3[2] == "s-dongshan-songlin"
    assert seen["co_is_list"] and [u["code"] for u in ticket["co_units"]] == ["ecology"]
    assert ticket["category"]["code"] == "C0902"
    async with service.engine.connect() as conn:
        rows = (await conn.execute(sa.select(routing_corrections).order_by(routing_corrections.c.id))).mappings().all()
    assert [(r["kind"], r["lead_unit"], r["previous_unit"], r["category"]) for r in rows] == [
        ("redispatch", "s-dongshan-songlin", "urban", "C0901"),  # the dispatch before the recall
        ("redispatch", "s-dongshan-songlin", "s-dongshan-songlin", "C0902")]  # the same unit, another category
