"""Synonym edits reach every app instance (and worker) without a restart."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

import pytest

from hotline.app import create_app
from hotline.config import Settings
from hotline.db import make_engine
from hotline.users import create_user, issue_token
from knowledge.errors import NotFound
from knowledge.search.embedded import EmbeddedSearchIndex
from knowledge.synonyms_store import delete_group, save_group, synonyms_stamp
from tests.knowledge.helpers import load_demo

CHECK_SECONDS = 0.3


@pytest.fixture
async def two_apps(aiohttp_client, store_url, clock, tmp_path, monkeypatch):
    """Two app instances over the same database, each with its own engine and search index (two processes)."""
    monkeypatch.setenv("HOTLINE_KB_SYNONYMS_CHECK_SECONDS", str(CHECK_SECONDS))
    engines = [make_engine(store_url), make_engine(store_url)]
    seed = EmbeddedSearchIndex(engines[0])
    await seed.open()
    await load_demo(engines[0], clock, seed)  # the demo articles, indexed as the index job would
    await seed.close()
    headers = {}
    async with engines[0].begin() as conn:
        for name, role in (("editor1", "dispatcher"), ("agent1", "agent")):
            user_id = await create_user(conn, name, role, clock.now())
            headers[role] = {"Authorization": f"Bearer {await issue_token(conn, user_id, clock.now())}"}
    settings = Settings(data_dir=tmp_path / "data", database_url=None if store_url.startswith("sqlite") else store_url,
                        redis_url=None, elasticsearch_url=None)
    clients = []
    for engine in engines:
        app = create_app(settings, engine=engine, clock=clock, migrate=False,
                         plugins=["hotline.api.setup:setup", "knowledge.web:setup"])
        clients.append(await aiohttp_client(app))
    yield clients, headers
    for client in clients:
        await client.close()
    for engine in engines:
        await engine.dispose()


async def _titles(client, headers, query: str) -> list[str]:
    resp = await client.get("/api/v1/kb/search", params={"q": query, "kind": "article"}, headers=headers)
    assert resp.status == 200
    return [h["title"] for h in (await resp.json())["hits"]]


async def _eventually(check, seconds: float = 5.0) -> float:
    """Seconds until ``check()`` held (fails after ``seconds``)."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < seconds, "not picked up in time"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_edit_through_one_instance_reaches_the_other(two_apps):
    (a, b), headers = two_apps
    agent, editor = headers["agent"], headers["dispatcher"]
    taxi = "出租车拒载绕路投诉"
    assert await _titles(b, agent, "摩的") == []

    resp = await a.post("/api/v1/kb/synonyms", json={"terms": "摩的、出租车"}, headers=editor)
    assert resp.status == 201
    group_id = (await resp.json())["id"]
    assert (await _titles(a, agent, "摩的"))[0] == taxi  # the editing instance at once
    waited = await _eventually(lambda: _has(b, agent, "摩的", taxi))
    assert waited < 10 * CHECK_SECONDS  # the other within its check interval, no restart

    # an edit of the group and its deletion travel the same way
    resp = await b.put(f"/api/v1/kb/synonyms/{group_id}", json={"terms": "黑车,出租车"}, headers=editor)
    assert resp.status == 200
    await _eventually(lambda: _has(a, agent, "黑车", taxi))
    await _eventually(lambda: _lacks(a, agent, "摩的", taxi))
    assert (await a.delete(f"/api/v1/kb/synonyms/{group_id}", headers=editor)).status == 200
    await _eventually(lambda: _lacks(b, agent, "黑车", taxi))


async def _has(client, headers, query, title) -> bool:
    return title in await _titles(client, headers, query)


async def _lacks(client, headers, query, title) -> bool:
    return not await _has(client, headers, query, title)


async def test_stamp_moves_on_every_edit(engine):
    first = await synonyms_stamp(engine)
    saved = await save_group(engine, "摩的,出租车", "editor1")
    second = await synonyms_stamp(engine)
    await save_group(engine, "摩的,网约车", "editor1", saved["id"])  # same row count, same highest id
    third = await synonyms_stamp(engine)
    await delete_group(engine, saved["id"])
    fourth = await synonyms_stamp(engine)
    assert len({first, second, third, fourth}) == 4
    with pytest.raises(NotFound):  # nothing to delete: 404, and nothing changed
        await delete_group(engine, saved["id"])
    assert await synonyms_stamp(engine) == fourth


async def test_worker_index_uses_the_stored_synonyms(engine, tmp_path):
    from knowledge.jobs import _index_for

    await save_group(engine, "摩的,出租车", "editor1")
    ctx = SimpleNamespace(settings=Settings(data_dir=tmp_path, elasticsearch_url=None), engine=engine)
    index, owned = await _index_for(ctx)
    try:
        assert owned and index.synonyms.group_of("摩的") == ("摩的", "出租车")
        assert "摩的" in index.tokenizer.words("摩的乱收费")
    finally:
        await index.close()


def test_check_interval_setting(monkeypatch):
    from knowledge.web import KnowledgeSettings

    assert KnowledgeSettings().synonyms_check_seconds == 5.0
    monkeypatch.setenv("HOTLINE_KB_SYNONYMS_CHECK_SECONDS", "2")
    assert KnowledgeSettings().synonyms_check_seconds == 2.0
