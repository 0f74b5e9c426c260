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


async def find_citizen(conn: AsyncConnection, identity: Identity) -> int | None:
    owners = await _owners(conn, [identity])
    return min(owners) if owners else None


def holds_identity(ticket: dict, sender: Identity) -> bool:
    """Whether the ticket's citizen record (as a ticket view shows it) holds ``sender``."""
    citizen = ticket.get("citizen") or {}
    return any(i.get("kind") == sender.kind and i.get("value") == sender.value for i in citizen.get("identities", []))


async def tickets_written_by(conn: AsyncConnection, sender: Identity, channel: str, numbers: Sequence[str]) -> set[str]:
    """Those of ``numbers`` with an inbound message from ``sender`` itself on ``channel``: the web visitor id
    or WeChat openid (stored as the message's author ``kind:value``, these channels give no name), the
    Telegram chat (in the message id ``msg:<chat>:<id>``).

    A citizen record alone is no proof of whose a ticket is: records are joined by phone numbers typed in
    requests, which nobody verifies. A chat channel shows or changes a ticket only for the identity that
    filed it or wrote to it (the chatbot, WeChat and Telegram alike)."""
    from hotline.tables import ticket_messages

    if not numbers:
        return set()
    rows = (await conn.execute(
        sa.select(tickets.c.number, ticket_messages.c.author, ticket_messages.c.external_id)
        .select_from(ticket_messages.join(tickets, tickets.c.id == ticket_messages.c.ticket_id))
        .where(tickets.c.number.in_(list(numbers)), ticket_messages.c.direction == "in",
               ticket_messages.c.channel == channel))).all()
    author = f"{sender.kind}:{sender.value}"
    prefix = f"msg:{sender.value}:" if sender.kind == "telegram" else None
    return {r.number for r in rows
            if (prefix is None and r.author == author) or (prefix is not None and (r.external_id or "").startswith(prefix))}


async def owns_ticket(service, sender: Identity, channel: str, ticket: dict | None) -> bool:
    """The chat channels' check before they show or change a ticket: the sender's identity is on its record
    *and* the sender itself filed it or wrote to it (:func:`tickets_written_by`)."""
    if ticket is None or not holds_identity(ticket, sender):
        return False
    async with service.engine.connect() as conn:
        return ticket["number"] in await tickets_written_by(conn, sender, channel, [ticket["number"]])
