"""Seen-once for WeChat deliveries across processes: Redis when configured, else the database.

``claim(key)`` is true for one caller per key at a time. The winner later
``remember``s the reply it gave so that a retry arriving after the answer can
repeat it; a retry arriving while the first delivery is still being handled
gets ``None`` (and answers "success": the first delivery will reply).

A claim is a lease of ``lease`` seconds, not for ever: if the process handling a
delivery dies before remembering a reply, WeChat's next retry (it retries three
times, about five seconds apart) takes the key again and the message is handled
then. Handling twice is harmless: intake is idempotent on the MsgId and the
chatbot repeats its reply for a message it has seen. Old keys are purged by
:func:`channels.jobs.prune_job`.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from channels.tables import wechat_deliveries
from hotline.db import insert_ignore

CLAIM_LEASE_SECONDS = 8.0  # longer than a normal answer takes, shorter than WeChat's retries keep coming


class RedisDedupe:
    def __init__(self, redis, ttl_seconds: int, lease: float = CLAIM_LEASE_SECONDS) -> None:
        self.redis, self.ttl, self.lease = redis, ttl_seconds, lease

    async def claim(self, key: str, now: dt.datetime) -> bool:
        if await self.reply_for(key) is not None:
            return False  # answered already
        return bool(await self.redis.set(f"hotline:wechat:claim:{key}", "1", nx=True, px=int(self.lease * 1000)))

    async def remember(self, key: str, reply: str) -> None:
        await self.redis.set(f"hotline:wechat:seen:{key}", reply, ex=self.ttl)

    async def reply_for(self, key: str) -> str | None:
        value = await self.redis.get(f"hotline:wechat:seen:{key}")
        return value.decode() if isinstance(value, bytes) else value

    async def forget(self, key: str) -> None:
        await self.redis.delete(f"hotline:wechat:claim:{key}", f"hotline:wechat:seen:{key}")


class DatabaseDedupe:
    def __init__(self, engine, lease: float = CLAIM_LEASE_SECONDS) -> None:
        self.engine, self.lease = engine, lease

    async def claim(self, key: str, now: dt.datetime) -> bool:
        async with self.engine.begin() as conn:
            stmt = insert_ignore(conn, wechat_deliveries).values(dedupe_key=key, created_at=now) \
                .on_conflict_do_nothing().returning(wechat_deliveries.c.id)
            if (await conn.execute(stmt)).scalar() is not None:
                return True
            # Not answered, and its lease ran out: whoever claimed it died. Take it over.
            retaken = await conn.execute(sa.update(wechat_deliveries).where(
                wechat_deliveries.c.dedupe_key == key, wechat_deliveries.c.reply.is_(None),
                wechat_deliveries.c.created_at < now - dt.timedelta(seconds=self.lease),
            ).values(created_at=now))
            return retaken.rowcount == 1

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
