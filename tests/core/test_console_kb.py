"""The console's 知识库 view end to end: kb.js in jsdom (node) against the real app on loopback.

The app runs with a real SQLite data dir, real users and the knowledge plugin; the node driver
(tests/console/kb_driver.js) loads /console as served, logs in through the login form as a unit,
a platform editor and an agent, and works the view: create (a server validation error first),
submit, edit and publish, diff, send back with a reason, the list's filter box and pages, full-text
search by unit and category, gaps, synonyms; each sees who they are (and a unit user their unit). Its JSON result
is checked here, and so is what the server stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from hotline import appkeys
from hotline.app import create_app
from hotline.config import Settings
from hotline.users import Actor, create_user, issue_token
from knowledge.tables import kb_articles
from knowledge.web import ARTICLES
from tests.knowledge.helpers import seed_categories, seed_units

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "console" / "kb_driver.js"
NODE = shutil.which("node")

SCENARIO = {
    "unit": {"username": "police-kb", "password": "unit-pass-123"},
    "editor": {"username": "editor-kb", "password": "editor-pass-123"},
    "agent": {"username": "agent-kb", "password": "agent-pass-123"},
    "article": {"title": "犬只登记办理指南",
                "body": "<p>养犬人应当在取得犬只之日起三十日内办理犬只登记。</p><p>办理地点为各区公安分局户籍窗口。</p>"},
    "edit": {"from": "三十日", "to": "十五日"},
    "second": {"title": "烟花爆竹燃放规定", "body": "<p>春节期间允许在指定区域燃放烟花爆竹。</p>"},
    "reject_reason": "请补充禁放区域的具体范围",
    "search": "犬只登记",
    "category": "C1001",  # 治安, of the demo taxonomy the test seeds (an article's category must exist)
    "synonyms": "犬只、狗、宠物狗",
    "gap": "电动自行车上牌需要带什么材料",
    "flagged_title": "出入境证件办理须知",
    # published, in force from 2099: an agent's search lists it after the one in force, marked
    "future": {"title": "出入境证件办理新规（2099年起施行）", "body": "<p>2099年起护照办理可全程网办。</p>",
               "valid_from": "2099-01-01", "search": "护照办理"},
    # drafts of another unit, more than one page of the list (50): paging and the filter box
    "bulk": {"unit": "water", "count": 52, "title": "供水服务问答 第{:02d}篇", "filter": "第07篇"},
}


def require_node_and_jsdom() -> None:
    """tests/run.sh installs both; a missing one is a broken setup, not a reason to skip."""
    assert NODE is not None, "node is not installed (tests/run.sh installs nodejs and npm)"
    assert (ROOT / "tests" / "console" / "node_modules" / "jsdom").is_dir(), \
        "jsdom is missing: run `npm ci --prefix tests/console` (tests/run.sh does)"


async def run_driver(driver: Path, server, scenario: dict) -> dict:
    """Run a console driver (node, jsdom) against ``server``; its JSON result, checked to have no page errors."""
    proc = await asyncio.create_subprocess_exec(
        NODE, str(driver), str(server.make_url("")).rstrip("/"), json.dumps(scenario, ensure_ascii=False),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, f"driver failed: {out.decode()[-3000:]} {err.decode()[-3000:]}"
    result = json.loads(out)
    assert result["errors"] == []
    return result


async def seed(app) -> dict[str, str]:
    """Units, the three users with passwords and an API token each, and more than a page of another unit's
    drafts (the published police article past its review date is made by the test, over the API)."""
    engine, now = app[appkeys.ENGINE], app[appkeys.CLOCK].now()
    await seed_units(engine, now)
    await seed_categories(engine)
    tokens = {}
    async with engine.begin() as conn:
        for key, role, unit in [("unit", "unit", "police"), ("editor", "dispatcher", None), ("agent", "agent", None)]:
            user = SCENARIO[key]
            user_id = await create_user(conn, user["username"], role, now, unit_code=unit, password=user["password"])
            tokens[key] = await issue_token(conn, user_id, now)
    bulk, editor = SCENARIO["bulk"], Actor(username=SCENARIO["editor"]["username"], role="dispatcher")
    for i in range(1, bulk["count"] + 1):
        await app[ARTICLES].create(editor, {"title": bulk["title"].format(i), "body": f"<p>停水后第{i}个问题的答复。</p>",
                                            "unit": bulk["unit"]})
    return tokens


async def call(client, method, path, token, status=200, **kwargs):
    resp = await client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_kb_view_end_to_end_in_jsdom(aiohttp_server, aiohttp_client, tmp_path):
    require_node_and_jsdom()
    app = create_app(Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None),
                     plugins=["hotline.api.setup:setup", "hotline.console.web:setup", "knowledge.web:setup"])
    server = await aiohttp_server(app, host="127.0.0.1")
    client = await aiohttp_client(server)
    assert str(app[appkeys.SETTINGS].resolved_database_url()).startswith("sqlite")
    tokens = await seed(app)

    # A published police article whose review date has passed, flagged to its unit by the daily sweep.
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).isoformat()
    flagged = await call(client, "POST", "/api/v1/kb/articles", tokens["editor"], 201, json={
        "title": SCENARIO["flagged_title"], "body": "<p>护照办理需本人到场。</p>", "unit": "police", "review_due_at": past})
    await call(client, "POST", f"/api/v1/kb/articles/{flagged['id']}/actions/publish", tokens["editor"], json={})
    assert await app[ARTICLES].flag_review_due() == {"police": [{"id": flagged["id"], "title": SCENARIO["flagged_title"]}]}
    future = await call(client, "POST", "/api/v1/kb/articles", tokens["editor"], 201, json={
        k: SCENARIO["future"][k] for k in ("title", "body", "valid_from")})
    await call(client, "POST", f"/api/v1/kb/articles/{future['id']}/actions/publish", tokens["editor"], json={})
    # A question the chatbot cannot answer: a knowledge gap.
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "visitor-1", "text": SCENARIO["gap"]})
    assert resp.status == 200

    result = await run_driver(DRIVER, server, SCENARIO)
    unit, editor, agent = result["unit"], result["editor"], result["agent"]

    bulk = SCENARIO["bulk"]
    bulk_titles = [bulk["title"].format(i) for i in range(1, bulk["count"] + 1)]

    # -- the unit: its due article, creating (server validation shown), submitting; no editor actions
    assert unit["tools"] == ["新建知识"]
    assert unit["whoami"] == "police-kb（承办单位）　本单位：云州市公安局"  # GET /api/v1/me's unit
    assert unit["unit_options"][0] == "" and {"police", "water", "gas"} <= set(unit["unit_options"])
    assert unit["due_notice"].startswith("本单位有 1 篇知识已到复审日期")
    assert unit["flagged_titles"] == [SCENARIO["flagged_title"]] and unit["flagged_badges"] == ["待复核"]
    assert "复核无误" in unit["flagged_alert"] and "confirm" in unit["flagged_opened"]["actions"]
    assert (unit["confirmed"]["status"], unit["confirmed"]["version"]) == ("published", 1)
    assert unit["confirmed_alert"] == "" and unit["confirmed_review"] == "2031-01-01"
    assert unit["editor_has_unit"] is False
    assert unit["rejected_save"]["error"] == "“正文”不合法：不能为空"  # the server's message, field named in Chinese
    assert unit["rejected_save"]["invalid"] == ["body"]
    created = unit["created"]
    assert (created["title"], created["status"], created["badge"], created["version"]) == (
        SCENARIO["article"]["title"], "draft", "草稿", 1)
    assert created["actions"] == ["submit", "archive"] and created["edit"] is True
    assert unit["created_fields"] == {
        "keywords": "养犬、犬只登记", "validity": "不限 至 2030-12-31", "review": "2030-06-30", "category": "C1001",
        "unit": "云州市公安局", "body": "养犬人应当在取得犬只之日起三十日内办理犬只登记。\n办理地点为各区公安分局户籍窗口。"}
    assert (unit["submitted"]["status"], unit["submitted"]["badge"], unit["submitted"]["actions"]) == (
        "in_review", "待审核", ["archive"])
    assert unit["second_submitted"]["status"] == "in_review"
    assert unit["list_in_review"] == [SCENARIO["article"]["title"], SCENARIO["second"]["title"]]
    assert unit["list_badges"] == ["待审核", "待审核"]
    assert unit["list_in_review_count"] == "共 2 篇"
    assert (unit["filtered"], unit["filtered_count"]) == ([SCENARIO["article"]["title"]], "共 1 篇")  # its body
    assert unit["alerts"] == []

    # -- the editor: review, edit one word, publish, the diff as del/ins; send back; search; gaps; synonyms
    assert editor["tools"] == ["新建知识", "知识缺口", "同义词"]
    assert editor["whoami"] == "editor-kb（派单员）"  # platform staff: no unit
    total = bulk["count"] + 4  # the flagged article, the one in force from 2099 and the unit's two
    assert editor["first_page"] == {"count": f"共 {total} 篇，第 1/2 页", "rows": 50, "buttons": ["下一页"], "empty": ""}
    assert editor["paged"] == [bulk_titles[:50], bulk_titles[50:]]
    assert [(p["count"], p["rows"], p["buttons"]) for p in editor["pages"]] == [
        (f"共 {bulk['count']} 篇，第 1/2 页", 50, ["下一页"]), (f"共 {bulk['count']} 篇，第 2/2 页", 2, ["上一页"]),
        (f"共 {bulk['count']} 篇，第 1/2 页", 50, ["下一页"])]
    assert (editor["bulk_filtered"], editor["bulk_filtered_count"]) == ([bulk["title"].format(7)], "共 1 篇")
    assert editor["nothing"] == [] and editor["nothing_listed"] == {
        "count": "共 0 篇", "rows": 0, "buttons": [], "empty": "没有符合条件的知识"}
    assert editor["in_review"] == [SCENARIO["article"]["title"], SCENARIO["second"]["title"]]
    assert editor["opened"]["actions"] == ["publish", "reject", "archive"]
    assert editor["editor_units"] > 10  # editors choose the owning unit
    assert (editor["edited"]["status"], editor["edited"]["version"]) == ("in_review", 2)
    assert (editor["published"]["status"], editor["published"]["badge"]) == ("published", "已发布")
    assert editor["published"]["actions"] == ["expire", "confirm", "archive"]
    assert [row[:4] for row in editor["versions"]] == [
        ["v1", "新建", "草稿", "police-kb"], ["v1", "提交审核", "待审核", "police-kb"],
        ["v2", "修改", "待审核", "editor-kb"], ["v2", "发布", "已发布", "editor-kb"]]
    assert editor["versions"][3][5] == "已核实"
    assert editor["diff_meta"].startswith("v1 → v2（editor-kb，")
    assert editor["dels"] == ["三十"] and editor["ins"] == ["十五"]
    assert editor["diff_items"] == [{"field": "body", "op": "replace",
                                     "text": "正文 养犬人应当在取得犬只之日起三十十五日内办理犬只登记。"}]
    assert editor["diff_tags"] == ["del", "ins", "li", "p", "span", "ul"]
    assert editor["reject_without_reason"]["status"] == "in_review"
    assert editor["alerts_after_empty_reject"] == ["请填写退回原因"]
    assert (editor["rejected"]["status"], editor["rejected"]["badge"]) == ("draft", "草稿")
    assert editor["search"][0] == SCENARIO["article"]["title"]
    assert editor["search_marks"] and all(m in SCENARIO["search"] for m in editor["search_marks"])  # <em> nodes
    assert editor["search_count"].startswith(f"全文检索“{SCENARIO['search']}”：共 ")
    assert editor["search_unit_category"] == [SCENARIO["article"]["title"]]
    assert editor["search_other_unit"] == [] and editor["search_other_category"] == []
    assert editor["search_other_unit_listed"]["empty"] == "没有检索到相关知识"
    searched = [parse_qs(urlsplit(r.split()[1]).query) for r in editor["search_requests"]]
    assert [(q.get("unit"), q.get("category")) for q in searched] == [
        (None, None), (["police"], ["C1001"]), ([bulk["unit"]], None), (["police"], ["C0501"])]
    assert all(q["q"] == [SCENARIO["search"]] and q["kind"] == ["article"] for q in searched)
    assert editor["back_to_list"]["count"].startswith("共 ") and "返回列表" not in editor["back_to_list"]["buttons"]
    assert {"question": SCENARIO["gap"], "count": "1"} in editor["gaps"]
    assert editor["gap_draft_title"] == editor["gaps"][0]["question"]
    assert editor["gap_draft_title"] not in editor["gaps_after_close"]
    assert editor["synonyms"][-2:] == ["犬只、狗、宠物狗", ""]
    assert editor["alerts"] == ["请填写退回原因"]

    # -- an agent reads only
    assert agent["tools"] == [] and agent["due_notice"] == ""
    assert agent["whoami"] == "agent-kb（话务员）" and agent["unit_options"] > 10
    assert (agent["opened"]["status"], agent["opened"]["actions"], agent["opened"]["edit"]) == ("published", [], False)
    assert agent["alerts"] == []
    # the article naming 护照办理 in its body ranks first for an editor; for an agent those in force come first
    assert agent["search"][0] == SCENARIO["flagged_title"] and agent["search"][-1] == SCENARIO["future"]["title"]
    assert agent["search_badges"] == [[]] * (len(agent["search"]) - 1) + [["不在有效期内"]]

    # -- what the server stored, through the API and in the database
    article = await call(client, "GET", f"/api/v1/kb/articles/{created['id']}", tokens["agent"])
    assert (article["status"], article["version"], article["unit_code"]) == ("published", 2, "police")
    assert (article["created_by"], article["updated_by"]) == ("police-kb", "editor-kb")
    assert "十五日内" in article["body_text"] and "三十日" not in article["body_text"]
    assert article["keywords"] == ["养犬", "犬只登记"] and article["category"] == "C1001"
    assert article["valid_to"].startswith("2030-12-31T15:59:59")  # the end of that day in China, in UTC
    # a plain date sent as it is: the server reads review dates to the end of that day in China (W17)
    assert article["review_due_at"].startswith("2030-06-30T15:59:59")
    versions = (await call(client, "GET", f"/api/v1/kb/articles/{created['id']}/versions", tokens["agent"]))["items"]
    assert [(v["action"], v["changed_by"], v["note"]) for v in versions] == [
        ("create", "police-kb", None), ("submit", "police-kb", None), ("edit", "editor-kb", None),
        ("publish", "editor-kb", "已核实")]
    diff = await call(client, "GET", f"/api/v1/kb/articles/{created['id']}/diff?from=1&to=2", tokens["agent"])
    assert [s["text"] for c in diff["changes"] for s in c["segments"] if s["op"] == "delete"] == editor["dels"]
    assert [s["text"] for c in diff["changes"] for s in c["segments"] if s["op"] == "insert"] == editor["ins"]
    # the rejected second article is a draft again: its unit and editors read it, an agent does not
    await call(client, "GET", f"/api/v1/kb/articles/{unit['second']['id']}/versions", tokens["agent"], 404)
    second = await call(client, "GET", f"/api/v1/kb/articles/{unit['second']['id']}/versions", tokens["editor"])
    assert [(v["action"], v["note"]) for v in second["items"]][-1] == ("reject", SCENARIO["reject_reason"])
    groups = (await call(client, "GET", "/api/v1/kb/synonyms", tokens["agent"]))["items"]
    assert ["犬只", "狗", "宠物狗"] in [g["terms"] for g in groups]
    async with app[appkeys.ENGINE].connect() as conn:
        rows = (await conn.execute(sa.select(kb_articles.c.title, kb_articles.c.status, kb_articles.c.body_html)
                                   .order_by(kb_articles.c.id))).all()
    flagged_now = await call(client, "GET", f"/api/v1/kb/articles/{unit['flagged_opened']['id']}", tokens["agent"])
    assert flagged_now["review_due"] is False and flagged_now["review_due_at"].startswith("2031-01-01T15:59:59")
    assert (await call(client, "GET", "/api/v1/kb/gaps", tokens["editor"]))["items"] == []
    assert [(r.title, r.status) for r in rows[:bulk["count"]]] == [(t, "draft") for t in bulk_titles]
    assert [(r.title, r.status) for r in rows[bulk["count"]:]] == [
        (SCENARIO["flagged_title"], "published"), (SCENARIO["future"]["title"], "published"),
        (SCENARIO["article"]["title"], "published"),
        (SCENARIO["second"]["title"], "draft")]  # the rejected save stored nothing
    assert all("<script" not in r.body_html for r in rows)
