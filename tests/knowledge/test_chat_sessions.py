"""Chatbot dialogue sessions kept in the database (no Redis): expired ones are ignored and purged hourly."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from knowledge.dialogue import DbDialogueStore
from knowledge.tables import kb_chat_sessions


async def _keys(engine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(sa.select(kb_chat_sessions.c.user_key)
                                        .order_by(kb_chat_sessions.c.user_key))).scalars())


async def test_expired_sessions_are_ignored_then_purged(engine, clock):
    from knowledge.jobs import purge_chat_sessions_job

    store = DbDialogueStore(engine, clock, ttl=600)
    await store.save("web:web:old", {"stage": "collect", "fields": {"what": "路灯坏了"}})
    clock.advance(minutes=5)
    await store.save("wechat:wechat:live", {"stage": "feedback", "log_id": 1})
    clock.advance(minutes=6)  # the first is 11 minutes old (expired), the second 6 (live)

    assert await store.load("web:web:old") is None  # ignored before any purge
    assert await store.load("wechat:wechat:live") == {"stage": "feedback", "log_id": 1}
    assert await _keys(engine) == ["web:web:old", "wechat:wechat:live"]

    ctx = SimpleNamespace(engine=engine, service=SimpleNamespace(clock=clock))
    assert await purge_chat_sessions_job(ctx) == 1
    assert await _keys(engine) == ["wechat:wechat:live"]
    assert await purge_chat_sessions_job(ctx) == 0  # safe to run twice
    assert await store.load("wechat:wechat:live") == {"stage": "feedback", "log_id": 1}

    # a session saved again after expiring starts afresh and is kept
    await store.save("web:web:old", {"stage": "offer"})
    clock.advance(minutes=5)
    assert await store.purge_expired() == 1  # the wechat one, now 11 minutes old
    assert await _keys(engine) == ["web:web:old"]
    assert await store.load("web:web:old") == {"stage": "offer"}


def test_purge_is_a_periodic_job():
    import importlib

    from hotline.jobs.context import JobSettings, periodic_jobs

    jobs = dict(periodic_jobs(JobSettings()))
    for path in jobs:
        module, name = path.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), name)), path
    assert jobs["knowledge.jobs.purge_chat_sessions_job"] == 3600.0
    assert dict(periodic_jobs(JobSettings(chat_purge_interval=60)))["knowledge.jobs.purge_chat_sessions_job"] == 60
