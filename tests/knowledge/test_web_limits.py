"""HTTP API input limits and types: article keywords, titles and notes; synonym groups; integer ids;
validity dates; what an edit leaves out; categories; assist over POST for long texts."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from hotline import appkeys
from knowledge.tables import kb_articles
from tests.knowledge.web_helpers import AGENT, EDITOR, unit_header, web_client

ARTICLES = "/api/v1/kb/articles"


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    return await web_client(aiohttp_client, engine, clock, tmp_path)


async def _error(resp, status: int) -> str:
    assert resp.status == status, await resp.text()
    return (await resp.json())["error"]["message"]


async def _create(client, headers=EDITOR, **fields) -> dict:
    resp = await client.post(ARTICLES, json={"title": "燃气表更换", "body": "满十年免费更换。", **fields}, headers=headers)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_article_keywords_title_and_note_are_bounded(client):
    post = lambda **f: client.post(ARTICLES, json={"title": "关键词测试", "body": "x", **f}, headers=EDITOR)  # noqa: E731
    assert await _error(await post(keywords=[f"词{i}" for i in range(31)]), 400) == "字段 关键词(keywords) 不合法：最多 30 项"
    assert await _error(await post(keywords=["燃气", "公积金社保" * 11]), 400) == \
        "字段 关键词(keywords) 不合法：第 2 个关键词超过 50 个字符"
    assert await _error(await post(keywords=["燃气", 5]), 400) == "字段 keywords.1 不合法：必须是字符串"
    assert await _error(await post(title="长" * 301), 400) == "字段 标题(title) 不合法：最多 300 个字符"
    # 30 keywords of 50 characters (counted without the spaces around them) are accepted; blanks dropped
    resp = await post(keywords=[f"  {i:02d}{'词' * 48}  " for i in range(30)] + ["  "])
    assert resp.status == 201
    assert (await resp.json())["keywords"] == [f"{i:02d}{'词' * 48}" for i in range(30)]

    art = await _create(client)
    url = f"{ARTICLES}/{art['id']}/actions/submit"
    for note, message in [({"a": 1}, "note 必须是字符串"), (["已核实"], "note 必须是字符串"), (3, "note 必须是字符串"),
                          ("长" * 2001, "note 不能超过 2000 字")]:
        assert await _error(await client.post(url, json={"note": note}, headers=EDITOR), 400) == message
    resp = await client.post(url, json={"note": "长" * 2000}, headers=EDITOR)
    assert resp.status == 200 and (await resp.json())["status"] == "in_review"
    versions = (await (await client.get(f"{ARTICLES}/{art['id']}/versions", headers=EDITOR)).json())["items"]
    assert [(v["action"], len(v["note"] or "")) for v in versions] == [("create", 0), ("submit", 2000)]


async def test_synonym_groups_are_bounded_typed_split_on_semicolons_and_unique(client):
    url = "/api/v1/kb/synonyms"
    post = lambda terms: client.post(url, json={"terms": terms}, headers=EDITOR)  # noqa: E731
    message = "terms 必须是字符串（词之间用顿号、逗号或分号分隔）或字符串数组"
    for terms in (123, None, {"a": "b"}, ["摩的", 1]):
        assert await _error(await post(terms), 400) == message, terms
    assert await _error(await post("、".join(f"词{i}" for i in range(51))), 400) == "同义词组最多 50 个词"
    assert await _error(await post([f"词{i}" for i in range(51)]), 400) == "同义词组最多 50 个词"
    assert await _error(await post(["摩的", "长" * 31]), 400) == "每个同义词最多 30 个字"
    assert await _error(await post("摩的、" + "长" * 31), 400) == "每个同义词最多 30 个字"
    assert (await _error(await post("/".join(f"词{i}" for i in range(20000))), 400)).startswith("同义词组过长")

    resp = await post("摩的,黑车;野的；非法营运")
    assert resp.status == 201
    made = await resp.json()
    assert made["terms"] == ["摩的", "黑车", "野的", "非法营运"]
    # the same members in another order, or the same as a default group: 409, and nothing stored
    assert (await _error(await post("非法营运 野的 黑车 摩的"), 409)).startswith("已有相同的同义词组")
    assert (await _error(await post("社会保障、社保、社会保险"), 409)).startswith("已有相同的同义词组")
    # part of a group adds nothing (every term already expands to the rest): 409 naming the group
    assert await _error(await post("黑车、摩的"), 409) == \
        f"这些词已全部在同义词组 {made['id']}（摩的、黑车、野的、非法营运）中，无需再建；如需调整请编辑该组"
    # sharing a term with a group is allowed: a term may be in several groups (黑车 is also an 黑出租)
    shared = await post("黑车、黑出租")
    assert shared.status == 201
    groups = (await (await client.get(url, headers=AGENT)).json())["items"]
    assert sum(set(g["terms"]) == {"摩的", "黑车", "野的", "非法营运"} for g in groups) == 1
    assert not any(set(g["terms"]) == {"黑车", "摩的"} for g in groups)
    # saving a group as it is stays allowed; turning it into a copy of another is not
    resp = await client.put(f"{url}/{made['id']}", json={"terms": "黑车、摩的、野的、非法营运"}, headers=EDITOR)
    assert resp.status == 200
    resp = await client.put(f"{url}/{made['id']}", json={"terms": "社保、社会保险、社会保障"}, headers=EDITOR)
    assert (await _error(resp, 409)).startswith("已有相同的同义词组")

    assert await _error(await client.delete(f"{url}/99999", headers=EDITOR), 404) == "同义词组 99999 不存在"
    assert await _error(await client.put(f"{url}/99999", json={"terms": "甲,乙"}, headers=EDITOR), 404) == \
        "同义词组 99999 不存在"
    assert (await client.delete(f"{url}/{made['id']}", headers=EDITOR)).status == 200
    assert (await client.delete(f"{url}/{made['id']}", headers=EDITOR)).status == 404


async def test_integer_ids_and_versions_refuse_booleans_strings_and_out_of_range(client):
    published = (await (await client.get(ARTICLES, params={"status": "published", "limit": "1"},
                                         headers=AGENT)).json())["items"][0]
    insert = "/api/v1/assist/insert"
    for value, message in [(True, "article_id 必须是整数"), (False, "article_id 必须是整数"),
                           ("1", "article_id 必须是整数"), (1.0, "article_id 必须是整数"),
                           (None, "article_id 必须是整数"),
                           (99999999999999999999, "article_id 超出范围 1–2147483648"),
                           (0, "article_id 超出范围 1–2147483648")]:
        resp = await client.post(insert, json={"article_id": value}, headers=AGENT)
        assert await _error(resp, 400) == message, value
    resp = await client.post(insert, json={"article_id": published["id"]}, headers=AGENT)
    assert resp.status == 200 and (await resp.json())["article_id"] == published["id"]

    art = await _create(client)
    for version in (True, "1", 1.5):
        resp = await client.put(f"{ARTICLES}/{art['id']}", json={"body": "改", "version": version}, headers=EDITOR)
        assert await _error(resp, 400) == "version 必须是整数", version
        resp = await client.post(f"{ARTICLES}/{art['id']}/actions/submit", json={"version": version}, headers=EDITOR)
        assert await _error(resp, 400) == "version 必须是整数", version
    assert (await (await client.get(f"{ARTICLES}/{art['id']}", headers=EDITOR)).json())["version"] == 1


async def test_validity_order_and_a_published_article_edited_into_the_past(client):
    clock = client.app[appkeys.CLOCK]
    day = lambda n: (clock.now() + dt.timedelta(days=n)).isoformat()  # noqa: E731
    resp = await client.post(ARTICLES, json={"title": "节日燃气安全", "body": "注意通风。", "valid_from": day(10),
                                             "valid_to": day(5)}, headers=EDITOR)
    assert await _error(resp, 400) == "字段 失效日期(valid_to) 不合法：失效日期不能早于生效日期"
    art = await _create(client, valid_from=day(-2), valid_to=day(30))
    url = f"{ARTICLES}/{art['id']}"
    # an edit moving only the start past the stored end: checked against the stored end
    assert await _error(await client.put(url, json={"valid_from": day(31)}, headers=EDITOR), 400) == \
        "字段 失效日期(valid_to) 不合法：失效日期不能早于生效日期"
    assert (await client.post(f"{url}/actions/publish", headers=EDITOR)).status == 200

    resp = await client.put(url, json={"valid_to": day(-1)}, headers=EDITOR)
    assert (await _error(resp, 409)).startswith("失效日期已过")
    kept = await (await client.get(url, headers=AGENT)).json()
    assert (kept["status"], kept["version"], kept["valid_to"]) == ("published", 1, art["valid_to"])
    # expiring it is the editor's way to take it down; then its dates may be anything in order
    assert (await client.post(f"{url}/actions/expire", headers=EDITOR)).status == 200
    resp = await client.put(url, json={"valid_from": day(-10), "valid_to": day(-1)}, headers=EDITOR)
    assert resp.status == 200 and (await resp.json())["status"] == "expired"
    assert (await _error(await client.post(f"{url}/actions/publish", headers=EDITOR), 409)).startswith("知识已过有效期")


async def test_an_edit_keeps_what_it_leaves_out_and_null_clears(client):
    clock = client.app[appkeys.CLOCK]
    gas = await unit_header(client, "gas")
    until, due = (clock.now() + dt.timedelta(days=d) for d in (90, 60))
    art = await _create(client, gas, category="C0803", keywords=["燃气表", "换表"], valid_from=clock.now().isoformat(),
                        valid_to=until.isoformat(), review_due_at=due.isoformat())
    url = f"{ARTICLES}/{art['id']}"
    resp = await client.put(url, json={"body": "燃气表使用满十年由燃气公司免费更换。", "version": 1}, headers=gas)
    assert resp.status == 200, await resp.text()
    edited = await resp.json()
    fields = ("title", "category", "keywords", "valid_from", "valid_to", "review_due_at", "unit_code")
    assert {k: edited[k] for k in fields} == {k: art[k] for k in fields}
    assert edited["body_text"] == "燃气表使用满十年由燃气公司免费更换。" and edited["version"] == 2

    resp = await client.put(url, json={"category": None, "keywords": None, "valid_to": None, "unit": None},
                            headers=gas)
    cleared = await resp.json()
    assert (cleared["category"], cleared["keywords"], cleared["valid_to"]) == (None, [], None)
    assert (cleared["title"], cleared["body_text"], cleared["unit_code"]) == (art["title"], edited["body_text"], "gas")
    assert cleared["review_due_at"] == art["review_due_at"]
    assert await _error(await client.put(url, json={"title": None}, headers=gas), 400) == \
        "字段 标题(title) 不合法：必须是字符串"


async def test_article_category_must_be_a_category_of_the_taxonomy(client):
    resp = await client.post(ARTICLES, json={"title": "燃气表", "body": "正文", "category": "NOPE"}, headers=EDITOR)
    assert await _error(resp, 400) == "字段 分类(category) 不合法：分类 NOPE 不存在"
    art = await _create(client, category=" C0803 ")
    assert art["category"] == "C0803"
    url = f"{ARTICLES}/{art['id']}"
    assert await _error(await client.put(url, json={"category": "燃气"}, headers=EDITOR), 400) == \
        "字段 分类(category) 不合法：分类 燃气 不存在"
    assert (await (await client.put(url, json={"category": "C0801"}, headers=EDITOR)).json())["category"] == "C0801"
    # an article stored with a category from before the check keeps it through edits that leave it alone
    async with client.app[appkeys.ENGINE].begin() as conn:
        await conn.execute(kb_articles.update().where(kb_articles.c.id == art["id"]).values(category="公安"))
    resp = await client.put(url, json={"body": "新的正文", "category": "公安"}, headers=EDITOR)
    assert resp.status == 200 and (await resp.json())["category"] == "公安"
    async with client.app[appkeys.ENGINE].connect() as conn:
        assert (await conn.execute(sa.select(kb_articles.c.category).where(
            kb_articles.c.id == art["id"]))).scalar() == "公安"


async def test_assist_over_post_takes_texts_a_url_cannot_hold(client):
    story = "我家住在东山区凤凰路，" * 160 + "今天家里燃气泄漏有异味怎么办"  # 1774 characters: more than a URL holds
    assert len(story.encode()) * 3 > 8190
    resp = await client.post("/api/v1/assist", json={"text": story, "intake_line": "12345", "channel": "phone"},
                             headers=AGENT)
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert "燃气泄漏应急处置" in [a["title"] for a in data["articles"]] and data["routing"]["lead_unit"] == "gas"
    # the same answer as GET gives for a short text
    short = "家里燃气泄漏有异味怎么办"
    by_get = await (await client.get("/api/v1/assist", params={"text": short}, headers=AGENT)).json()
    by_post = await (await client.post("/api/v1/assist", json={"text": short}, headers=AGENT)).json()
    assert by_post == by_get and by_post["articles"]
    assert await _error(await client.post("/api/v1/assist", json={"text": "燃" * 5001}, headers=AGENT), 400) == \
        "文本过长（最多 5000 字）"
    assert (await client.post("/api/v1/assist", json={"text": "燃" * 5000}, headers=AGENT)).status == 200
    # GET carries as much as the limit allows (45 KB of URL), and says in Chinese when a text is over it
    assert (await client.get("/api/v1/assist", params={"text": "燃" * 5000}, headers=AGENT)).status == 200
    assert await _error(await client.get("/api/v1/assist", params={"text": "燃" * 5001}, headers=AGENT), 400) == \
        "文本过长（最多 5000 字）"
    assert await _error(await client.post("/api/v1/assist", json={"text": 5}, headers=AGENT), 400) == "text 必须是字符串"
    assert await _error(await client.post("/api/v1/assist", json={"text": "燃气", "ticket_id": True}, headers=AGENT),
                        400) == "ticket_id 必须是整数"
    assert await _error(await client.post("/api/v1/assist", data="text=燃气", headers=AGENT), 400) == \
        "请求体必须是 application/json"
    assert (await client.post("/api/v1/assist", json={"text": "燃气"})).status == 401
