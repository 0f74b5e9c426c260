"""HTTP API: articles workflow over JSON, search, synonyms, gaps, agent assist (GET and websocket), web chat."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import knowledge.web
from hotline import appkeys
from knowledge.search.base import SearchDoc
from tests.knowledge.web_helpers import AGENT, EDITOR, unit_header, web_client


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    return await web_client(aiohttp_client, engine, clock, tmp_path)


async def test_article_workflow_over_http(client):
    gas = await unit_header(client, "gas")
    resp = await client.post("/api/v1/kb/articles", json={
        "title": "燃气表更换", "body": "<p>燃气表使用满十年免费更换<img src=x onerror=alert(1)></p>"}, headers=gas)
    assert resp.status == 201
    art = await resp.json()
    assert art["status"] == "draft" and "onerror" not in art["body_html"] and art["unit_code"] == "gas"
    water = await unit_header(client, "water")
    resp = await client.put(f"/api/v1/kb/articles/{art['id']}", json={"title": "x", "body": "y"}, headers=water)
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    assert (await client.post(f"/api/v1/kb/articles/{art['id']}/actions/submit", headers=gas)).status == 200
    resp = await client.post(f"/api/v1/kb/articles/{art['id']}/actions/publish", headers=gas)
    assert resp.status == 403
    resp = await client.post(f"/api/v1/kb/articles/{art['id']}/actions/publish", json={"note": "已核实"},
                             headers=EDITOR)
    assert (await resp.json())["status"] == "published"
    resp = await client.put(f"/api/v1/kb/articles/{art['id']}", json={
        "title": "燃气表更换", "body": "燃气表使用满十年由燃气公司免费更换。", "version": 1}, headers=gas)
    # the unit's edit of the published article waits for an editor (knowledge/revisions.py); published, it is v2
    assert ((await resp.json())["version"], (await resp.json())["pending_revision"]["state"]) == (1, "pending")
    resp = await client.post(f"/api/v1/kb/articles/{art['id']}/actions/publish_revision", json={}, headers=EDITOR)
    assert (await resp.json())["version"] == 2
    resp = await client.put(f"/api/v1/kb/articles/{art['id']}", json={
        "title": "燃气表更换", "body": "过期的修改", "version": 1}, headers=gas)
    assert resp.status == 409
    diff = await (await client.get(f"/api/v1/kb/articles/{art['id']}/diff?from=1&to=2", headers=gas)).json()
    assert "+燃气表使用满十年由燃气公司免费更换。" in diff["diff"]
    versions = await (await client.get(f"/api/v1/kb/articles/{art['id']}/versions", headers=EDITOR)).json()
    assert [v["action"] for v in versions["items"]] == ["create", "submit", "publish", "propose", "edit", "publish_revision"]
    assert versions["items"][2]["note"] == "已核实"


async def test_bad_input_and_auth(client):
    assert (await client.get("/api/v1/kb/search?q=社保")).status == 401
    resp = await client.get("/api/v1/kb/search?q=", headers=AGENT)
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_input"
    resp = await client.get("/api/v1/kb/search?q=社保&kind=person", headers=AGENT)
    assert resp.status == 400
    resp = await client.get("/api/v1/kb/search?q=社保&date_from=yesterday", headers=AGENT)
    assert "date_from" in (await resp.json())["error"]["message"]
    resp = await client.post("/api/v1/kb/articles", data="not json", headers={**EDITOR, "Content-Type": "application/json"})
    assert resp.status == 400
    resp = await client.post("/api/v1/kb/articles", json={"title": "无正文"}, headers=EDITOR)
    assert resp.status == 400 and "body" in (await resp.json())["error"]["message"]
    assert (await client.get("/api/v1/kb/articles/99999", headers=AGENT)).status == 404
    resp = await client.post("/api/v1/kb/articles/1/actions/fly", headers=EDITOR)
    assert resp.status == 400
    resp = await client.post("/api/v1/kb/synonyms", json={"terms": "网约车,出租车"}, headers=AGENT)
    assert resp.status == 403


async def test_search_filters_and_synonym_editing(client):
    result = await (await client.get("/api/v1/kb/search", params={"q": "社保卡丢了", "kind": "article"},
                                     headers=AGENT)).json()
    assert result["hits"][0]["title"] == "社保卡丢失后如何挂失补办"
    assert "<em>社保卡</em>" in result["hits"][0]["highlight"]
    result = await (await client.get("/api/v1/kb/search", params={"q": "停车", "unit": "police"},
                                     headers=AGENT)).json()
    assert [h["title"] for h in result["hits"]] == ["违法停车被贴罚单如何处理"]
    before = await (await client.get("/api/v1/kb/search", params={"q": "摩的"}, headers=AGENT)).json()
    assert before["total"] == 0
    resp = await client.post("/api/v1/kb/synonyms", json={"terms": "摩的、出租车"}, headers=EDITOR)
    assert resp.status == 201
    after = await (await client.get("/api/v1/kb/search", params={"q": "摩的"}, headers=AGENT)).json()
    assert after["hits"][0]["title"] == "出租车拒载绕路投诉"
    groups = (await (await client.get("/api/v1/kb/synonyms", headers=AGENT)).json())["items"]
    assert ["摩的", "出租车"] in [g["terms"] for g in groups] and ["社保", "社会保险", "社会保障"] in [g["terms"] for g in groups]


async def test_assist_articles_similar_tickets_routing_and_insert(client):
    index = client.app[appkeys.SEARCH]
    await index.upsert([SearchDoc(kind="ticket", ref_id="41", title="", body="小区里闻到很重的燃气味，怀疑漏气",
                                  unit="gas", status="closed",
                                  extra={"number": "2026110100041", "unit_name": "云州燃气集团",
                                         "reply": "抢修人员已到场处置，更换了老化软管。"})])
    resp = await client.get("/api/v1/assist", params={"text": "家里燃气泄漏有异味怎么办"}, headers=AGENT)
    data = await resp.json()
    assert data["articles"][0]["title"] == "燃气泄漏应急处置"
    article_id = data["articles"][0]["id"]
    (similar,) = data["similar_tickets"]
    assert similar["number"] == "2026110100041" and similar["reply"] == "抢修人员已到场处置，更换了老化软管。"
    assert similar["unit_name"] == "云州燃气集团"
    assert data["routing"]["lead_unit"] == "gas"
    assert client.app[appkeys.ROUTER].calls == [("家里燃气泄漏有异味怎么办", "12345", "phone")]
    # excluding the ticket being edited
    data = await (await client.get("/api/v1/assist", params={"text": "燃气味漏气", "ticket_id": "41"},
                                   headers=AGENT)).json()
    assert data["similar_tickets"] == []
    resp = await client.post("/api/v1/assist/insert", json={"article_id": article_id}, headers=AGENT)
    text = (await resp.json())["text"]
    assert text.startswith("发现燃气泄漏，请立即关闭燃气总阀") and "依据：《燃气泄漏应急处置》" in text


async def test_assist_websocket_live_updates(client):
    async with client.ws_connect("/api/v1/assist/ws", headers=AGENT) as ws:
        await ws.send_str(json.dumps({"text": "公积金"}))
        first = json.loads((await ws.receive()).data)
        assert first["text"] == "公积金"
        assert first["articles"][0]["title"].startswith("住房公积金")
        await ws.send_str(json.dumps({"text": "公积金贷款最高能贷多少"}))
        second = json.loads((await ws.receive()).data)
        assert second["articles"][0]["title"] == "住房公积金贷款额度怎么计算"
        await ws.send_str("不是 JSON")
        assert json.loads((await ws.receive()).data)["error"]["code"] == "invalid_json"
    resp = await client.get("/api/v1/assist/ws")
    assert resp.status == 401


async def test_web_chat_and_gaps(client):
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "visitor-1", "text": "异地就医怎么备案"})
    reply = await resp.json()
    assert reply["kind"] == "answer" and "《异地就医备案怎么办理》" in reply["text"]
    await client.post("/api/v1/chatbot/messages", json={"user_id": "visitor-1", "text": "没用"})
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "visitor-1"})
    assert resp.status == 422
    gaps = await (await client.get("/api/v1/kb/gaps", headers=EDITOR)).json()
    assert gaps["items"][0]["question"] == "异地就医怎么备案"


async def test_chatbot_report_counts_the_real_dialogue(client):
    async def say(user, text):
        resp = await client.post("/api/v1/chatbot/messages", json={"user_id": user, "text": text})
        return (await resp.json())["kind"]

    assert await say("visitor-1", "异地就医怎么备案") == "answer"
    await say("visitor-1", "有用")
    assert await say("visitor-2", "异地就医怎么备案") == "answer"
    await say("visitor-2", "没用")
    assert await say("visitor-3", "异地就医备案需要什么材料") == "answer"
    day = client.app[appkeys.CLOCK].now().astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()

    resp = await client.get(f"/api/v1/chatbot/report?since={day}&until={day}", headers=EDITOR)
    assert resp.status == 200
    report = await resp.json()
    assert (report["questions"], report["answered"], report["helpful"], report["unhelpful"]) == (3, 3, 1, 1)
    assert report["answer_rate"] == 1.0 and report["helpful_rate"] == 0.5
    assert [c["channel"] for c in report["channels"]] == ["web"] and report["days"][0]["date"] == day
    [top] = report["articles"]
    assert top["title"] == "异地就医备案怎么办理" and (top["answered"], top["helpful"], top["unhelpful"]) == (3, 1, 1)
    assert report["unhelpful_articles"] == [top]
    resp = await client.get("/api/v1/chatbot/report", headers=AGENT)
    assert resp.status == 403
    resp = await client.get("/api/v1/chatbot/report?until=11/23", headers=EDITOR)
    assert resp.status == 400 and "结束日期格式应为 YYYY-MM-DD" in (await resp.json())["error"]["message"]


async def test_web_chat_is_rate_limited_per_visitor_and_per_address(client):
    from knowledge.web import CHAT_PER_MINUTE

    # The test app's clock stands still, so every message falls in the same minute.
    for i in range(CHAT_PER_MINUTE):
        resp = await client.post("/api/v1/chatbot/messages", json={"user_id": f"visitor-{i % 3}", "text": "你好"})
        assert resp.status == 200, i
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "visitor-new", "text": "你好"})
    assert resp.status == 429 and (await resp.json())["error"]["code"] == "too_many_requests"


async def test_web_chat_behind_our_proxy_limits_each_citizen_address(client):
    from knowledge.web import CHAT_PER_MINUTE

    client.app[appkeys.SETTINGS].trust_forwarded_for = True
    # Every request reaches us from the proxy; the client writes its own (untrusted) entries on the left.
    def via_proxy(citizen: str, forged: str) -> dict:
        return {"X-Forwarded-For": f"{forged}, {citizen}"}

    for i in range(CHAT_PER_MINUTE):
        resp = await client.post("/api/v1/chatbot/messages", json={"user_id": f"visitor-{i}", "text": "你好"},
                                 headers=via_proxy("203.0.113.9", f"10.0.0.{i}"))
        assert resp.status == 200, i
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "visitor-new", "text": "你好"},
                             headers=via_proxy("203.0.113.9", "10.9.9.9"))
    assert resp.status == 429
    # Another citizen behind the same proxy is not blocked by the first one's burst.
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "visitor-other", "text": "你好"},
                             headers=via_proxy("203.0.113.10", "10.0.0.1"))
    assert resp.status == 200


def test_sliding_window_forgets_old_hits():
    import datetime as dt

    from hotline.ratelimit import SlidingWindowLimit

    limit = SlidingWindowLimit(2, dt.timedelta(minutes=1))
    t0 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)
    assert limit.allow("a", t0) and limit.allow("a", t0 + dt.timedelta(seconds=10))
    assert not limit.allow("a", t0 + dt.timedelta(seconds=59))
    assert limit.allow("b", t0 + dt.timedelta(seconds=59))
    assert limit.allow("a", t0 + dt.timedelta(seconds=61))


async def test_article_action_pins_the_reviewed_version(client):
    gas = await unit_header(client, "gas")
    art = await (await client.post("/api/v1/kb/articles", json={"title": "燃气过户", "body": "携带房产证办理"},
                                   headers=gas)).json()
    await client.post(f"/api/v1/kb/articles/{art['id']}/actions/submit", headers=gas)
    await client.put(f"/api/v1/kb/articles/{art['id']}", json={"title": "燃气过户", "body": "携带房产证和身份证办理"},
                     headers=gas)  # v2 saved while the editor reviews v1
    url = f"/api/v1/kb/articles/{art['id']}/actions/publish"
    resp = await client.post(url, json={"version": 1, "note": "已核实"}, headers=EDITOR)
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "conflict"
    resp = await client.post(url, json={"version": "2"}, headers=EDITOR)
    assert resp.status == 400 and (await resp.json())["error"]["message"] == "version 必须是整数"
    resp = await client.post(url, json={"version": 2}, headers=EDITOR)
    assert resp.status == 200 and (await resp.json())["status"] == "published"


async def test_validation_errors_are_chinese(client):
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "", "text": "你好"})
    assert resp.status == 422
    assert (await resp.json())["error"] == {"code": "invalid_params", "message": "用户标识(user_id)：不能为空"}
    resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "v1"})
    assert (await resp.json())["error"]["message"] == "内容(text)：缺少必填字段"
    resp = await client.post("/api/v1/kb/articles", json={"title": "", "body": "正文"}, headers=EDITOR)
    assert resp.status == 400 and (await resp.json())["error"]["message"] == "字段 标题(title) 不合法：不能为空"
    resp = await client.post("/api/v1/kb/articles", json={"title": "标题", "body": "正文", "valid_to": "2026-01-31T08:00"},
                             headers=EDITOR)
    assert (await resp.json())["error"]["message"] == "字段 失效日期(valid_to) 不合法：日期需要带时区"


async def test_owner_confirms_a_flagged_article_is_still_right(client):
    gas = await unit_header(client, "gas")
    clock = client.app[appkeys.CLOCK]
    due = (clock.now() + dt.timedelta(days=1)).isoformat()
    art = await (await client.post("/api/v1/kb/articles", json={
        "title": "燃气开户", "body": "携带房产证到营业厅办理", "review_due_at": due}, headers=gas)).json()
    await client.post(f"/api/v1/kb/articles/{art['id']}/actions/publish", headers=EDITOR)
    url = f"/api/v1/kb/articles/{art['id']}/actions/confirm"
    clock.advance(days=2)
    await client.app[knowledge.web.ARTICLES].flag_review_due()
    flagged = await (await client.get(f"/api/v1/kb/articles/{art['id']}", headers=gas)).json()
    assert flagged["review_due"] is True and flagged["status"] == "published"

    resp = await client.post(url, json={"review_due_at": "2020-01-01"}, headers=gas)
    assert resp.status == 400 and (await resp.json())["error"]["message"] == "下次复核日期必须晚于现在"
    resp = await client.post(url, json={"review_due_at": "下个月"}, headers=gas)
    assert resp.status == 400
    resp = await client.post(url, json={"review_due_at": "2099-05-01", "version": 1}, headers=gas)
    assert resp.status == 200
    after = await resp.json()
    # still published and the same version: no second round of review for an unchanged article
    assert (after["status"], after["version"], after["review_due"]) == ("published", 1, False)
    # a plain date means to the end of that day in Beijing time, as on create and edit
    assert after["review_due_at"].startswith("2099-05-01T15:59:59")
    versions = (await (await client.get(f"/api/v1/kb/articles/{art['id']}/versions", headers=gas)).json())["items"]
    assert versions[-1]["action"] == "confirm" and "复核无误" in versions[-1]["note"]
    # no new review date given: half a year from now; nobody but the owner or an editor may confirm
    assert (await client.post(url, headers=await unit_header(client, "water"))).status == 403
    resp = await client.post(url, headers=EDITOR)
    assert resp.status == 200
    assert (await resp.json())["review_due_at"][:10] == (clock.now() + dt.timedelta(days=180)).date().isoformat()
    await client.post(f"/api/v1/kb/articles/{art['id']}/actions/archive", headers=EDITOR)
    resp = await client.post(url, headers=gas)
    assert resp.status == 409


async def test_an_editor_closes_a_gap_and_a_new_asking_reopens_it(client):
    async def ask(user, text):
        await client.post("/api/v1/chatbot/messages", json={"user_id": user, "text": text})

    await ask("v1", "驾照到期了怎么换证")
    await ask("v2", "驾照到期了怎么换证")
    gaps = (await (await client.get("/api/v1/kb/gaps", headers=EDITOR)).json())["items"]
    assert [(g["question"], g["count"]) for g in gaps] == [("驾照到期了怎么换证", 2)]

    resp = await client.post("/api/v1/kb/gaps/close", json={"question": "驾照到期了怎么换证"},
                             headers=await unit_header(client, "gas"))
    assert resp.status == 403
    resp = await client.post("/api/v1/kb/gaps/close", json={"question": ""}, headers=EDITOR)
    assert resp.status == 400
    resp = await client.post("/api/v1/kb/gaps/close", json={"question": "驾照到期了怎么换证"}, headers=EDITOR)
    assert (await resp.json()) == {"closed": 2}
    assert (await (await client.get("/api/v1/kb/gaps", headers=EDITOR)).json())["items"] == []
    client.app[appkeys.CLOCK].advance(minutes=1)
    await ask("v3", "驾照到期了怎么换证")
    gaps = (await (await client.get("/api/v1/kb/gaps", headers=EDITOR)).json())["items"]
    assert [(g["question"], g["count"]) for g in gaps] == [("驾照到期了怎么换证", 1)]


def _demo_rows():
    import csv

    from knowledge.data import DEMO_ARTICLES

    with open(DEMO_ARTICLES, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


async def _get(client, path, headers=AGENT, expect=200, **params):
    resp = await client.get(path, params=params, headers=headers)
    assert resp.status == expect, await resp.text()
    return await resp.json()


async def test_article_list_counts_all_matches_and_pages(client):
    everything = await _get(client, "/api/v1/kb/articles", limit="500")
    total = len(_demo_rows())
    assert everything["total"] == len(everything["items"]) == total
    first = await _get(client, "/api/v1/kb/articles", limit="5")
    assert len(first["items"]) == 5 and first["total"] == total
    assert [a["id"] for a in first["items"]] == [a["id"] for a in everything["items"][:5]]
    last = await _get(client, "/api/v1/kb/articles", limit="5", offset=str(total - 2))
    assert [a["id"] for a in last["items"]] == [a["id"] for a in everything["items"][-2:]] and last["total"] == total
    beyond = await _get(client, "/api/v1/kb/articles", limit="5", offset=str(total + 10))
    assert beyond == {"items": [], "total": total}
    police = await _get(client, "/api/v1/kb/articles", unit="police", limit="2")
    assert police["total"] == sum(r["unit"] == "police" for r in _demo_rows()) and len(police["items"]) == 2


async def test_article_list_text_filter_on_title_and_body(client):
    rows = _demo_rows()
    by_text = await _get(client, "/api/v1/kb/articles", q="社保卡")
    expected = [r["title"] for r in rows if "社保卡" in r["title"] + r["body"]]
    assert [a["title"] for a in by_text["items"]] == expected and by_text["total"] == len(expected) > 1
    assert "社保卡" in expected[0] and "社保卡" not in expected[1]  # a title, and a body only
    # the body counts too: "合作银行网点" is only in the 社保卡 article's body
    assert [a["title"] for a in (await _get(client, "/api/v1/kb/articles", q="合作银行网点"))["items"]] == [
        "社保卡丢失后如何挂失补办"]
    # % and _ match themselves, not any text
    percent = await _get(client, "/api/v1/kb/articles", q="%", limit="500")
    assert percent["total"] == sum("%" in r["title"] + r["body"] for r in rows) < len(rows)
    assert (await _get(client, "/api/v1/kb/articles", q="_"))["total"] == 0
    # case-insensitive for Latin letters, in the title and in the body
    gas = await unit_header(client, "gas")
    created = []
    for body in ({"title": "ETC 燃气缴费卡", "body": "办理 etc 业务"},
                 {"title": "燃气 App 缴费", "body": "下载 YunZhou Gas APP"}):
        resp = await client.post("/api/v1/kb/articles", json=body, headers=gas)
        created.append((await resp.json())["id"])
    list_ids = lambda q: _get(client, "/api/v1/kb/articles", headers=EDITOR, q=q)  # noqa: E731 (drafts: editors)
    assert [a["id"] for a in (await list_ids("Etc"))["items"]] == created[:1]
    assert [a["id"] for a in (await list_ids("yunzhou gas"))["items"]] == created[1:]
    assert [a["id"] for a in (await list_ids("燃气 APP"))["items"]] == created[1:]
    # with the other filters: the unit's own drafts containing "缴费"
    mine = await _get(client, "/api/v1/kb/articles", headers=gas, q="缴费", mine="1", status="draft")
    assert [a["id"] for a in mine["items"]] == created and mine["total"] == 2
    assert (await _get(client, "/api/v1/kb/articles", q="缴费", status="published", unit="gas"))["total"] == 0
    # flagged articles only, filtered by text
    clock = client.app[appkeys.CLOCK]
    due = (clock.now() + dt.timedelta(hours=1)).isoformat()
    resp = await client.put(f"/api/v1/kb/articles/{created[0]}", headers=gas,
                            json={"title": "ETC 燃气缴费卡", "body": "办理 etc 业务", "review_due_at": due})
    assert resp.status == 200
    await client.post(f"/api/v1/kb/articles/{created[0]}/actions/publish", headers=EDITOR)
    clock.advance(hours=2)
    await client.app[knowledge.web.ARTICLES].flag_review_due()
    flagged = await _get(client, "/api/v1/kb/articles", q="缴费", review_due="1")
    assert [a["id"] for a in flagged["items"]] == created[:1] and flagged["total"] == 1


async def test_article_list_rejects_bad_filters(client):
    for params, message in [
        ({"status": "deleted"}, "status 只能是 draft、in_review、published、expired、archived 之一"),
        ({"unit": "nowhere"}, "单位 nowhere 不存在（可用单位编码或全称）"),
        ({"q": "长" * 201}, "筛选文字不能超过 200 字"),
        ({"category": "类" * 51}, "category 不能超过 50 字"),
        ({"limit": "0"}, "参数 limit 超出范围 1–500"),
        ({"offset": "-1"}, "参数 offset 超出范围 0–1000000000"),
        ({"mine": "1"}, "mine=1 仅适用于成员单位账号"),
    ]:
        error = (await _get(client, "/api/v1/kb/articles", expect=400, **params))["error"]
        assert error == {"code": "invalid_input", "message": message}, params


async def test_search_filters_by_unit_category_status_date_and_review(client):
    search = "/api/v1/kb/search"
    hits = (await _get(client, search, q="医保 参保", unit="medical-insurance", kind="article"))["hits"]
    assert hits and {h["unit"] for h in hits} == {"medical-insurance"}
    # a unit by its full name, as kb import takes it, is the same filter
    assert (await _get(client, search, q="医保 参保", unit=" 云州市医疗保障局 ", kind="article"))["hits"] == hits
    listed = await _get(client, "/api/v1/kb/articles", unit="云州市医疗保障局")
    assert listed["total"] and {a["unit_code"] for a in listed["items"]} == {"medical-insurance"}
    hits = (await _get(client, search, q="社保", category="C0501"))["hits"]  # the category and those under it
    assert {h["title"] for h in hits} == {"灵活就业人员如何缴纳社会保险", "社保卡丢失后如何挂失补办", "退休人员养老金调整何时发放"}
    hits = (await _get(client, search, q="社保", category="C050101"))["hits"]
    assert {h["title"] for h in hits} == {"退休人员养老金调整何时发放"}
    hits = (await _get(client, search, q="医保 社保", category="C05", kind="article"))["hits"]  # a first-level one
    assert hits and all(h["category"].startswith("C05") for h in hits)
    assert {"C0501", "C050101", "C050102"} <= {h["category"] for h in hits}
    assert (await _get(client, search, q="社保", category="C0803"))["total"] == 0
    assert (await _get(client, search, q="社保", status="draft,in_review"))["total"] == 0
    assert (await _get(client, search, q="社保", status="published,closed"))["total"] >= 2  # an article and a ticket state
    # dates are China days: the demo articles were published on 2026-11-23 (the clock's day)
    assert (await _get(client, search, q="社保", date_from="2026-11-23", date_to="2026-11-23"))["total"] >= 2
    assert (await _get(client, search, q="社保", date_to="2026-11-22"))["total"] == 0
    assert (await _get(client, search, q="社保", date_from="2026-11-24"))["total"] == 0
    assert (await _get(client, search, q="社保", date_to="2026-11-23T09:00:00+08:00"))["total"] == 0

    # review_due=1: only the articles the review sweep flagged
    assert (await _get(client, search, q="社保", review_due="1")) == {"query": "社保", "total": 0, "hits": []}
    ids = await load_ids(client)
    article = await _get(client, f"/api/v1/kb/articles/{ids['demo-002']}")
    clock = client.app[appkeys.CLOCK]
    resp = await client.put(f"/api/v1/kb/articles/{article['id']}", headers=EDITOR, json={
        "title": article["title"], "body": article["body_html"], "category": article["category"], "unit": "hrss",
        "review_due_at": (clock.now() + dt.timedelta(hours=1)).isoformat()})
    assert resp.status == 200
    clock.advance(hours=2)
    await client.app[knowledge.web.ARTICLES].flag_review_due()
    flagged = await _get(client, search, q="社保", review_flagged="1")
    assert [h["id"] for h in flagged["hits"]] == [str(article["id"])] and flagged["total"] == 1
    assert (await _get(client, search, q="社保", review_due="1", unit="gas"))["total"] == 0

    # mine=1: the unit user's own unit
    hrss = await unit_header(client, "hrss")
    own = await _get(client, search, headers=hrss, q="社保 医保", mine="1", kind="article")
    assert own["hits"] and {h["unit"] for h in own["hits"]} == {"hrss"}


async def test_search_rejects_bad_filters(client):
    gas = await unit_header(client, "gas")
    for params, headers, message in [
        ({"unit": "nowhere"}, AGENT, "单位 nowhere 不存在"),
        ({"status": "published,deleted"}, AGENT, "status 不合法"),
        ({"category": "类" * 51}, AGENT, "category 不能超过 50 字"),
        ({"category": "ZZZ"}, AGENT, "分类 ZZZ 不存在"),
        ({"offset": "-5"}, AGENT, "参数 offset 超出范围"),
        ({"offset": "10"}, AGENT, "检索结果不分页，offset 只能为 0"),
        ({"date_from": "2026-13-01"}, AGENT, "参数 date_from 不是合法日期（如 2026-01-31）"),
        ({"date_to": "下周"}, AGENT, "参数 date_to 不是合法日期（如 2026-01-31）"),
        ({"date_from": "2026-11-24", "date_to": "2026-11-23"}, AGENT, "date_from 不能晚于 date_to"),
        ({"review_due": "1", "kind": "ticket"}, AGENT, "review_due=1 只适用于知识文章（kind=article）"),
        ({"mine": "1"}, AGENT, "mine=1 仅适用于成员单位账号"),
        ({"mine": "1", "unit": "water"}, gas, "mine=1 与 unit 指定了不同的单位"),
    ]:
        error = (await _get(client, "/api/v1/kb/search", headers=headers, expect=400, q="社保", **params))["error"]
        assert error["code"] == "invalid_input" and error["message"].startswith(message), (params, error)


async def load_ids(client) -> dict[str, int]:
    import sqlalchemy as sa

    from knowledge.tables import kb_articles

    async with client.app[appkeys.ENGINE].connect() as conn:
        return dict((await conn.execute(sa.select(kb_articles.c.external_id, kb_articles.c.id))).all())


async def test_reject_needs_a_reason_and_writes_nothing_without_one(client):
    gas = await unit_header(client, "gas")
    art = await (await client.post("/api/v1/kb/articles", json={"title": "燃气开户", "body": "携带房产证明办理"},
                                   headers=gas)).json()
    await client.post(f"/api/v1/kb/articles/{art['id']}/actions/submit", headers=gas)
    url = f"/api/v1/kb/articles/{art['id']}/actions/reject"
    for body in ({}, {"note": None}, {"note": "  "}, {"version": 1}):
        resp = await client.post(url, json=body, headers=EDITOR)
        assert resp.status == 422, body
        assert (await resp.json())["error"] == {
            "code": "invalid_params", "message": "备注(note)：缺少必填字段（退回修改须写明原因）"}
    assert (await client.post(url, headers=EDITOR)).status == 422  # no body at all
    after = await (await client.get(f"/api/v1/kb/articles/{art['id']}", headers=EDITOR)).json()
    versions = (await (await client.get(f"/api/v1/kb/articles/{art['id']}/versions", headers=EDITOR)).json())["items"]
    assert after["status"] == "in_review" and [v["action"] for v in versions] == ["create", "submit"]
    resp = await client.post(url, json={"note": "请补充办理时限"}, headers=EDITOR)
    assert resp.status == 200 and (await resp.json())["status"] == "draft"
    # archiving needs no reason (the console confirms it, and an editor can restore it)
    resp = await client.post(f"/api/v1/kb/articles/{art['id']}/actions/archive", json={}, headers=gas)
    assert resp.status == 200 and (await resp.json())["status"] == "archived"


async def test_titles_are_plain_text(client):
    resp = await client.post("/api/v1/kb/articles", json={
        "title": "<b>燃气</b>开户 &lt;须知&gt; &amp; 收费<3000元", "body": "携带房产证明办理"}, headers=EDITOR)
    art = await resp.json()
    assert art["title"] == "燃气开户 <须知> & 收费<3000元"
    # saved again as it is shown: unchanged, no new version
    resp = await client.put(f"/api/v1/kb/articles/{art['id']}", json={"title": art["title"]}, headers=EDITOR)
    assert (await resp.json())["version"] == 1
    resp = await client.put(f"/api/v1/kb/articles/{art['id']}", json={"title": "<i>燃气</i>过户"}, headers=EDITOR)
    assert (await resp.json())["title"] == "燃气过户"
    resp = await client.post("/api/v1/kb/articles", json={"title": "<script>x</script><b> </b>", "body": "正文"},
                             headers=EDITOR)
    assert resp.status == 400 and (await resp.json())["error"]["message"] == "字段 标题(title) 不合法：不能为空"


async def test_an_image_only_body_is_refused_saying_images_are_not_kept(client):
    resp = await client.post("/api/v1/kb/articles", json={
        "title": "停水通知（扫描件）", "body": '<p><img src="https://example.org/a.png"></p>'}, headers=EDITOR)
    assert resp.status == 400
    assert (await resp.json())["error"]["message"] == \
        "字段 正文(body) 不合法：不能只有图片：正文只保存文字，图片不会保存，请录入图片中的文字内容"
    resp = await client.post("/api/v1/kb/articles", json={
        "title": "停水通知", "body": '<p>明天停水。<img src="https://example.org/a.png"></p>'}, headers=EDITOR)
    assert resp.status == 201 and (await resp.json())["body_html"] == "<p>明天停水。</p>"
