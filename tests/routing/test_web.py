import datetime as dt
from types import SimpleNamespace

import pytest
from aiohttp import web

from hotline.appkeys import ENGINE, ROUTER, SERVICE, SETTINGS
from hotline.config import Settings
from routing import web as routing_web
from routing.corrections import record_correction
from routing.rules import RuleTable
from tests.routing.conftest import insert_unit


@web.middleware
async def fake_auth(request, handler):
    """Test-only stand-in for the core's authentication: the role comes from a header."""
    role = request.headers.get("X-Test-Role")
    if role:
        request["user"] = SimpleNamespace(role=role, username=f"{role}1")
    return await handler(request)


class Listeners:
    def __init__(self):
        self.listeners = []

    def add_listener(self, fn):
        self.listeners.append(fn)


@pytest.fixture
async def client(aiohttp_client, engine, tmp_path):
    from hotline.demo import demo_file
    from hotline.directory import import_units, parse_units_csv

    async with engine.begin() as conn:  # the demo city's units: what rules may name
        await import_units(conn, parse_units_csv(demo_file("units.csv")), dt.datetime.now(dt.timezone.utc))
    app = web.Application(middlewares=[fake_auth])
    app[SETTINGS] = Settings(data_dir=tmp_path)
    app[ENGINE] = engine
    app[SERVICE] = Listeners()
    routing_web.setup(app)
    return await aiohttp_client(app)


def as_role(role):
    return {"X-Test-Role": role}


async def test_setup_registers_correction_listener(client):
    assert client.app[SERVICE].listeners == [record_correction]


async def test_setup_without_listener_support(aiohttp_client, engine, tmp_path):
    app = web.Application()
    app[SETTINGS], app[ENGINE], app[SERVICE] = Settings(data_dir=tmp_path), engine, object()
    routing_web.setup(app)
    client = await aiohttp_client(app)
    assert client.app[ROUTER].model is not None


async def test_a_rule_table_for_a_store_without_units_is_refused(aiohttp_client, engine, tmp_path):
    app = web.Application(middlewares=[fake_auth])
    app[SETTINGS], app[ENGINE], app[SERVICE] = Settings(data_dir=tmp_path), engine, Listeners()
    routing_web.setup(app)
    client = await aiohttp_client(app)
    resp = await client.put("/api/v1/routing/rules", json={"rules": [{"id": 1, "lead_unit": "civil"}]},
                            headers=as_role("admin"))
    assert resp.status == 400 and "还没有任何承办单位" in (await resp.json())["error"]["message"]


async def test_suggest_for_agents(client):
    resp = await client.post("/api/v1/routing/suggest", json={"text": "公司拖欠三个月工资", "intake_line": "12333"},
                             headers=as_role("agent"))
    assert resp.status == 200
    body = await resp.json()
    assert body["lead_unit"] == "hrss" and body["rule"] == 10 and body["intake_line"] == "12333"


@pytest.mark.parametrize("payload,message", [({"text": ""}, "text"), ({"title": "x"}, "text"),
                                             ({"text": "字" * 20001}, "过长"),
                                             ({"title": "标" * 20000, "text": "路灯不亮"}, "过长"),
                                             ({"text": 123}, "字段 text 必须是字符串"),
                                             ({"text": "路灯不亮", "title": ["x"]}, "字段 title 必须是字符串"),
                                             ({"text": "路灯不亮", "foo": 1}, "未知字段 foo"),
                                             ([], "必须是 JSON 对象")])
async def test_suggest_bad_input(client, payload, message):
    resp = await client.post("/api/v1/routing/suggest", json=payload, headers=as_role("agent"))
    assert resp.status == 400
    assert message in (await resp.json())["error"]["message"]


async def test_roles_are_enforced(client):
    resp = await client.post("/api/v1/routing/suggest", json={"text": "路灯坏了"})
    assert resp.status == 401
    resp = await client.post("/api/v1/routing/suggest", json={"text": "路灯坏了"}, headers=as_role("unit"))
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"
    for method, path in [("put", "/api/v1/routing/rules"), ("get", "/api/v1/routing/rules.csv"),
                         ("post", "/api/v1/routing/reload")]:
        resp = await getattr(client, method)(path, headers=as_role("dispatcher"))
        assert resp.status == 403, path


