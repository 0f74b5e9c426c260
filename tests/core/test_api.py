"""The REST API over HTTP, by the right roles, on both backends."""

import asyncio
import datetime as dt
import json

import sqlalchemy as sa

from hotline.tables import audit_log, tickets
from tests.conftest import auth

NEW = {"channel": "phone", "text": "云湖区湖滨路的井盖丢失了，晚上很危险，请尽快处理", "request_type": "求助",
       "citizen": {"phone": "13800135678", "name": "张先生"}}


async def create(client, tokens, body=None):
    resp = await client.post("/api/v1/tickets", json=body or NEW, headers=auth(tokens["agent"]))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def move(client, token, number, action, params=None, status=200, version=None):
    body = {"action": action, "params": params or {}}
    if version is not None:
        body["version"] = version
    resp = await client.post(f"/api/v1/tickets/{number}/transitions", json=body, headers=auth(token))
    assert resp.status == status, await resp.text()
    return await resp.json()


async def count(service, table) -> int:
    async with service.engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def test_healthz(client):
    resp = await client.get("/healthz")
    assert resp.status == 200 and await resp.json() == {"status": "ok"}


async def test_create_answers_201_with_number_state_deadlines(client, tokens):
    ticket = await create(client, tokens)
    assert ticket["number"].startswith("20261123") and len(ticket["number"]) == 13
    assert ticket["state"] == "new" and ticket["state_label"] == "新建"
    assert "deadlines" in ticket and ticket["citizen"]["identities"] == [{"kind": "phone", "value": "+8613800135678"}]
    assert ticket["request_type"] == "求助"
    untyped = await create(client, tokens, {k: v for k, v in NEW.items() if k != "request_type"})
    assert untyped["request_type"] == "求助"  # left open: the router's type, 求助 without a router


async def test_whole_lifecycle_by_the_right_roles(client, tokens):
    number = (await create(client, tokens))["number"]
    await move(client, tokens["agent"], number, "accept")
    await move(client, tokens["housing"], number, "sign", status=404)  # not yet dispatched to it
    t = await move(client, tokens["dispatcher"], number, "dispatch", {"lead_unit": "housing"})
    assert t["deadlines"]["sign_light"] == "green"
    await move(client, tokens["transport"], number, "sign", status=404)
    await move(client, tokens["agent"], number, "sign", status=403)
    await move(client, tokens["housing"], number, "sign")
    await move(client, tokens["housing"], number, "reply", {"text": "已补装井盖"})
    await move(client, tokens["leader"], number, "callback", {"satisfaction": "满意"}, status=403)
    await move(client, tokens["agent"], number, "callback", {"satisfaction": "满意"})
    t = await move(client, tokens["agent"], number, "close")
    assert t["state"] == "closed"
    assert [e["action"] for e in t["events"]] == ["create", "accept", "dispatch", "sign", "reply", "callback", "close"]


async def test_dispatching_back_to_the_returning_unit_asks_for_the_reason(client, tokens):
    number = (await create(client, tokens))["number"]
    await move(client, tokens["dispatcher"], number, "dispatch", {"lead_unit": "housing"})
    await move(client, tokens["housing"], number, "return", {"reason": "井盖属于燃气公司"})
    err = await move(client, tokens["dispatcher"], number, "dispatch", {"lead_unit": "housing"}, status=409)
    assert err["error"]["code"] == "returned_by_unit"
    assert "退单原因：井盖属于燃气公司" in err["error"]["message"] and "备注(note)" in err["error"]["message"]
    t = await move(client, tokens["dispatcher"], number, "dispatch",
                   {"lead_unit": "housing", "note": "经核实为雨水井盖，属住建局管理"})
    assert t["lead_unit"]["code"] == "housing" and t["state"] == "dispatched"


