"""Citizens known by several identities (phone, WeChat openid, email, Telegram id).

When one message names identities that belong to different citizen records,
the records are merged into the oldest one: its identities and tickets move
over and the others point to it with ``merged_into_id``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db import insert_ignore
from hotline.messages import Identity
from hotline.tables import citizen_identities, citizens, tickets


async def resolve_citizen(conn: AsyncConnection, identities: Sequence[Identity], now: dt.datetime,
                          name: str | None = None) -> int:
    """The citizen id for these identities, creating or merging records as needed."""
    if not identities:
        raise ValueError("a citizen needs at least one identity")
    found = await _owners(conn, identities)
    if found:
        primary = min(found)
    else:
        primary = (await conn.execute(
            sa.insert(citizens).values(name=name, created_at=now).returning(citizens.c.id)
        )).scalar_one()
    for ident in identities:
        await conn.execute(
            insert_ignore(conn, citizen_identities)
            .values(citizen_id=primary, kind=ident.kind, value=ident.value, created_at=now)
            .on_conflict_do_nothing()
        )
    # A concurrent writer may have claimed an identity first: merge with it.
    owners = await _owners(conn, identities)
    target = min(owners | {primary})
    for other in sorted((owners | {primary}) - {target}):
        await _merge(conn, other, target)
    if name:
        await conn.execute(
            sa.update(citizens).where(citizens.c.id == target, citizens.c.name.is_(None)).values(name=name)
        )
    return target


async def _owners(conn: AsyncConnection, identities: Sequence[Identity]) -> set[int]:
    clauses = [sa.and_(citizen_identities.c.kind == i.kind, citizen_identities.c.value == i.value)
               for i in identities]
    rows = await conn.execute(sa.select(citizen_identities.c.citizen_id).where(sa.or_(*clauses)))
    return {await _root(conn, cid) for (cid,) in rows}


async def _root(conn: AsyncConnection, citizen_id: int) -> int:
    for _ in range(20):
        merged = (await conn.execute(
            sa.select(citizens.c.merged_into_id).where(citizens.c.id == citizen_id)
        )).scalar()
        if merged is None:
            return citizen_id
        citizen_id = merged
    return citizen_id


async def _merge(conn: AsyncConnection, source: int, target: int) -> None:
    await conn.execute(sa.update(citizen_identities).where(citizen_identities.c.citizen_id == source)
                       .values(citizen_id=target))
    await conn.execute(sa.update(tickets).where(tickets.c.citizen_id == source).values(citizen_id=target))
    await conn.execute(sa.update(citizens).where(citizens.c.id == source).values(merged_into_id=target))


async def citizen_identities_of(conn: AsyncConnection, citizen_id: int) -> list[dict]:
    rows = await conn.execute(
        sa.select(citizen_identities.c.kind, citizen_identities.c.value)
        .where(citizen_identities.c.citizen_id == citizen_id).order_by(citizen_identities.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def find_citizen(conn: AsyncConnection, identity: Identity) -> int | None:
    owners = await _owners(conn, [identity])
    return min(owners) if owners else None
