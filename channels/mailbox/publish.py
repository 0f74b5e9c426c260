"""Publication of letters the writer allowed to publish: redacted on closing, reviewed by an agent.

A ticket listener (run inside the transaction that closes the ticket) drafts
the publication with personal data removed automatically; it is shown to the
public only after an agent approved it (optionally editing the text, which is
redacted again as a safety net).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from channels.mailbox.redact import redact
from channels.tables_mail import mail_letters, mail_publications
from hotline.tables import citizens, ticket_messages, ticket_units, tickets, units

PUBLISH_STATES = ("closed", "answered")


async def _names(conn: AsyncConnection, ticket_id: int, citizen_id: int | None) -> list[str]:
    names = []
    if citizen_id:
        name = (await conn.execute(sa.select(citizens.c.name).where(citizens.c.id == citizen_id))).scalar()
        if name:
            names.append(name)
    rows = await conn.execute(sa.select(ticket_messages.c.author).where(
        ticket_messages.c.ticket_id == ticket_id, ticket_messages.c.direction == "in",
        ticket_messages.c.channel == "mailbox"))
    names += [r.author for r in rows if r.author and ":" not in r.author]
    return names


async def on_ticket_event(conn: AsyncConnection, event) -> None:
    """Ticket listener: draft the publication when a publishable letter's ticket is closed."""
    if event.to_state not in PUBLISH_STATES:
        return
    ticket = (await conn.execute(sa.select(tickets).where(tickets.c.id == event.ticket_id))).first()
    if ticket is None or not ticket.publishable:
        return
    letter = (await conn.execute(sa.select(mail_letters.c.id).where(
        mail_letters.c.ticket_id == ticket.id, mail_letters.c.publishable.is_(True)))).first()
    if letter is None:
        return
    reply = (await conn.execute(sa.select(ticket_messages.c.text).where(
        ticket_messages.c.ticket_id == ticket.id, ticket_messages.c.direction == "out")
        .order_by(ticket_messages.c.id.desc()).limit(1))).scalar()
    if not reply:
        return
    unit_name = (await conn.execute(
        sa.select(units.c.name).select_from(ticket_units.join(units, units.c.id == ticket_units.c.unit_id))
        .where(ticket_units.c.ticket_id == ticket.id, ticket_units.c.role == "lead",
               ticket_units.c.active.is_(True)))).scalar()
    names = await _names(conn, ticket.id, ticket.citizen_id)
    values = {"title": redact(ticket.title or ticket.text[:30], names)[:200],
              "question": redact(ticket.text, names), "reply": redact(reply, names), "unit_name": unit_name}
    existing = (await conn.execute(sa.select(mail_publications.c.id, mail_publications.c.state).where(
        mail_publications.c.ticket_id == ticket.id))).first()
    if existing is None:
        await conn.execute(sa.insert(mail_publications).values(
            ticket_id=ticket.id, number=ticket.number, state="pending", created_at=event.at, **values))
    elif existing.state == "pending":
        await conn.execute(sa.update(mail_publications).where(mail_publications.c.id == existing.id).values(**values))


def _row(r) -> dict:
    d = dict(r._mapping)
    for key in ("created_at", "reviewed_at"):
        if isinstance(d.get(key), dt.datetime):
            d[key] = d[key].isoformat()
    return d


async def list_publications(engine: AsyncEngine, state: str | None = None, limit: int = 100) -> list[dict]:
    query = sa.select(mail_publications).order_by(mail_publications.c.id.desc()).limit(limit)
    if state:
        query = query.where(mail_publications.c.state == state)
    async with engine.connect() as conn:
        return [_row(r) for r in await conn.execute(query)]


async def get_publication(engine: AsyncEngine, pub_id: int, *, published_only: bool = False) -> dict | None:
    query = sa.select(mail_publications).where(mail_publications.c.id == pub_id)
    if published_only:
        query = query.where(mail_publications.c.state == "published")
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return _row(row) if row else None


class ReviewConflict(Exception):
    pass


async def review(engine: AsyncEngine, pub_id: int, decision: str, reviewer: str, now: dt.datetime, *,
                 edits: dict | None = None, note: str | None = None) -> dict | None:
    """Approve ("published") or reject ("rejected") a pending publication; None when it does not exist."""
    values = {"state": decision, "reviewer": reviewer, "reviewed_at": now, "review_note": note}
    async with engine.begin() as conn:
        row = (await conn.execute(sa.select(mail_publications.c.state, tickets.c.id, tickets.c.citizen_id)
                                  .join(tickets, tickets.c.id == mail_publications.c.ticket_id)
                                  .where(mail_publications.c.id == pub_id))).first()
        if row is None:
            return None
        state = row.state
        # Edits are redacted like the draft, with the writer's known names: a name pasted back is removed.
        names = await _names(conn, row.id, row.citizen_id)
        for key, value in (edits or {}).items():
            if value is not None:
                values[key] = redact(value, names)
        result = await conn.execute(sa.update(mail_publications).where(
            mail_publications.c.id == pub_id, mail_publications.c.state == "pending").values(**values))
        if result.rowcount != 1:
            raise ReviewConflict(f"该公开信件已审核（{state}）")
    return await get_publication(engine, pub_id)
