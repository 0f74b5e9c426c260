"""An article edit that changes nothing changes nothing: no version, no status change (W6)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline import appkeys
from knowledge.tables import kb_articles
from tests.knowledge.web_helpers import AGENT, EDITOR, json_of, unit_header, web_client

ARTICLES = "/api/v1/kb/articles"


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    return await web_client(aiohttp_client, engine, clock, tmp_path)


async def _versions(client, article_id) -> list[tuple[int, str]]:
    items = (await json_of(await client.get(f"{ARTICLES}/{article_id}/versions", headers=EDITOR)))["items"]
    return [(v["version"], v["action"]) for v in items]


async def test_a_save_without_changes_makes_no_version_and_keeps_the_status(client):
    async with client.app[appkeys.ENGINE].connect() as conn:
        article_id = (await conn.execute(sa.select(kb_articles.c.id).where(
            kb_articles.c.external_id == "demo-002"))).scalar_one()
    path = f"{ARTICLES}/{article_id}"
    before = await json_of(await client.get(path, headers=EDITOR))
    history = await _versions(client, article_id)
    hrss = await unit_header(client, "hrss")
    # the console's 编辑 → 保存 without edits: every field as shown, dates as plain days
    form = {"title": before["title"], "body": before["body_html"], "category": before["category"],
            "keywords": before["keywords"], "valid_from": None, "valid_to": None, "review_due_at": None,
            "unit": "hrss", "version": before["version"]}
    for headers, body in [(EDITOR, {}), (EDITOR, {}), (EDITOR, {"unit": None}), (hrss, {}), (hrss, form),
                          (EDITOR, {"title": before["title"] + "  "}), (hrss, {"version": before["version"]})]:
        saved = await json_of(await client.put(path, headers=headers, json=body))
        assert (saved["status"], saved["version"]) == ("published", before["version"]), (headers, body)
        assert saved == before
    assert await _versions(client, article_id) == history
    # still answers: agents find it
    hits = (await json_of(await client.get("/api/v1/kb/search", params={"q": "社保卡丢了", "kind": "article"},
                                         headers=AGENT)))["hits"]
    assert str(article_id) in [h["id"] for h in hits]
    # a wrong version is still a conflict, even for an empty edit
    await json_of(await client.put(path, headers=hrss, json={"version": before["version"] + 1}), 409)

    # a real change is still an edit: a version; from the unit, a pending revision while the article stays live
    changed = await json_of(await client.put(path, headers=EDITOR, json={"valid_to": "2030-12-31"}))
    assert changed["version"] == before["version"] + 1 and changed["status"] == "published"
    again = await json_of(await client.put(path, headers=EDITOR, json={"valid_to": "2030-12-31"}))  # same day again
    assert again["version"] == changed["version"]
    edited = await json_of(await client.put(path, headers=hrss, json={"keywords": ["社保卡", "挂失"]}))
    assert (edited["status"], edited["version"]) == ("published", changed["version"])
    assert edited["pending_revision"]["keywords"] == ["社保卡", "挂失"]
    assert [a for _, a in await _versions(client, article_id)][-2:] == ["edit", "propose"]
