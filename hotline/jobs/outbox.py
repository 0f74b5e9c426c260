"""The outbox relay: hands undelivered outbox rows to the queue as ``deliver_event`` jobs.

A row is *claimed* (``outbox_claims``) before it is queued, so several relays
never queue the same row at once; if the queue is unreachable the claim is
released and the row waits for the next pass. ``delivered_at`` is set by the
job itself once the event's effects are recorded, so a row queued into a
Redis that then lost it is handed out again after the lease.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import insert_ignore, utcnow
from hotline.jobs.tables import job_failures, outbox_claims
from hotline.tables import outbox

log = logging.getLogger(__name__)

DELIVER = "hotline.jobs.tasks.deliver_event"


async def _claim(engine: AsyncEngine, outbox_id: int, now: dt.datetime, lease: float) -> bool:
    async with engine.begin() as conn:
        fresh = await conn.execute(insert_ignore(engine, outbox_claims)
                                   .values(outbox_id=outbox_id, claimed_at=now, sends=1)
                                   .on_conflict_do_nothing())
        if fresh.rowcount == 1:
            return True
        stale = await conn.execute(sa.update(outbox_claims).where(
            outbox_claims.c.outbox_id == outbox_id,
            outbox_claims.c.claimed_at < now - dt.timedelta(seconds=lease),
        ).values(claimed_at=now, sends=outbox_claims.c.sends + 1))
        return stale.rowcount == 1


async def _release(engine: AsyncEngine, outbox_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.delete(outbox_claims).where(outbox_claims.c.outbox_id == outbox_id))


async def relay_once(engine: AsyncEngine, queue, *, lease: float = 300.0, batch: int = 200) -> int:
    """One pass: queue every undelivered, unclaimed (or lease-expired) row; returns how many were queued.

    Raises the queue's error (e.g. Redis down) after releasing the row it could not queue.
    """
    now = utcnow()
    # A delivery that failed all its retries waits for an admin (``hotline jobs retry``), not for the lease.
    gave_up = sa.exists().where(job_failures.c.job_id == sa.literal("outbox-").concat(sa.cast(outbox.c.id, sa.String)),
                                job_failures.c.state == "failed")
    query = (sa.select(outbox.c.id)
             .select_from(outbox.outerjoin(outbox_claims, outbox_claims.c.outbox_id == outbox.c.id))
             .where(outbox.c.delivered_at.is_(None),
                    sa.or_(outbox_claims.c.outbox_id.is_(None),
                           sa.and_(outbox_claims.c.claimed_at < now - dt.timedelta(seconds=lease), ~gave_up)))
             .order_by(outbox.c.id).limit(batch))
    async with engine.connect() as conn:
        ids = list((await conn.execute(query)).scalars())
    queued = 0
    for outbox_id in ids:
        if not await _claim(engine, outbox_id, now, lease):
            continue  # another relay has it
        try:
            await queue.enqueue(DELIVER, outbox_id, job_id=f"outbox-{outbox_id}")
        except Exception:
            await _release(engine, outbox_id)
            raise
        async with engine.begin() as conn:
            await conn.execute(sa.update(outbox).where(outbox.c.id == outbox_id)
                               .values(attempts=outbox.c.attempts + 1))
        queued += 1
    return queued


async def undelivered_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                   .where(outbox.c.delivered_at.is_(None)))).scalar_one()


async def pause(stop: asyncio.Event | None, seconds: float) -> None:
    """Sleep ``seconds``, waking early when ``stop`` is set."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


async def relay_forever(engine: AsyncEngine, queue, *, interval: float = 1.0, lease: float = 300.0,
                        stop: asyncio.Event | None = None) -> None:
    """Relay until ``stop`` is set (or cancelled); a queue outage is logged and retried on the next pass."""
    down = False
    while stop is None or not stop.is_set():
        try:
            await relay_once(engine, queue, lease=lease)
            if down:
                log.warning("job queue reachable again; outbox delivery resumed")
                down = False
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not down:
                log.error("job queue unreachable, outbox rows wait: %s", exc)
            down = True
        await pause(stop, interval)
