"""The console's new-ticket form with live assist, a unit's actions and the 知识库 editor, end to end: console.js
and kb.js in jsdom (node, tests/console/assist_driver.js) against the real app with the router and the knowledge
base (demo city, demo articles, indexed).

- The assist panel shows the router's pick (无建议 when it has none) with its alerts, the articles with their
  highlighted snippets, similar tickets with state, unit and the start of the reply; never a stray "null".
- Only the answer for the text as it is now is shown; clearing the text clears the panel and cancels the request.
- "用此答复直接办结" on a text the router would dispatch on its own: the ticket is created without being
  dispatched and answered (one ticket for a double click). When the answer step fails the agent is told which
  ticket was saved, and the form takes new content (no Idempotency-Key conflict).
- A unit's double click signs once; after handing a ticket back (退单) it sees a confirmation, not "不存在".
- An editor's double click on 保存 creates one article; cards opened below the list are scrolled into view.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from hotline import appkeys
from hotline.service import NewTicket
from hotline.tables import tickets
from hotline.users import Actor
from knowledge.jobs import index_pending
from tests.core.console_app import start
from tests.core.test_console_kb import ROOT, run_driver

DRIVER = ROOT / "tests" / "console" / "assist_driver.js"
MASS = "开发商延期交房两年，两百多户业主明天要去市政府门口拉横幅集体上访，电视台记者也会来"
LIGHTS_REPLY = ("经联系城管部门现场核实，该路段路灯线路老化导致不亮，已于当日更换线路并恢复照明，"
                "今后如再发现路灯故障可直接拨打12345或通过云州城管公众号上报，感谢您的反映。")
SCENARIO = {
    "agent": {"username": "agent-a", "password": "agent-pass-123"},
    "unit": {"username": "housing-a", "password": "unit-pass-123", "reason": "该事项属于燃气公司管理"},
    "editor": {"username": "editor-a", "password": "editor-pass-123"},
    "phone": "13800138001",
    "panels": {"lights": "小区门口路灯不亮", "wages": "老板拖欠工资", "mass": MASS, "nothing": "😀😀😀😀"},
    "race": {"first": "公司三个月没发工资怎么办", "second": "小区门口路灯不亮"},
    "answer": {"text": "公司三个月没发工资怎么办", "text2": "老板拖欠工资两个月了",
               "text3": "老板拖欠工资两个月了，公司在东山区"},
    "article": {"title": "燃气表更换流程", "body": "<p>燃气表到期更换由燃气公司上门办理，不收取费用。</p>"},
}


async def by_text(service, text: str) -> list:
    async with service.engine.connect() as conn:
        return (await conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.state, tickets.c.routing)
                                   .where(tickets.c.text == text))).all()


async def test_new_ticket_assist_unit_actions_and_kb_editor(aiohttp_server, tmp_path):
    app, server, service = await start(aiohttp_server, tmp_path, "a")
    agent, boss = Actor(username="agent-a", role="agent"), Actor(username="editor-a", role="dispatcher")
    # an earlier street-light ticket answered directly, with a long reply: a similar ticket to show
    lights = await service.create_ticket(NewTicket(channel="phone", text="小区门口的路灯坏了好几天，晚上很黑",
                                                   auto_dispatch=False), agent)
    await service.transition(lights["number"], "answer", agent, {"answer": LIGHTS_REPLY})
    # two tickets at the housing bureau: one to sign, one to hand back
    numbers = []
    for text in ("楼道里的消防栓被人拆走了，物业不管", "小区电梯经常困人，物业维修不及时"):
        created = await service.create_ticket(NewTicket(channel="phone", text=text, auto_dispatch=False), agent)
        await service.transition(created["number"], "dispatch", boss, {"lead_unit": "housing"})
        numbers.append(created["number"])
    await index_pending(service.engine, app[appkeys.SEARCH])
    scenario = {**SCENARIO, "unit": {**SCENARIO["unit"], "sign": numbers[0], "return": numbers[1]}}

    result = await run_driver(DRIVER, server, scenario)
    seen, unit, editor = result["agent"], result["unit"], result["editor"]

    # -- the assist panel
    for key in SCENARIO["panels"]:
        assert "null" not in seen[key]["text"], key
    assert seen["lights"]["route"].startswith("派单建议：路灯照明 → 云州市城市管理局（置信度 ")
    similar = [s for s in seen["lights"]["similar"] if s.startswith(lights["number"])]
    assert similar and "直接答复办结" in similar[0] and "未派单" in similar[0]
    assert f"答复：{LIGHTS_REPLY[:60]}…" in similar[0] and LIGHTS_REPLY[60:] not in similar[0]
    assert seen["wages"]["snippets"] and "拖欠工资" in seen["wages"]["snippets"][0]["marked"]
    assert seen["mass"]["alerts"] == ["敏感/群体性事项：请报告值班领导（群体性事件、涉及人数众多、媒体关注）"]
    assert seen["nothing"]["route"] == "派单建议：无建议"

    # -- a slow answer for an earlier text is dropped; clearing empties the panel and cancels the request
    assert "路灯照明" in seen["race"]["route"] and "拖欠工资" not in seen["race"]["text"]
    assert seen["cleared_at_once"] == "" and seen["cleared"] == "" and seen["aborted"] >= 1

    # -- answered from the knowledge base: never dispatched, one ticket for a double click
    answered = seen["answered"]
    assert answered["error"] == "" and answered["new_hidden"] and "直接答复办结" in answered["header"]
    assert answered["creates"] == 1 and answered["transitions"] == 1
    [row] = await by_text(service, SCENARIO["answer"]["text"])
    ticket = await service.get_ticket(row.id)
    assert ticket["state"] == "answered" and ticket["lead_unit"] is None
    assert [e["action"] for e in ticket["events"]] == ["create", "answer"]
    assert ticket["routing"]["lead_unit"] == "hrss" and ticket["routing"]["auto_dispatch_skipped"] is True
    assert any("拖欠工资如何维权" in m["text"] for m in ticket["messages"] if m["direction"] == "out")

    # -- the answer step failed: the ticket saved is named and linked, and the form takes new content
    [row2] = await by_text(service, SCENARIO["answer"]["text2"])
    assert row2.state == "new"  # saved, not dispatched meanwhile
    failed = seen["failed"]
    assert f"工单 {row2.number} 已保存" in failed["error"] and "未能直接答复办结：工单已被他人处理" in failed["error"]
    assert failed["link"] == f"打开工单 {row2.number}" and failed["text_left"] == "" and failed["assist"] == ""
    [row3] = await by_text(service, SCENARIO["answer"]["text3"])
    assert seen["saved_after"]["error"] == "" and seen["saved_after"]["header"].startswith(row3.number)
    assert seen["alerts"] == []

    # -- the unit: one 签收 for a double click; after 退单 a confirmation, the ticket gone from its list
    assert unit["sign_disabled"] is True and unit["signs"] == 1 and unit["sign_state"] == "已签收"
    assert unit["returned"]["detail"].startswith(f"已退单：工单 {numbers[1]}") and "不存在" not in unit["returned"]["detail"]
    assert numbers[1] not in unit["returned"]["listed"] and numbers[0] in unit["returned"]["listed"]
    assert unit["alerts"] == []
    assert (await service.get_ticket(numbers[0]))["state"] == "signed"
    assert (await service.get_ticket(numbers[1]))["state"] in ("new", "accepted")

    # -- the editor: one article for a double click on 保存; the editor and the article scrolled into view
    assert editor["save_disabled"] is True and editor["creates"] == 1 and editor["alerts"] == []
    assert editor["editor_scrolled"] == ["kb-editor"] and editor["scrolled"][-1] == "kb-article"
    assert editor["opened"].startswith(SCENARIO["article"]["title"])


def rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """The stylesheet's rules as (selectors, declarations); enough for console.css (no nested at-rules inside)."""
    out = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
        decls = dict((k.strip(), v.strip()) for k, _, v in (d.partition(":") for d in body.split(";")) if v.strip())
        out.append(([s.strip() for s in selectors.split(",")], decls))
    return out


def declared(css: str, selector: str, prop: str) -> str | None:
    found = None
    for selectors, decls in rules(css):
        if selector in selectors and prop in decls:
            found = decls[prop]
    return found


def test_row_forms_lie_horizontally_and_nav_buttons_wrap_whole():
    css = (ROOT / "hotline" / "console" / "static" / "console.css").read_text(encoding="utf-8")
    assert declared(css, "form", "flex-direction") == "column"  # forms stack their fields
    # … except forms laid out as a row (the 知识库 filters, the 从/到 of a diff, the date ranges): a selector more
    # specific than `form` turns them back
    assert declared(css, "form.row", "flex-direction") == "row" and declared(css, "form.row", "flex-wrap") in (None, "wrap")
    assert declared(css, ".row", "flex-wrap") == "wrap"
    assert declared(css, "nav", "flex-wrap") == "wrap" and declared(css, "nav button", "white-space") == "nowrap"