async def test_rules_list_import_export(client, engine):
    async with engine.begin() as conn:
        for code in ("provident-fund", "hrss", "d-yunhu", "ecology", "urban"):
            await insert_unit(conn, code)
    resp = await client.get("/api/v1/routing/rules", headers=as_role("dispatcher"))
    rules = (await resp.json())["rules"]
    assert len(rules) == len(RuleTable.default().rules) and rules[0]["id"] == 10

    csv_text = "id,category,keywords,lead_unit,co_units\n5,,公积金,provident-fund,\n6,C05,,hrss,d-yunhu\n"
    resp = await client.put("/api/v1/routing/rules", data=csv_text.encode(),
                            headers=as_role("admin") | {"Content-Type": "text/csv"})
    assert resp.status == 200 and (await resp.json())["rules"] == 2
    assert [r.id for r in client.app[ROUTER].rules.rules] == [5, 6]

    resp = await client.get("/api/v1/routing/rules.csv", headers=as_role("admin"))
    exported = await resp.text()
    assert exported.splitlines()[1].startswith("5,") and "d-yunhu" in exported

    resp = await client.put("/api/v1/routing/rules", json={"rules": [{"id": 1, "category": "C02", "lead_unit": "ecology",
                                                                      "co_units": ["urban"], "enabled": True}]},
                            headers=as_role("admin"))
    assert resp.status == 200
    assert client.app[ROUTER].rules.rules[0].co_units == ["urban"]

    resp = await client.put("/api/v1/routing/rules", json={"rules": [{"id": 1, "lead_unit": "nosuch"}]},
                            headers=as_role("admin"))
    assert resp.status == 400 and "nosuch" in (await resp.json())["error"]["message"]


async def test_invalid_rules_are_rejected_and_table_kept(client):
    before = client.app[ROUTER].rules.to_csv_text()
    resp = await client.put("/api/v1/routing/rules", data="id,lead_unit\n1,\n".encode(),
                            headers=as_role("admin") | {"Content-Type": "text/csv"})
    assert resp.status == 400
    assert "主办单位" in (await resp.json())["error"]["message"]
    await client.post("/api/v1/routing/reload", headers=as_role("admin"))
    assert client.app[ROUTER].rules.to_csv_text() == before


async def test_reload_and_status(client):
    resp = await client.post("/api/v1/routing/reload", headers=as_role("admin"))
    body = await resp.json()
    assert body["model_version"].startswith("default-") and body["rules"] > 40
    resp = await client.get("/api/v1/routing/status", headers=as_role("agent"))
    status = await resp.json()
    assert status["model_version"] == body["model_version"]
    assert status["model_path"] == "default_model.pkl"  # the file's name; where the server keeps it is the admins'
    admin = await (await client.get("/api/v1/routing/status", headers=as_role("admin"))).json()
    assert admin["model_path"].endswith("/routing/data/default_model.pkl")


async def test_rules_csv_that_is_not_utf8_is_a_bad_request(client):
    before = client.app[ROUTER].rules.to_csv_text()
    body = "id,category,lead_unit,note\n7,C02,ecology,噪音投诉转生态环境局\n".encode("gbk")  # an Excel export
    resp = await client.put("/api/v1/routing/rules", data=body,
                            headers=as_role("admin") | {"Content-Type": "text/csv"})
    assert resp.status == 400
    assert "UTF-8" in (await resp.json())["error"]["message"]
    assert client.app[ROUTER].rules.to_csv_text() == before


@pytest.mark.parametrize("row,message", [
    ({"id": 1, "category": "C02", "lead_unit": "ecology", "note": "说明" * 200}, "note"),
    ({"id": 1, "category": "|".join(["C0201"] * 40), "lead_unit": "ecology"}, "category"),
    ({"id": 99999999999, "category": "C02", "lead_unit": "ecology"}, "编号"),
])
async def test_rules_too_long_for_the_table_are_a_bad_request(client, row, message):
    """PostgreSQL refuses over-long values; the admin gets a 400 with the reason, not a 500."""
    before = client.app[ROUTER].rules.to_csv_text()
    resp = await client.put("/api/v1/routing/rules", json={"rules": [row]}, headers=as_role("admin"))
    assert resp.status == 400, await resp.text()
    assert message in (await resp.json())["error"]["message"]
    assert client.app[ROUTER].rules.to_csv_text() == before