async def test_unit_user_sees_only_its_tickets_with_masked_phones(client, tokens):
    mine = (await create(client, tokens, {**NEW, "text": "请回电13800135678，井盖丢失"}))["number"]
    other = (await create(client, tokens, {**NEW, "text": "公交站牌损坏"}))["number"]
    await move(client, tokens["dispatcher"], mine, "dispatch", {"lead_unit": "housing"})
    await move(client, tokens["dispatcher"], other, "dispatch", {"lead_unit": "transport"})
    resp = await client.get("/api/v1/tickets", headers=auth(tokens["housing"]))
    listing = await resp.json()
    assert [t["number"] for t in listing["items"]] == [mine] and listing["total"] == 1
    ticket = await (await client.get(f"/api/v1/tickets/{mine}", headers=auth(tokens["housing"]))).json()
    assert ticket["citizen"]["identities"][0]["value"] == "138****5678"
    assert ticket["citizen"]["name"] == "张**"  # 张先生: enough to address the caller
    assert "13800135678" not in json.dumps(ticket, ensure_ascii=False)
    assert (await client.get(f"/api/v1/tickets/{other}", headers=auth(tokens["housing"]))).status == 404
    staff = await (await client.get(f"/api/v1/tickets/{mine}", headers=auth(tokens["agent"]))).json()
    assert staff["citizen"]["identities"][0]["value"] == "+8613800135678"
    assert staff["citizen"]["name"] == "张先生"


async def test_a_unit_can_neither_read_nor_probe_the_digits_masked_for_it(client, tokens):
    number = (await create(client, tokens, {
        **NEW, "text": "停水了，手机１３９８７６５４３２１，备用139.8765.4322，座机87654321，老身份证110105491231002",
        "address": "玉河新村5栋 电话13987654329"}))["number"]
    await move(client, tokens["dispatcher"], number, "dispatch",
               {"lead_unit": "housing", "note": "请尽快联系市民张先生 13800135678"})
    seen = await (await client.get(f"/api/v1/tickets/{number}", headers=auth(tokens["housing"]))).json()
    shown = json.dumps(seen, ensure_ascii=False)
    for secret in ("98765432", "87654321", "8765.4322", "491231", "13800135678", "3987654329", "１３９"):
        assert secret not in shown, secret
    assert seen["address"] == "玉河新村5栋 电话139****4329"
    assert seen["events"][-1]["note"] == "请尽快联系市民张先生 138****5678"

    async def listed(query: str):
        return await client.get(f"/api/v1/tickets?{query}", headers=auth(tokens["housing"]))

    resp = await listed("phone=13800135678")  # would confirm a guess at the hidden digits
    assert resp.status == 403 and (await resp.json())["error"]["message"] == "成员单位不能按市民电话号码查询工单"
    for probe in ("q=1380013", "q=987", "q=１３９"):
        resp = await listed(probe)
        assert resp.status == 400, probe
        assert "3 位以上的连续数字" in (await resp.json())["error"]["message"]
    for fine in (f"q={number}", "q=停水", "q=座机"):
        assert (await (await listed(fine)).json())["total"] == 1, fine
    # two digits pass the rule above, but they are matched only against what the unit sees: a pair hidden
    # in 139****4321 (the 98 of 1398765…) confirms nothing, a pair it can read does
    for pair, total in (("98", 0), ("76", 0), ("43", 1), ("21", 1), ("49", 0)):
        assert (await (await listed(f"q={pair}")).json())["total"] == total, pair
    # staff search as before
    staff = await (await client.get("/api/v1/tickets?phone=13800135678&q=8765", headers=auth(tokens["agent"]))).json()
    assert staff["total"] == 1


async def test_a_unit_cannot_tell_another_units_ticket_from_a_missing_one(client, tokens):
    other = (await create(client, tokens, {**NEW, "text": "公交站牌损坏"}))["number"]
    await move(client, tokens["dispatcher"], other, "dispatch", {"lead_unit": "transport"})
    missing = str(int(other) + 7)
    replies = {}
    for ref in (other, missing):
        got = await client.get(f"/api/v1/tickets/{ref}", headers=auth(tokens["housing"]))
        moved = await client.post(f"/api/v1/tickets/{ref}/transitions", headers=auth(tokens["housing"]),
                                  json={"action": "sign", "params": {}})
        replies[ref] = [(r.status, (await r.json())["error"]["message"].replace(ref, "REF")) for r in (got, moved)]
    # Same status and same words (the caller's own reference), never the internal id.
    assert replies[other] == replies[missing] == [(404, "工单 REF 不存在")] * 2


