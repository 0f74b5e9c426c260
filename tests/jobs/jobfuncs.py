"""Job functions for the queue contract suite: real effects in the database (audit_log rows)."""

from __future__ import annotations

import sqlalchemy as sa

from hotline.tables import audit_log


async def _count(ctx, action: str, key: str) -> int:
    async with ctx.engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(
            audit_log.c.action == action, audit_log.c.object_id == key))).scalar_one()


async def _add(ctx, action: str, key: str) -> None:
    async with ctx.engine.begin() as conn:
        await conn.execute(sa.insert(audit_log).values(actor="job", action=action, object_type="test",
                                                       object_id=key, detail={}, at=ctx.now()))


async def mark(ctx, key: str) -> None:
    """Record ``key`` once (idempotent)."""
    if not await _count(ctx, "mark", key):
        await _add(ctx, "mark", key)


async def flaky(ctx, key: str, failures: int) -> None:
    """Fail the first ``failures`` attempts, then mark."""
    await _add(ctx, "attempt", key)
    if await _count(ctx, "attempt", key) <= failures:
        raise RuntimeError(f"flaky {key}")
    await mark(ctx, key)


async def broken(ctx, key: str) -> None:
    """Fail until a 'fixed' row exists for ``key``."""
    await _add(ctx, "attempt", key)
    if not await _count(ctx, "fixed", key):
        raise RuntimeError(f"坏了 {key}")
    await mark(ctx, key)


async def counts(ctx, key: str) -> dict[str, int]:
    return {a: await _count(ctx, a, key) for a in ("mark", "attempt")}


async def fix(ctx, key: str) -> None:
    await _add(ctx, "fixed", key)
