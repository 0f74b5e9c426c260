"""Agent assist over HTTP: articles only in force (the chatbot's rule), no routing for member units, input checks."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from hotline import appkeys
from tests.knowledge.web_helpers import AGENT, EDITOR, json_of, unit_header, web_client

ARTICLES = "/api/v1/kb/articles"
ASSIST = "/api/v1/assist"


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    return await web_client(aiohttp_client, engine, clock, tmp_path)


async def _published(client, title, body, **dates) -> int:
    article = await json_of(await client.post(ARTICLES, headers=EDITOR, json={"title": title, "body": body, **dates}), 201)
    await json_of(await client.post(f"{ARTICLES}/{article['id']}/actions/publish", headers=EDITOR))
    return article["id"]


async def test_assist_suggests_and_inserts_only_articles_in_force(client):
    clock = client.app[appkeys.CLOCK]
    future = await _published(client, "明年起生效的新政", "<p>新政测试内容：独生子女护理假每年15天。</p>",
                              valid_from="2099-01-01")
    ending = await _published(client, "独生子女护理假旧规定", "<p>旧规定：独生子女护理假每年10天。</p>",
                              valid_to=(clock.now() + dt.timedelta(hours=1)).isoformat())
    current = await _published(client, "独生子女护理假现行规定", "<p>现行规定：独生子女护理假每年12天。</p>")

    ids = [a["id"] for a in (await json_of(await client.get(ASSIST, params={"text": "独生子女护理假有几天"},
                                                        headers=AGENT)))["articles"]]
    assert current in ids and ending in ids and future not in ids
    clock.advance(hours=2)  # the old rule has ended; the nightly sweep has not expired it yet
    for headers in (AGENT, EDITOR):
        ids = [a["id"] for a in (await json_of(await client.get(ASSIST, params={"text": "独生子女护理假有几天"},
                                                            headers=headers)))["articles"]]
        assert ids[0] == current and future not in ids and ending not in ids

    for article_id in (future, ending):
        for headers in (AGENT, EDITOR):
            error = (await json_of(await client.post(f"{ASSIST}/insert", json={"article_id": article_id},
                                                   headers=headers), 400))["error"]
            assert error["message"] == "该知识不在有效期内（尚未生效或已失效），不能引用"
    text = (await json_of(await client.post(f"{ASSIST}/insert", json={"article_id": current}, headers=AGENT)))["text"]
    assert text.startswith("现行规定：独生子女护理假每年12天。")

    # search still lists them, marked: extra.in_force
    hits = (await json_of(await client.get("/api/v1/kb/search", params={"q": "独生子女护理假", "kind": "article"},
                                         headers=EDITOR)))["hits"]
    in_force = {int(h["id"]): h["extra"]["in_force"] for h in hits}
    assert {k: in_force[k] for k in (future, ending, current)} == {future: False, ending: False, current: True}
    assert all(in_force[k] for k in in_force if k not in (future, ending))  # the demo articles are in force
    # an agent answers from what is in force: those first, the others after them (marked); editors get the rank
    for title_words in ("明年起生效的新政 独生子女护理假", "独生子女护理假旧规定"):
        ranked = (await json_of(await client.get("/api/v1/kb/search", params={"q": title_words, "kind": "article"},
                                                 headers=EDITOR)))["hits"]
        assert int(ranked[0]["id"]) in (future, ending)  # the title asked for ranks first
        seen = (await json_of(await client.get("/api/v1/kb/search", params={"q": title_words, "kind": "article"},
                                               headers=AGENT)))["hits"]
        flags = [h["extra"]["in_force"] for h in seen]
        assert sorted(h["id"] for h in seen) == sorted(h["id"] for h in ranked)
        assert flags == sorted(flags, reverse=True) and flags[0] and not flags[-1]


async def test_member_units_get_no_routing_from_assist(client):
    router = client.app[appkeys.ROUTER]
    gas = await unit_header(client, "gas")
    for resp in (await client.get(ASSIST, params={"text": "燃气泄漏有异味怎么办"}, headers=gas),
                 await client.post(ASSIST, json={"text": "燃气泄漏有异味怎么办"}, headers=gas)):
        data = await json_of(resp)
        assert data["routing"] is None and data["articles"]
    assert router.calls == []
    async with client.ws_connect("/api/v1/assist/ws", headers=gas) as ws:
        await ws.send_str(json.dumps({"text": "燃气泄漏有异味怎么办"}))
        assert json.loads((await ws.receive()).data)["routing"] is None
    assert router.calls == []
    data = await json_of(await client.get(ASSIST, params={"text": "燃气泄漏有异味怎么办"}, headers=AGENT))
    assert data["routing"]["lead_unit"] == "gas" and len(router.calls) == 1


async def test_assist_refuses_an_unknown_intake_line(client):
    for resp in (await client.post(ASSIST, json={"text": "abc", "intake_line": "zzz"}, headers=AGENT),
                 await client.get(ASSIST, params={"text": "abc", "intake_line": "zzz"}, headers=AGENT)):
        error = (await json_of(resp, 400))["error"]
        assert error["message"].startswith("未知的热线号码 zzz（可用：12345、")
    await json_of(await client.post(ASSIST, json={"text": "燃气", "intake_line": "12319"}, headers=AGENT))
    assert client.app[appkeys.ROUTER].calls[-1] == ("燃气", "12319", "phone")