async def test_list_filters_and_pagination(client, tokens):
    for i in range(5):
        await create(client, tokens, {**NEW, "text": f"噪音扰民 {i}", "request_type": "投诉", "channel": "web"})
    resp = await client.get("/api/v1/tickets?request_type=投诉&channel=web&limit=2&offset=1",
                            headers=auth(tokens["agent"]))
    page = await resp.json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert [t["text"] for t in page["items"]] == ["噪音扰民 3", "噪音扰民 2"]
    page = await (await client.get("/api/v1/tickets?phone=138-0013-5678&q=噪音",
                                   headers=auth(tokens["agent"]))).json()
    assert page["total"] == 5
    for query in ("state=nonsense", "limit=0", "limit=abc", "colour=red", "created_from=yesterday"):
        resp = await client.get(f"/api/v1/tickets?{query}", headers=auth(tokens["agent"]))
        assert resp.status == 400, query
        assert (await resp.json())["error"]["code"] == "bad_query"


async def test_bad_input_gets_clear_4xx_and_writes_nothing(client, tokens, service):
    before = await count(service, tickets)
    h = {**auth(tokens["agent"]), "Content-Type": "application/json"}
    cases = [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (json.dumps({**NEW, "priority": "high"}).encode(), 422, "invalid_params"),
        (json.dumps({**NEW, "text": 12345}).encode(), 422, "invalid_params"),
        (json.dumps({**NEW, "request_type": "闲聊"}).encode(), 422, "invalid_params"),
        (json.dumps({**NEW, "text": "长" * 20001}).encode(), 422, "invalid_params"),
        (json.dumps({**NEW, "citizen": {"phone": "12"}}).encode(), 422, "invalid_params"),
        (json.dumps({**NEW, "category": "C9999"}).encode(), 422, "invalid_params"),
    ]
    messages = []
    for raw, status, code in cases:
        resp = await client.post("/api/v1/tickets", data=raw, headers=h)
        body = await resp.json()
        assert (resp.status, body["error"]["code"]) == (status, code), raw[:60]
        messages.append(body["error"]["message"])
    assert messages[0] == "JSON 格式错误：第 1 行第 2 列"  # no English from the parser
    # fields named in Chinese, with the key the caller sent
    assert messages[2:6] == ["priority：未知字段", "内容(text)：必须是字符串",
                             "诉求类型(request_type)：只能是 咨询、求助、投诉、举报、建议、表扬", "内容(text)：最多 20000 个字符"]
    resp = await client.post("/api/v1/tickets", data=b"text=1", headers={**auth(tokens["agent"]),
                                                                        "Content-Type": "text/plain"})
    assert resp.status == 415
    assert await count(service, tickets) == before
    number = (await create(client, tokens))["number"]
    err = await move(client, tokens["agent"], number, "reply", {"text": "x"}, status=409)
    assert err["error"]["code"] == "illegal_transition" and "新建" in err["error"]["message"]
    err = await move(client, tokens["dispatcher"], number, "dispatch", {"lead_unit": "no-such-unit"}, status=422)
    assert "no-such-unit" in err["error"]["message"]
    err = await move(client, tokens["dispatcher"], number, "fly", status=422)
    t = await (await client.get(f"/api/v1/tickets/{number}", headers=auth(tokens["agent"]))).json()
    assert t["state"] == "new" and t["version"] == 1
    assert (await client.get("/api/v1/tickets/99999999", headers=auth(tokens["agent"]))).status == 404
    # Beyond the integer range (PostgreSQL would refuse the query): still just "no such ticket".
    assert (await client.get("/api/v1/tickets/123456789012", headers=auth(tokens["agent"]))).status == 404
    err = await move(client, tokens["agent"], number, "accept", {"bogus": 1}, status=422)
    assert err["error"]["message"] == "bogus：未知字段"
    resp = await client.get("/api/v1/no-such-route", headers=auth(tokens["agent"]))
    assert resp.status == 404 and (await resp.json())["error"]["message"] == "接口不存在"
    resp = await client.delete("/api/v1/tickets", headers=auth(tokens["agent"]))
    assert resp.status == 405 and (await resp.json())["error"]["message"] == "不支持该请求方法"
    assert (await client.get("/api/v1/nowhere", headers=auth(tokens["agent"]))).status == 404


async def test_unexpected_failure_is_a_json_500_in_chinese(aiohttp_client):
    from aiohttp import web

    from hotline.api.errors import error_middleware

    async def broken(request):
        raise RuntimeError("bug")

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/api/v1/broken", broken)
    client = await aiohttp_client(app)
    resp = await client.get("/api/v1/broken")
    assert resp.status == 500
    assert (await resp.json())["error"] == {"code": "internal_error", "message": "服务器内部错误，请稍后重试；问题已记录"}


