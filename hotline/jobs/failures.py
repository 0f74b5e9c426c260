"""Failed jobs (either backend): recorded once they exhaust their retries; admins list, retry, discard."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import utcnow
from hotline.jobs.tables import job_failures


class FailureNotFound(LookupError):
    pass


async def record_failure(engine: AsyncEngine, *, job_id: str, func: str, args: list, backend: str,
                         attempts: int, error: str) -> int:
    async with engine.begin() as conn:
        return (await conn.execute(sa.insert(job_failures).values(
            job_id=job_id, func=func, args=list(args), backend=backend, attempts=attempts,
            error=error[-8000:], state="failed", failed_at=utcnow(),
        ).returning(job_failures.c.id))).scalar_one()


def _row(row) -> dict:
    data = dict(row._mapping)
    for key in ("failed_at", "resolved_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


async def list_failures(engine: AsyncEngine, *, state: str | None = "failed", limit: int = 100) -> list[dict]:
    query = sa.select(job_failures).order_by(job_failures.c.id.desc()).limit(limit)
    if state:
        query = query.where(job_failures.c.state == state)
    async with engine.connect() as conn:
        return [_row(r) for r in await conn.execute(query)]


async def _resolve(engine: AsyncEngine, failure_id: int, state: str, actor: str) -> dict:
    async with engine.begin() as conn:
        row = (await conn.execute(sa.select(job_failures).where(job_failures.c.id == failure_id))).first()
        if row is None:
            raise FailureNotFound(f"失败任务 {failure_id} 不存在")
        if row.state != "failed":
            raise FailureNotFound(f"失败任务 {failure_id} 已处理（{row.state}）")
        done = await conn.execute(sa.update(job_failures).where(
            job_failures.c.id == failure_id, job_failures.c.state == "failed",
        ).values(state=state, resolved_at=utcnow(), resolved_by=actor))
        if done.rowcount != 1:
            raise FailureNotFound(f"失败任务 {failure_id} 已被他人处理")
    return _row(row)


async def retry_failure(engine: AsyncEngine, queue, failure_id: int, actor: str) -> str:
    """Queue the failed job again (a new attempt with fresh retries); returns the new job id."""
    row = await _resolve(engine, failure_id, "retried", actor)
    try:
        return await queue.enqueue(row["func"], *row["args"])
    except Exception:
        async with engine.begin() as conn:  # could not queue it: leave it listed as failed
            await conn.execute(sa.update(job_failures).where(job_failures.c.id == failure_id)
                               .values(state="failed", resolved_at=None, resolved_by=None))
        raise


async def discard_failure(engine: AsyncEngine, failure_id: int, actor: str) -> None:
    await _resolve(engine, failure_id, "discarded", actor)