async def test_suggest_with_an_unknown_charset_is_a_bad_request(client):
    resp = await client.post("/api/v1/routing/suggest", data='{"text": "路灯坏了"}'.encode(),
                             headers=as_role("agent") | {"Content-Type": "application/json; charset=utf-9"})
    assert resp.status == 400
    assert "JSON" in (await resp.json())["error"]["message"]


@pytest.mark.parametrize("column,value,message", [
    ("category", "C98", "未知的分类代码 C98"),
    ("request_type", "咨询X", "未知的诉求类型 咨询X"),
    ("area", "火星区", "未知的区域 火星区"),
    ("intake_line", "99999", "未知的热线号码 99999"),
])
async def test_rules_no_ticket_can_match_are_a_bad_request(client, column, value, message):
    before = client.app[ROUTER].rules.to_csv_text()
    csv_text = f"id,{column},lead_unit\n1,,civil\n2,{value},civil\n"
    resp = await client.put("/api/v1/routing/rules", data=csv_text.encode(),
                            headers=as_role("admin") | {"Content-Type": "text/csv"})
    assert resp.status == 400
    assert (await resp.json())["error"]["message"].startswith(f"第 3 行：{message}")
    rows = [{"lead_unit": "civil"}, {"lead_unit": "civil", column: value}]
    resp = await client.put("/api/v1/routing/rules", json={"rules": rows}, headers=as_role("admin"))
    assert resp.status == 400
    assert (await resp.json())["error"]["message"].startswith(f"第 2 行：{message}")  # the second rule of the list
    await client.post("/api/v1/routing/reload", headers=as_role("admin"))
    assert client.app[ROUTER].rules.to_csv_text() == before


@pytest.mark.parametrize("body,field", [
    ({"rules": [{"lead_unit": "civil", "category": "C11"}], "replace": True}, "未知字段 replace（请求体只能包含 rules 和 dry_run）"),
    ({"rules": [{"lead_unit": "civil", "category": "C11"}], "dry_run": "yes"}, "dry_run 必须是 true 或 false"),
    ({"rules": [{"lead_unit": "civil", "category": "C11", "priority": "x"}]}, "第 1 行：未知字段 priority"),
    ({"rules": [{"lead_unit": "civil"}, {"lead_unit": "civil", "units": ["urban"]}]}, "第 2 行：未知字段 units"),
])
async def test_unknown_json_fields_are_a_bad_request(client, body, field):
    before = client.app[ROUTER].rules.to_csv_text()
    resp = await client.put("/api/v1/routing/rules", json=body, headers=as_role("admin"))
    assert resp.status == 400
    assert field in (await resp.json())["error"]["message"]
    await client.post("/api/v1/routing/reload", headers=as_role("admin"))
    assert client.app[ROUTER].rules.to_csv_text() == before


async def test_suggest_honours_the_request_type_and_checks_the_intake_line(client):
    resp = await client.post("/api/v1/routing/suggest", json={"text": "公司拖欠三个月工资", "request_type": "咨询"},
                             headers=as_role("agent"))
    body = await resp.json()
    assert resp.status == 200 and (body["request_type"], body["request_type_confidence"]) == ("咨询", 1.0)
    for payload, message in [({"intake_line": "99999"}, "未知的热线号码 99999"),
                             ({"request_type": "抱怨"}, "未知的诉求类型 抱怨")]:
        resp = await client.post("/api/v1/routing/suggest", json={"text": "公司拖欠三个月工资"} | payload,
                                 headers=as_role("agent"))
        assert resp.status == 400 and (await resp.json())["error"]["message"].startswith(message)


HEADER = "id,category,request_type,area,intake_line,keywords,lead_unit,co_units,enabled,note"