async def test_concurrent_transitions_one_wins_the_other_409(client, tokens):
    number = (await create(client, tokens))["number"]
    results = await asyncio.gather(*[
        client.post(f"/api/v1/tickets/{number}/transitions", headers=auth(tokens["dispatcher"]),
                    json={"action": "dispatch", "params": {"lead_unit": unit}, "version": 1})
        for unit in ("housing", "transport", "urban")])
    assert sorted(r.status for r in results) == [200, 409, 409]


async def test_auth_roles_tokens_and_sessions(client, tokens, service):
    assert (await client.get("/api/v1/tickets")).status == 401
    assert (await client.get("/api/v1/tickets", headers=auth("forged"))).status == 401
    resp = await client.post("/api/v1/users", json={"username": "zhang", "role": "agent", "password": "s3cret-pass"},
                             headers=auth(tokens["agent"]))
    assert resp.status == 403
    resp = await client.post("/api/v1/users", json={"username": "zhang", "role": "agent", "password": "s3cret-pass"},
                             headers=auth(tokens["admin"]))
    assert resp.status == 201
    resp = await client.post("/api/v1/users", json={"username": "u2", "role": "unit", "unit": "nowhere"},
                             headers=auth(tokens["admin"]))
    assert resp.status == 422
    bad = await client.post("/api/v1/auth/login", json={"username": "zhang", "password": "wrong-pass"})
    assert bad.status == 401
    ok = await client.post("/api/v1/auth/login", json={"username": "zhang", "password": "s3cret-pass"})
    assert ok.status == 200
    me = await client.get("/api/v1/me")  # the session cookie is kept by the client
    assert (await me.json())["username"] == "zhang"
    await client.post("/api/v1/auth/logout")
    assert (await client.get("/api/v1/me")).status == 401
    async with service.engine.connect() as conn:
        actions = [r.action for r in await conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id))]
    assert actions == ["users.create", "login"]


async def test_units_categories_and_import(client, tokens):
    units = (await (await client.get("/api/v1/units", headers=auth(tokens["agent"]))).json())["items"]
    assert len(units) >= 30 and {u["kind"] for u in units} >= {"department", "district", "street", "utility"}
    assert next(u for u in units if u["code"] == "s-yunhu-hubin")["parent"] == "d-yunhu"
    cats = (await (await client.get("/api/v1/categories", headers=auth(tokens["agent"]))).json())["items"]
    assert {c["level"] for c in cats} == {1, 2, 3}
    csv_text = "code,name,kind,parent_code\nd-new,新区管委会,district,\ns-new,新区一街道,street,d-new\n"
    resp = await client.post("/api/v1/units/import", data=csv_text.encode(), headers=auth(tokens["admin"]))
    assert await resp.json() == {"created": 2, "updated": 0}
    bad = "code,name,kind,parent_code\nx1,某单位,department,\nx2,某街道,street,missing\n"
    resp = await client.post("/api/v1/units/import", data=bad.encode(), headers=auth(tokens["admin"]))
    assert resp.status == 422 and "missing" in (await resp.json())["error"]["message"]
    units_after = (await (await client.get("/api/v1/units", headers=auth(tokens["agent"]))).json())["items"]
    assert "x1" not in {u["code"] for u in units_after}


