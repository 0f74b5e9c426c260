"""Knowledge in a ticket's reply forms, and a rejected draft's reason, end to end: console.js and kb.js in jsdom
(node, tests/console/insert_driver.js) against the real app with the router and the knowledge base (demo city,
demo articles, indexed).

- The agent's 直接答复 form on an open ticket has a 知识库 panel (collapsed; the suggestions are asked for when
  it is opened) with the articles suggested for the ticket's text and their highlighted snippets.
- 插入答复 puts the article's answer with its 依据 line into the reply at the cursor, without submitting the form;
  the button is disabled while its request runs (a double click inserts once); an insert the server refuses is
  shown in the form in Chinese, not as an alert. Submitting then answers the ticket with the text as edited.
- A unit user's 答复 form has the panel too: a suggested article is appended on a new line when the reply was
  never focused; the search box (Enter) finds another published article, inserted after the first; a refused
  search is shown in the form. The unit's reply is the inserted text.
- In 知识库, a draft an editor sent back shows the editor's latest reason (审核未通过：…) under its title, also
  after it was edited, to the editor and to the draft's unit; a plain draft and a resubmitted article do not.
"""

from __future__ import annotations

import sqlalchemy as sa

from hotline import appkeys
from hotline.service import NewTicket
from hotline.users import Actor
from knowledge.assist import answer_block
from knowledge.jobs import index_pending
from knowledge.tables import kb_articles
from knowledge.web import ARTICLES
from tests.core.console_app import start
from tests.core.test_console_kb import ROOT, run_driver

DRIVER = ROOT / "tests" / "console" / "insert_driver.js"
DRAFT = "您好：\n\n祝您生活愉快！"
SCENARIO = {
    "agent": {"username": "agent-i", "password": "agent-pass-123", "text": "公司拖欠工资三个月了，老板一直拖着不发",
              "article": "拖欠工资如何维权", "draft": DRAFT, "caret": DRAFT.index("\n") + 1, "edit": "（坐席补充）"},
    "unit": {"username": "housing-i", "password": "unit-pass-123", "text": "小区物业服务很差，乱收费，业主投诉物业没人管",
             "article": "物业服务纠纷投诉渠道", "draft": "经核实，答复如下：", "search": "燃气过户", "search_article": "燃气开户和过户办理",
             "bad_search": "13800138000"},
    "editor": {"username": "editor-i", "password": "editor-pass-123", "rejected": "电动自行车上牌须知",
               "plain": "公园开放时间", "resubmitted": "老年人乘车优惠"},
    "refused": "该知识不在有效期内（尚未生效或已失效），不能引用",
}
REASON = "请补充上牌所需材料和办理地点"


async def article_id(service, title: str) -> int:
    async with service.engine.connect() as conn:
        return (await conn.execute(sa.select(kb_articles.c.id).where(kb_articles.c.title == title))).scalar_one()


