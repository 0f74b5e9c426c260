"""Where the chatbot keeps each citizen's dialogue between messages (one small JSON state per user).

:class:`RedisDialogueStore` when Redis is configured (with a per-user lock across processes), else
:class:`DbDialogueStore` (a row per user in ``kb_chat_sessions``). States expire after
:data:`STATE_TTL`; the hourly job deletes expired rows (:func:`purge_expired_sessions`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import insert_ignore
from knowledge.tables import kb_chat_sessions

log = logging.getLogger(__name__)

STATE_TTL = 30 * 60
LOCK_TIMEOUT = 30  # seconds a Redis dialogue lock lives if its holder dies
LOCK_WAIT = 10  # seconds a message waits for the user's previous one before the bot answers "busy"


class DialogueStore(Protocol):
    async def load(self, user_key: str) -> dict | None: ...
    async def save(self, user_key: str, state: dict) -> None: ...
    async def clear(self, user_key: str) -> None: ...


class DialogueBusy(Exception):
    """The user's previous message is still being handled (another process holds the lock)."""


class RedisDialogueStore:
    def __init__(self, redis, prefix: str = "hotline:chat:", ttl: int = STATE_TTL) -> None:
        self.redis, self.prefix, self.ttl = redis, prefix, ttl

    @contextlib.asynccontextmanager
    async def lock(self, user_key: str):
        """One dialogue step at a time per user across processes; raises :class:`DialogueBusy` after LOCK_WAIT."""
        from redis.exceptions import LockError

        lock = self.redis.lock(f"{self.prefix}lock:{user_key}", timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT)
        if not await lock.acquire():
            raise DialogueBusy(user_key)
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:  # held longer than LOCK_TIMEOUT: it expired and may be someone else's now
                log.warning("chatbot dialogue lock for %s expired before release", user_key)

    async def load(self, user_key: str) -> dict | None:
        raw = await self.redis.get(self.prefix + user_key)
        return json.loads(raw) if raw else None

    async def save(self, user_key: str, state: dict) -> None:
        await self.redis.set(self.prefix + user_key, json.dumps(state, ensure_ascii=False), ex=self.ttl)

    async def clear(self, user_key: str) -> None:
        await self.redis.delete(self.prefix + user_key)


class DbDialogueStore:
    def __init__(self, engine: AsyncEngine, clock, ttl: int = STATE_TTL) -> None:
        self.engine, self.clock, self.ttl = engine, clock, ttl

    async def load(self, user_key: str) -> dict | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(kb_chat_sessions).where(
                kb_chat_sessions.c.user_key == user_key))).first()
        if row is None or row.expires_at <= self.clock.now():
            return None
        return row.state

    async def save(self, user_key: str, state: dict) -> None:
        expires = self.clock.now() + dt.timedelta(seconds=self.ttl)
        async with self.engine.begin() as conn:
            stmt = insert_ignore(conn, kb_chat_sessions).values(user_key=user_key, state=state, expires_at=expires)
            await conn.execute(stmt.on_conflict_do_update(
                index_elements=[kb_chat_sessions.c.user_key],
                set_={"state": stmt.excluded.state, "expires_at": stmt.excluded.expires_at}))

    async def clear(self, user_key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(kb_chat_sessions.delete().where(kb_chat_sessions.c.user_key == user_key))

    async def purge_expired(self) -> int:
        """Delete the sessions past their expiry (``load`` already ignores them); returns how many."""
        return await purge_expired_sessions(self.engine, self.clock.now())


async def purge_expired_sessions(engine: AsyncEngine, now: dt.datetime) -> int:
    """Delete dialogue sessions whose ``expires_at`` has passed (the hourly job; idempotent)."""
    async with engine.begin() as conn:
        done = await conn.execute(kb_chat_sessions.delete().where(kb_chat_sessions.c.expires_at <= now))
    return done.rowcount or 0