@pytest.mark.parametrize("body,message", [
    ("id,catgory,request_type,area,intake_line,keywords,lead_unit,co_units,enabled,note\n1,C0401,,,,,civil,,1,typo\n",
     "第 1 行（表头）：未知字段 catgory"),
    (f"{HEADER}\n1,,,,,,civil,,1,x,extra,more\n", "第 2 行：单元格比表头多"),
    (f"{HEADER}\n", "规则表中没有任何规则"),
    (f"{HEADER}\n1,,,,,,civil,,off?,x\n", "第 2 行：无法识别的启用值 off?"),
    ({"rules": []}, "规则表中没有任何规则"),
    ({"rules": [{"id": True, "lead_unit": "civil"}]}, "第 1 行：规则编号必须是整数"),
    ({"rules": [{"id": 1, "lead_unit": "civil", "enabled": "maybe"}]}, "第 1 行：无法识别的启用值 maybe"),
])
async def test_rule_tables_that_would_be_misread_are_refused_and_nothing_written(client, body, message):
    before = client.app[ROUTER].rules.to_csv_text()
    if isinstance(body, str):
        resp = await client.put("/api/v1/routing/rules", data=body.encode(),
                                headers=as_role("admin") | {"Content-Type": "text/csv"})
    else:
        resp = await client.put("/api/v1/routing/rules", json=body, headers=as_role("admin"))
    assert resp.status == 400
    assert (await resp.json())["error"]["message"].startswith(message)
    await client.post("/api/v1/routing/reload", headers=as_role("admin"))
    assert client.app[ROUTER].rules.to_csv_text() == before


async def test_json_enabled_spelled_off_disables_the_rule(client):
    resp = await client.put("/api/v1/routing/rules", json={"rules": [{"id": 1, "lead_unit": "civil", "enabled": "off"}]},
                            headers=as_role("admin"))
    assert resp.status == 200
    assert client.app[ROUTER].rules.rules[0].enabled is False


async def test_rules_csv_export_has_a_bom_and_imports_back_unchanged(client):
    resp = await client.get("/api/v1/routing/rules.csv", headers=as_role("admin"))
    raw = await resp.read()
    assert raw.startswith("\ufeff".encode("utf-8")) and raw[3:].decode("utf-8") == RuleTable.default().to_csv_text()
    resp = await client.put("/api/v1/routing/rules", data=raw, headers=as_role("admin") | {"Content-Type": "text/csv"})
    assert resp.status == 200, await resp.text()
    resp = await client.get("/api/v1/routing/rules.csv", headers=as_role("admin"))
    assert await resp.read() == raw


async def test_read_endpoints_show_a_rule_table_or_model_changed_elsewhere(aiohttp_client, engine, tmp_path,
                                                                             monkeypatch):
    """A CLI import writes the table with store.replace_rules; an admin may point models/ACTIVE elsewhere."""
    from routing import store

    monkeypatch.setenv("HOTLINE_ROUTING_RELOAD_CHECK_SECONDS", "0")
    app = web.Application(middlewares=[fake_auth])
    app[SETTINGS], app[ENGINE], app[SERVICE] = Settings(data_dir=tmp_path), engine, Listeners()
    routing_web.setup(app)
    client = await aiohttp_client(app)
    assert (await (await client.get("/api/v1/routing/status", headers=as_role("agent"))).json())["rules"] > 40

    async with engine.begin() as conn:
        await store.replace_rules(conn, RuleTable.from_csv_text("id,lead_unit\n7,civil\n"), actor="cli")
    status = await (await client.get("/api/v1/routing/status", headers=as_role("agent"))).json()
    assert status["rules"] == 1 and status["model_error"] is None
    rules = (await (await client.get("/api/v1/routing/rules", headers=as_role("dispatcher"))).json())["rules"]
    assert [r["id"] for r in rules] == [7]

    async with engine.begin() as conn:
        await store.replace_rules(conn, RuleTable.from_csv_text("id,lead_unit\n8,civil\n9,civil\n"), actor="cli")
    exported = await (await client.get("/api/v1/routing/rules.csv", headers=as_role("admin"))).text()
    assert [line.split(",")[0] for line in exported.lstrip("\ufeff").splitlines()[1:]] == ["8", "9"]

    store.models_dir(tmp_path).mkdir(parents=True, exist_ok=True)
    store.active_pointer(tmp_path).write_text("missing.pkl", encoding="utf-8")
    status = await (await client.get("/api/v1/routing/status", headers=as_role("agent"))).json()
    assert "missing.pkl" in status["model_error"]


