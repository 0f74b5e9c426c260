"""Seen-once for WeChat deliveries across processes: Redis when configured, else the database.

``claim(key)`` is true for exactly one caller per key. The winner later
``remember``s the reply it gave so that a retry arriving after the answer can
repeat it; a retry arriving while the first delivery is still being handled
gets ``None`` (and answers "success": the first delivery will reply).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from channels.tables import wechat_deliveries
from hotline.db import insert_ignore

PENDING = "\x00pending"


class RedisDedupe:
    def __init__(self, redis, ttl_seconds: int) -> None:
        self.redis, self.ttl = redis, ttl_seconds

    async def claim(self, key: str, now: dt.datetime) -> bool:
        return bool(await self.redis.set(f"hotline:wechat:seen:{key}", PENDING, nx=True, ex=self.ttl))

    async def remember(self, key: str, reply: str) -> None:
        await self.redis.set(f"hotline:wechat:seen:{key}", reply, ex=self.ttl)

    async def reply_for(self, key: str) -> str | None:
        value = await self.redis.get(f"hotline:wechat:seen:{key}")
        value = value.decode() if isinstance(value, bytes) else value
        return None if value in (None, PENDING) else value

    async def forget(self, key: str) -> None:
        await self.redis.delete(f"hotline:wechat:seen:{key}")


class DatabaseDedupe:
    def __init__(self, engine) -> None:
        self.engine = engine

    async def claim(self, key: str, now: dt.datetime) -> bool:
        async with self.engine.begin() as conn:
            stmt = insert_ignore(conn, wechat_deliveries).values(dedupe_key=key, created_at=now) \
                .on_conflict_do_nothing().returning(wechat_deliveries.c.id)
            return (await conn.execute(stmt)).scalar() is not None

    async def remember(self, key: str, reply: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.update(wechat_deliveries).where(wechat_deliveries.c.dedupe_key == key)
                               .values(reply=reply))

    async def reply_for(self, key: str) -> str | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(sa.select(wechat_deliveries.c.reply)
                                       .where(wechat_deliveries.c.dedupe_key == key))).scalar()

    async def forget(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(wechat_deliveries).where(wechat_deliveries.c.dedupe_key == key))

    async def prune(self, before: dt.datetime) -> int:
        """Drop keys older than ``before`` (WeChat retries within seconds); for a periodic job."""
        async with self.engine.begin() as conn:
            result = await conn.execute(sa.delete(wechat_deliveries).where(wechat_deliveries.c.created_at < before))
        return result.rowcount