async def test_reply_forms_suggest_search_and_insert_articles(aiohttp_server, tmp_path):
    app, server, service = await start(aiohttp_server, tmp_path, "i")
    agent, boss = Actor(username="agent-i", role="agent"), Actor(username="editor-i", role="dispatcher")
    # the agent's ticket: new, not dispatched; the unit's: dispatched to the housing bureau and signed
    wages = await service.create_ticket(NewTicket(channel="phone", text=SCENARIO["agent"]["text"], auto_dispatch=False), agent)
    housing = await service.create_ticket(NewTicket(channel="phone", text=SCENARIO["unit"]["text"], auto_dispatch=False), agent)
    await service.transition(housing["number"], "dispatch", boss, {"lead_unit": "housing"})
    async with service.engine.connect() as conn:
        unit_user = Actor(username="housing-i", role="unit", unit_id=(await conn.execute(
            sa.text("select unit_id from users where username = 'housing-i'"))).scalar_one())
    await service.transition(housing["number"], "sign", unit_user, {})
    await index_pending(service.engine, app[appkeys.SEARCH])
    scenario = {**SCENARIO, "steps": ["agent", "unit"], "agent": {**SCENARIO["agent"], "ticket": wages["number"]},
                "unit": {**SCENARIO["unit"], "ticket": housing["number"]}}
    kb, blocks = app[ARTICLES], {}
    for title in (SCENARIO["agent"]["article"], SCENARIO["unit"]["article"], SCENARIO["unit"]["search_article"]):
        blocks[title] = answer_block(await kb.get(await article_id(service, title)))
    assert all("（依据：《" in b for b in blocks.values())

    result = await run_driver(DRIVER, server, scenario)
    seen, unit = result["agent"], result["unit"]

    # -- the agent's 直接答复: a collapsed 知识库 panel, asked for its suggestions only once opened
    assert seen["collapsed"]["present"] and not seen["collapsed"]["open"] and seen["collapsed"]["assists"] == 0
    opened = seen["opened"]
    assert opened["open"] and opened["assists"] == 1 and opened["error"] == "" and "null" not in opened["suggested_text"]
    assert opened["suggested"][0]["title"] == SCENARIO["agent"]["article"]
    assert "拖欠工资" in opened["suggested"][0]["marked"]
    assert "派单建议" not in opened["suggested_text"]  # articles only: the ticket card shows the router's pick

    # -- 插入答复 at the cursor: one request for a double click, the button disabled meanwhile, nothing submitted
    block = blocks[SCENARIO["agent"]["article"]]
    assert seen["disabled_while_running"] is True and seen["value_while_running"] == DRAFT
    inserted = seen["inserted"]
    assert inserted["value"] == "您好：\n" + block + "\n祝您生活愉快！"
    assert inserted["caret"] == len("您好：\n" + block)  # the cursor after the inserted answer
    assert inserted["inserts"] == 1 and inserted["transitions"] == 0 and inserted["form_still_there"]
    assert inserted["enabled_after"] and inserted["error"] == ""
    # -- a refused insert: the server's reason in the form, the reply untouched, no alert
    refused = seen["refused"]
    assert refused["error"] == f"未能插入“{SCENARIO['agent']['article']}”：{SCENARIO['refused']}"
    assert refused["unchanged"] and refused["enabled"]
    assert seen["alerts"] == []

    # -- submitted: the ticket is answered with the text as the agent left it
    assert seen["after"]["badge"] == "直接答复办结" and seen["after"]["transitions"] == 1
    ticket = await service.get_ticket(wages["number"])
    assert ticket["state"] == "answered"
    out = [m["text"] for m in ticket["messages"] if m["direction"] == "out"]
    assert out == [seen["submitted_text"].strip()] and block in out[0] and out[0].endswith(SCENARIO["agent"]["edit"])

    # -- the unit's 答复: the panel too (articles, no routing), appended on a new line, searched, inserted after
    assert unit["opened"]["open"] and unit["opened"]["error"] == ""
    assert SCENARIO["unit"]["article"] in [a["title"] for a in unit["opened"]["suggested"]]
    assert [r.split(" ")[-1] for r in unit["assist_requests"]] == ["200"]
    first = SCENARIO["unit"]["draft"] + "\n" + blocks[SCENARIO["unit"]["article"]]
    assert unit["appended"] == first
    searched = unit["searched"]
    assert searched["results"][0] == SCENARIO["unit"]["search_article"] and searched["transitions"] == 0
    assert SCENARIO["unit"]["search_article"] not in [a["title"] for a in unit["opened"]["suggested"]]  # another one
    assert "kind=article" in searched["request"] and "status=published" in searched["request"]
    assert unit["second"] == first + "\n" + blocks[SCENARIO["unit"]["search_article"]]
    assert unit["bad_search"]["error"].startswith("检索失败：") and unit["bad_search"]["results"] == []
    assert unit["bad_search"]["value_kept"]
    assert unit["after"]["badge"] == "已答复" and unit["after"]["transitions"] == 1 and unit["alerts"] == []
    replied = await service.get_ticket(housing["number"])
    assert replied["state"] == "replied"
    assert any(m["text"] == unit["second"] for m in replied["messages"] if m["direction"] == "out")


async def test_rejected_draft_shows_the_latest_reason(aiohttp_server, tmp_path):
    app, server, service = await start(aiohttp_server, tmp_path, "i")
    boss = Actor(username="editor-i", role="dispatcher")
    # drafts in 知识库: one sent back (and edited since), one never submitted, one sent back and resubmitted
    kb, titles = app[ARTICLES], SCENARIO["editor"]
    rejected = await kb.create(boss, {"title": titles["rejected"], "body": "<p>电动自行车须登记上牌后方可上路。</p>",
                                      "unit": "housing"})
    await kb.transition(boss, rejected["id"], "submit")
    await kb.transition(boss, rejected["id"], "reject", "请先写明适用范围")  # an earlier reason: not the latest
    await kb.transition(boss, rejected["id"], "submit")
    await kb.transition(boss, rejected["id"], "reject", REASON)
    await kb.update(boss, rejected["id"], {"body": "<p>电动自行车须登记上牌后方可上路，上牌免费。</p>"})
    await kb.create(boss, {"title": titles["plain"], "body": "<p>市内公园每日6时至22时开放。</p>"})
    again = await kb.create(boss, {"title": titles["resubmitted"], "body": "<p>65周岁以上老年人免费乘坐公交。</p>"})
    await kb.transition(boss, again["id"], "submit")
    await kb.transition(boss, again["id"], "reject", "请注明需办理老年卡")
    await kb.transition(boss, again["id"], "submit")

    result = await run_driver(DRIVER, server, {**SCENARIO, "steps": ["editor", "unit_kb"]})
    editor, unit = result["editor"], result["unit_kb"]

    # -- 知识库: the latest reason of a rejected draft, right under its title; not for other drafts
    assert editor["rejected"]["badge"] == "草稿" and editor["rejected"]["first_after_title"] == "kb-rejected"
    assert editor["rejected"]["rejected"].startswith(f"审核未通过：{REASON}") and "请先写明适用范围" not in editor["rejected"]["rejected"]
    assert editor["plain"]["badge"] == "草稿" and editor["plain"]["rejected"] == ""
    assert editor["resubmitted"]["badge"] == "待审核" and editor["resubmitted"]["rejected"] == ""
    assert editor["alerts"] == []
    # the draft's unit, who is to fix it, sees the reason too
    assert unit["rejected"]["rejected"].startswith(f"审核未通过：{REASON}") and unit["alerts"] == []