@pytest.mark.parametrize("query", ["since=0001-01-01", "until=9999-12-31"])
async def test_audit_with_a_date_out_of_range_is_a_bad_request(client, query):
    resp = await client.get(f"/api/v1/routing/audit?{query}", headers=as_role("leader"))
    assert resp.status == 400
    body = await resp.json()
    assert body["error"]["code"] == "invalid_period" and "日期超出范围" in body["error"]["message"]


async def test_the_hotline_platform_cannot_lead_or_co_handle_a_rule(client):
    # a dispatch to the platform is refused, so a rule naming it would claim auto-dispatch and leave tickets new
    for rule in ({"id": 1, "lead_unit": "platform"}, {"id": 1, "lead_unit": "civil", "co_units": ["platform"]}):
        resp = await client.put("/api/v1/routing/rules", json={"rules": [rule]}, headers=as_role("admin"))
        message = (await resp.json())["error"]["message"]
        assert resp.status == 400 and "第 1 行：未知的单位代码 platform（须是承办单位" in message, message
    assert len(client.app[ROUTER].rules.rules) > 1  # the table in force is unchanged
    resp = await client.put("/api/v1/routing/rules", json={"rules": [{"id": -3, "lead_unit": "civil"}]},
                            headers=as_role("admin"))
    assert resp.status == 400 and "规则编号必须是正整数" in (await resp.json())["error"]["message"]


async def test_a_keywords_cell_without_a_keyword_is_refused_not_a_catch_all(client):
    """``|`` alone used to match every text (auto-dispatch to housing); ``公积金||`` has an empty item too."""
    before = client.app[ROUTER].rules.to_csv_text()
    csv_text = f"{HEADER}\n4,C05,,,,,hrss,,1,x\n5,,,,,|,housing,,1,空关键词\n"
    resp = await client.put("/api/v1/routing/rules", data=csv_text.encode(),
                            headers=as_role("admin") | {"Content-Type": "text/csv"})
    assert resp.status == 400
    assert (await resp.json())["error"]["message"].startswith("第 3 行：关键词（keywords）“|”中有空项")
    for keywords in ("|", "公积金||", ["公积金", ""]):
        resp = await client.put("/api/v1/routing/rules", json={"rules": [
            {"id": 5, "keywords": keywords, "lead_unit": "housing"}]}, headers=as_role("admin"))
        assert resp.status == 400 and "第 1 行：关键词（keywords）" in (await resp.json())["error"]["message"]
    await client.post("/api/v1/routing/reload", headers=as_role("admin"))
    assert client.app[ROUTER].rules.to_csv_text() == before


async def test_json_lists_are_stored_with_the_columns_separator_and_match(client):
    resp = await client.put("/api/v1/routing/rules", json={"rules": [
        {"id": 5, "keywords": ["公积金", "住房公积金"], "lead_unit": "provident-fund"},
        {"id": 6, "category": ["C05", "C07"], "request_type": ["投诉", "举报"], "lead_unit": "hrss",
         "co_units": ["health"]}]}, headers=as_role("admin"))
    assert resp.status == 200, await resp.text()
    rules = (await (await client.get("/api/v1/routing/rules", headers=as_role("dispatcher"))).json())["rules"]
    assert [(r["keywords"], r["category"], r["request_type"], r["co_units"]) for r in rules] == [
        ("公积金|住房公积金", "", "", []), ("", "C05|C07", "投诉|举报", ["health"])]
    table = client.app[ROUTER].rules
    assert table.match(category="C0101", text="我想问住房公积金怎么提取").rule.id == 5
    assert table.match(category="C0701", request_type="投诉", text="医院收费太高").rule.id == 6

    for row, message in [({"id": 5, "lead_unit": ["hrss", "health"]}, "第 1 行：主办单位（lead_unit）只能填一个值"),
                         ({"id": 5, "keywords": "公积金、住房公积金", "lead_unit": "hrss"}, "多个值只能用 | 分隔"),
                         ({"id": 5, "category": ["C05", "C98"], "lead_unit": "hrss"}, "第 1 行：未知的分类代码 C98")]:
        resp = await client.put("/api/v1/routing/rules", json={"rules": [row]}, headers=as_role("admin"))
        assert resp.status == 400 and message in (await resp.json())["error"]["message"], message


