"""The expiry sweep against editors: a change saved between the sweep's read and its write wins.

The sweep reads its candidates (``expiry_candidates``) and then expires them (``expire``); each test
changes the article in between, deterministically, by calling the two steps itself or by wrapping the
read step of the daily job.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from knowledge.articles import ArticleService
from knowledge.errors import Conflict
from tests.knowledge.helpers import EDITOR


@pytest.fixture
async def service(engine, clock):
    return ArticleService(engine, clock)


async def _published_past_validity(service, clock, title="冬季燃气安全") -> dict:
    art = await service.create(EDITOR, {"title": title, "body": "冬季注意通风。",
                                        "valid_to": (clock.now() + dt.timedelta(days=1)).isoformat()})
    await service.transition(EDITOR, art["id"], "publish")
    return art


async def _extend(service, clock, article_id, days=90, body="冬季注意通风。") -> dict:
    return await service.update(EDITOR, article_id, {"title": "冬季燃气安全", "body": body,
                                                     "valid_to": (clock.now() + dt.timedelta(days=days)).isoformat()})


async def _actions(service, article_id) -> list[str]:
    return [v["action"] for v in await service.versions(article_id)]


async def test_an_extension_saved_between_read_and_write_wins(service, clock):
    art = await _published_past_validity(service, clock)
    clock.advance(days=2)
    candidates = await service.expiry_candidates()
    assert candidates == [(art["id"], 1)]
    extended = await _extend(service, clock, art["id"])  # the editor, meanwhile
    assert extended["status"] == "published" and extended["version"] == 2

    assert await service.expire(candidates) == []
    after = await service.get(art["id"])
    assert after["status"] == "published" and after["version"] == 2 and after["valid_to"] == extended["valid_to"]
    assert "expire" not in await _actions(service, art["id"])
    assert await service.expire_due() == []  # and the next sweep leaves it alone too


async def test_an_article_archived_between_read_and_write_stays_archived(service, clock):
    art = await _published_past_validity(service, clock)
    clock.advance(days=2)
    candidates = await service.expiry_candidates()
    await service.transition(EDITOR, art["id"], "archive")
    assert await service.expire(candidates) == []
    assert (await service.get(art["id"]))["status"] == "archived"
    assert await _actions(service, art["id"]) == ["create", "publish", "archive"]


async def test_an_edit_keeping_a_published_article_past_validity_is_refused_and_the_sweep_expires_it(service, clock):
    art = await _published_past_validity(service, clock)
    clock.advance(days=2)
    candidates = await service.expiry_candidates()
    with pytest.raises(Conflict, match="失效日期已过"):  # a typo fix with the date still past: refused, as publish
        await _extend(service, clock, art["id"], days=-1, body="冬季注意开窗通风。")
    assert await service.expire(candidates) == [art["id"]]
    after = await service.get(art["id"])
    assert after["status"] == "expired" and after["version"] == 1
    edited = await _extend(service, clock, art["id"], days=-1, body="冬季注意开窗通风。")  # expired: may be fixed
    assert (edited["status"], edited["version"]) == ("expired", 2)


async def test_two_sweeps_that_read_the_same_candidates_expire_once(service, clock):
    a = await _published_past_validity(service, clock)
    b = await _published_past_validity(service, clock, "春节燃气安全")
    clock.advance(days=2)
    first, second = await service.expiry_candidates(), await service.expiry_candidates()
    assert first == second == [(a["id"], 1), (b["id"], 1)]
    assert await service.expire(first) == [a["id"], b["id"]]
    assert await service.expire(second) == []
    assert await service.expire_due() == []
    for art in (a, b):
        assert (await service.get(art["id"]))["status"] == "expired"
        assert (await _actions(service, art["id"])).count("expire") == 1


async def test_review_sweep_job_keeps_an_extension_saved_while_it_ran(engine, clock, tmp_path, monkeypatch):
    from hotline.config import Settings
    from knowledge.jobs import review_sweep_job

    service = ArticleService(engine, clock)
    kept = await _published_past_validity(service, clock)
    due = await _published_past_validity(service, clock, "春节燃气安全")
    clock.advance(days=2)
    read = ArticleService.expiry_candidates

    async def read_then_the_editor_extends(self, now=None):
        candidates = await read(self, now)
        await _extend(service, clock, kept["id"])
        return candidates

    monkeypatch.setattr(ArticleService, "expiry_candidates", read_then_the_editor_extends)
    ctx = SimpleNamespace(settings=Settings(data_dir=tmp_path, elasticsearch_url=None), engine=engine,
                          service=SimpleNamespace(clock=clock))
    assert (await review_sweep_job(ctx))["expired"] == [due["id"]]
    assert (await service.get(kept["id"]))["status"] == "published"
    assert (await service.get(due["id"]))["status"] == "expired"
    monkeypatch.undo()
    assert (await review_sweep_job(ctx))["expired"] == []  # safe to run again


# Only PostgreSQL lets another writer commit between the sweep's read and write (SQLite serializes writers
# and pools one connection here), so this test runs on PostgreSQL alone.
@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
async def test_expire_due_on_postgres_keeps_an_extension_committed_between_its_read_and_write(service, engine,
                                                                                             clock):
    """The real race, through ``expire_due`` itself: the editor's transaction commits right after the sweep's
    SELECT ran (an engine hook), before its UPDATE."""
    assert engine.dialect.name == "postgresql"
    from sqlalchemy import event, util

    await_ = getattr(util, "await_", None) or util.await_only
    art = await _published_past_validity(service, clock)
    clock.advance(days=2)
    fired = []

    def editor_commits_after_the_read(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.lstrip().upper().startswith("SELECT") and "valid_to <=" in statement:
            fired.append(statement)
            await_(_extend(service, clock, art["id"]))

    event.listen(engine.sync_engine, "after_cursor_execute", editor_commits_after_the_read)
    try:
        assert await service.expire_due() == []
    finally:
        event.remove(engine.sync_engine, "after_cursor_execute", editor_commits_after_the_read)
    assert fired
    after = await service.get(art["id"])
    assert after["status"] == "published" and after["version"] == 2
    assert "expire" not in await _actions(service, art["id"])