async def test_openapi_describes_every_route(client):
    spec = await (await client.get("/api/v1/openapi.json")).json()
    described = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    app = client.server.app
    for route in app.router.routes():
        info = route.resource.get_info()
        path = info.get("path") or info.get("formatter")
        if route.method == "HEAD" or not path.startswith("/api/"):
            continue
        assert (route.method, path) in described, (route.method, path)
        assert spec["paths"][path][route.method.lower()]["summary"], path
    create = spec["paths"]["/api/v1/tickets"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert "request_type" in spec["components"]["schemas"][ref]["properties"]


async def test_links_between_tickets(client, tokens):
    a = (await create(client, tokens))["number"]
    b = (await create(client, tokens, {**NEW, "text": "同一个井盖，邻居也反映了"}))["number"]
    resp = await client.post(f"/api/v1/tickets/{b}/links", json={"kind": "duplicate-of", "number": a},
                             headers=auth(tokens["agent"]))
    assert resp.status == 200 and (await resp.json())["links"] == [{"kind": "duplicate-of", "number": a}]
    resp = await client.post(f"/api/v1/tickets/{a}/links", json={"kind": "related", "number": b},
                             headers=auth(tokens["agent"]))
    other = await (await client.get(f"/api/v1/tickets/{b}", headers=auth(tokens["agent"]))).json()
    assert {(x["kind"], x["number"]) for x in other["links"]} == {("duplicate-of", a), ("related", a)}
    resp = await client.post(f"/api/v1/tickets/{a}/links", json={"kind": "twin", "number": b},
                             headers=auth(tokens["agent"]))
    assert resp.status == 422
    resp = await client.post(f"/api/v1/tickets/{a}/links", json={"kind": "related", "number": "2099010100001"},
                             headers=auth(tokens["agent"]))
    assert resp.status == 404


async def test_deadlines_over_the_api_across_the_spring_festival_make_up_saturday(client, tokens, clock):
    """Dispatched Friday 2026-02-13 17:00: Saturday 02-14 is a make-up working day, 02-15..02-23 are off."""
    import datetime as dt

    cst = dt.timezone(dt.timedelta(hours=8))
    clock.set(dt.datetime(2026, 2, 13, 17, 0, tzinfo=cst))
    number = (await create(client, tokens))["number"]
    assert number.startswith("20260213")
    t = await move(client, tokens["dispatcher"], number, "dispatch", {"lead_unit": "housing"})
    due = {k: dt.datetime.fromisoformat(v).astimezone(cst) for k, v in t["deadlines"].items()
           if k.endswith("_due_at") and v}
    # Sign-for: 1 working hour left on Friday, the second on the make-up Saturday morning.
    assert due["sign_due_at"] == dt.datetime(2026, 2, 14, 10, 0, tzinfo=cst)
    # 求助, 3 working days: Fri 1 h + Sat 8 h + Tue 02-24 8 h + Wed 02-25 7 h -> Wed 17:00.
    assert due["reply_due_at"] == dt.datetime(2026, 2, 25, 17, 0, tzinfo=cst)
    clock.set(dt.datetime(2026, 2, 14, 10, 30, tzinfo=cst))  # the make-up Saturday, after the sign-for deadline
    t = await (await client.get(f"/api/v1/tickets/{number}", headers=auth(tokens["agent"]))).json()
    assert t["deadlines"]["sign_light"] == "red"
    await move(client, tokens["housing"], number, "sign")
    clock.set(dt.datetime(2026, 2, 20, 12, 0, tzinfo=cst))  # during the holiday: no working time passes
    t = await (await client.get(f"/api/v1/tickets/{number}", headers=auth(tokens["agent"]))).json()
    assert t["deadlines"]["reply_light"] == "green"
    clock.set(dt.datetime(2026, 2, 25, 13, 0, tzinfo=cst))  # 4 of 24 working hours left: under 20 %
    t = await (await client.get(f"/api/v1/tickets/{number}", headers=auth(tokens["agent"]))).json()
    assert t["deadlines"]["reply_light"] == "yellow"
    await move(client, tokens["housing"], number, "reply", {"text": "已修复"})
    await move(client, tokens["agent"], number, "callback", {"satisfaction": "基本满意"})
    assert (await move(client, tokens["agent"], number, "close"))["state"] == "closed"


async def test_a_plain_created_to_date_includes_that_day_and_a_reversed_range_is_refused(client, tokens, service):
    await create(client, tokens)
    today = service.now().astimezone(service.calendar.tz).date().isoformat()

    async def listed(query):
        return await client.get(f"/api/v1/tickets?{query}", headers=auth(tokens["agent"]))

    since_today = (await (await listed(f"created_from={today}")).json())["total"]
    assert since_today >= 1
    assert (await (await listed(f"created_from={today}&created_to={today}")).json())["total"] == since_today
    resp = await listed(f"created_from={today}T12:00:00%2B08:00&created_to={today}T12:00:00%2B08:00")
    assert resp.status == 400 and "created_from 必须早于 created_to" in (await resp.json())["error"]["message"]
    tomorrow = (service.now().astimezone(service.calendar.tz).date() + dt.timedelta(days=1)).isoformat()
    assert (await listed(f"created_from={tomorrow}&created_to={today}")).status == 400


async def test_impossible_phone_numbers_and_email_addresses_are_refused_at_intake(client, tokens, service):
    before = await count(service, tickets)
    for citizen, field in (({"phone": "12345"}, "citizen.phone"), ({"phone": "1380013800a"}, "citizen.phone"),
                           ({"phone": "13800138000", "email": "notanemail"}, "citizen.email")):
        resp = await client.post("/api/v1/tickets", json={**NEW, "citizen": citizen}, headers=auth(tokens["agent"]))
        assert resp.status == 422, citizen
        assert (await resp.json())["error"]["message"].startswith(f"{field}：")
    assert await count(service, tickets) == before


async def test_percent_and_underscore_in_q_are_plain_characters(client, tokens):
    await create(client, tokens, {**NEW, "text": "水费多收了10%，请核查"})
    await create(client, tokens)
    for q, expected in (("%", 1), ("10%", 1), ("_", 0)):
        page = await (await client.get(f"/api/v1/tickets?q={q.replace('%', '%25')}", headers=auth(tokens["agent"]))).json()
        assert page["total"] == expected, q


async def test_an_idempotency_key_makes_a_double_submit_one_ticket(client, tokens, service):
    before = await count(service, tickets)
    headers = {**auth(tokens["agent"]), "Idempotency-Key": "form-7f3a"}
    first, second = await asyncio.gather(*(client.post("/api/v1/tickets", json=NEW, headers=headers)
                                           for _ in range(2)))
    bodies = [await first.json(), await second.json()]
    assert sorted([first.status, second.status]) == [200, 201]
    assert bodies[0]["number"] == bodies[1]["number"] and await count(service, tickets) == before + 1
    again = await client.post("/api/v1/tickets", json=NEW, headers=headers)  # a retry after a lost answer
    assert again.status == 200 and (await again.json())["number"] == bodies[0]["number"]
    # another key, or another user with the same key, is another ticket
    other = await client.post("/api/v1/tickets", json=NEW, headers={**headers, "Idempotency-Key": "form-8b1c"})
    assert other.status == 201
    dispatcher = await client.post("/api/v1/tickets", json=NEW, headers={**auth(tokens["dispatcher"]),
                                                                         "Idempotency-Key": "form-7f3a"})
    assert dispatcher.status == 201 and await count(service, tickets) == before + 3
    too_long = await client.post("/api/v1/tickets", json=NEW, headers={**headers, "Idempotency-Key": "k" * 101})
    assert too_long.status == 400
    # the same key for another request: refused, not answered with the first ticket while the new text is lost
    reused = await client.post("/api/v1/tickets", json={**NEW, "text": "另一件事：小区电梯坏了"}, headers=headers)
    message = (await reused.json())["error"]["message"]
    assert reused.status == 409 and bodies[0]["number"] in message and "换一个新的键" in message
    assert await count(service, tickets) == before + 3


async def test_overdue_and_due_soon_tickets_are_listed_nearest_deadline_first(client, tokens, service):
    slow = (await create(client, tokens, {**NEW, "request_type": "建议"}))["number"]  # 10 working days
    fast = (await create(client, tokens, {**NEW, "request_type": "咨询"}))["number"]  # 1 working day
    for number in (slow, fast):
        await move(client, tokens["dispatcher"], number, "dispatch", {"lead_unit": "housing"})

    async def listed(query, token="housing"):
        resp = await client.get(f"/api/v1/tickets?{query}", headers=auth(tokens[token]))
        assert resp.status == 200, await resp.text()
        return [t["number"] for t in (await resp.json())["items"]]

    assert (await listed("sort=due"))[:2] == [fast, slow]
    assert await listed("overdue=1") == []
    service.clock.advance(hours=3)  # the 2-hour sign-for deadline has passed for both
    assert set(await listed("overdue=1")) == {slow, fast}
    fast_due = (await (await client.get(f"/api/v1/tickets/{fast}", headers=auth(tokens["agent"]))).json())
    assert await listed(f"due_before={fast_due['reply_due_at'].replace('+', '%2B')}", "agent") == [fast]
    resp = await client.get("/api/v1/tickets?sort=oldest", headers=auth(tokens["agent"]))
    assert resp.status == 400 and "sort 只能是" in (await resp.json())["error"]["message"]


async def test_an_unknown_action_is_named_with_the_actions_staff_know(client, tokens):
    number = (await create(client, tokens))["number"]
    resp = await client.post(f"/api/v1/tickets/{number}/transitions", json={"action": "fly", "params": {}},
                             headers=auth(tokens["agent"]))
    message = (await resp.json())["error"]["message"]
    assert resp.status == 422 and message.startswith("操作(action)：未知操作 fly（可用：") and "派单(dispatch)" in message