async def test_dry_run_reports_changes_problems_and_warnings_and_writes_nothing(client):
    before = client.app[ROUTER].rules.to_csv_text()
    default_ids = [r.id for r in RuleTable.default().rules]
    csv_text = (f"{HEADER}\n10,,,,12333,,hrss,,1,人社热线来电\n11,,,,12315,,market,,1,只留 12315\n"
                f"5,,,,,,housing,,1,兜底\n6,C05,,,,,hrss,,1,x\n")
    for query in ("?dry_run=1", "?dry_run=true"):
        resp = await client.put(f"/api/v1/routing/rules{query}", data=csv_text.encode(),
                                headers=as_role("admin") | {"Content-Type": "text/csv"})
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        assert body["dry_run"] is True and body["valid"] is True and body["rules"] == 4 and body["problems"] == []
        assert body["changes"] == {"added": [5, 6], "removed": default_ids[2:], "changed": [11], "unchanged": 1,
                                   "reordered": False}
        assert body["warnings"] == ["第 4 行（规则 5）没有任何条件，会匹配所有诉求，排在它后面的 1 条规则永远不会生效"
                                    "（兜底规则请放在最后）"]
    await client.post("/api/v1/routing/reload", headers=as_role("admin"))
    assert client.app[ROUTER].rules.to_csv_text() == before

    # JSON: the body field; every row's problem, the rows without one counted
    rows = [{"id": 5, "lead_unit": "housing"}, {"id": 6, "keywords": "|", "lead_unit": "hrss"},
            {"id": 7, "lead_unit": "nosuch"}, {"id": 8, "category": "C05", "lead_unit": "hrss"}]
    resp = await client.put("/api/v1/routing/rules", json={"rules": rows, "dry_run": True}, headers=as_role("admin"))
    body = await resp.json()
    assert resp.status == 200 and body["valid"] is False and body["rules"] == 2
    assert [p.split("：")[0] for p in body["problems"]] == ["第 2 行", "第 3 行"]
    assert body["changes"]["added"] == [5, 8] and body["warnings"][0].startswith("第 1 行（规则 5）")
    resp = await client.put("/api/v1/routing/rules", json={"rules": [{"id": 1, "note": "说明" * 200,
                                                                      "lead_unit": "civil"}], "dry_run": True},
                            headers=as_role("admin"))
    assert (await resp.json())["problems"][0].startswith("第 1 行：规则 1：备注（note）过长")
    resp = await client.put("/api/v1/routing/rules?dry_run=1", json={"rules": []}, headers=as_role("admin"))
    assert (await resp.json())["problems"][0].startswith("规则表中没有任何规则")
    resp = await client.put("/api/v1/routing/rules?dry_run=1", data=b"id,catgory,lead_unit\n1,C01,civil\n",
                            headers=as_role("admin") | {"Content-Type": "text/csv"})
    assert (await resp.json())["problems"][0].startswith("第 1 行（表头）：未知字段 catgory")
    resp = await client.put("/api/v1/routing/rules?dry_run=maybe", json={"rules": rows}, headers=as_role("admin"))
    assert resp.status == 400 and "dry_run" in (await resp.json())["error"]["message"]
    await client.post("/api/v1/routing/reload", headers=as_role("admin"))
    assert client.app[ROUTER].rules.to_csv_text() == before

    # the import itself reports the same warnings and changes
    resp = await client.put("/api/v1/routing/rules", data=csv_text.encode(),
                            headers=as_role("admin") | {"Content-Type": "text/csv"})
    body = await resp.json()
    assert resp.status == 200 and body["dry_run"] is False and body["rules"] == 4
    assert body["warnings"][0].startswith("第 4 行（规则 5）") and body["changes"]["added"] == [5, 6]
    assert [r.id for r in client.app[ROUTER].rules.rules] == [10, 11, 5, 6]
