"""Intake: one normalised inbound message -> exactly one stored message and at most one ticket.

Idempotent on ``(channel, external_id)``: the unique constraint on
``ticket_messages`` decides, so redeliveries, concurrent deliveries and
retries after a crash all land on the same stored message and ticket. The
message and the ticket it creates or joins are written in one transaction.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.actions import InvalidParams
from hotline.citizens import find_citizen, resolve_citizen
from hotline.db import insert_ignore, lock_for_transaction
from hotline.identity import InvalidIdentity, normalize_identity
from hotline.lifecycle import OPEN_STATES
from hotline.messages import InboundMessage
from hotline.service import NewTicket, TicketService
from hotline.tables import attachments, outbox, ticket_messages, tickets

TICKET_NUMBER = re.compile(r"(?<!\d)(20\d{2}[01]\d[0-3]\d\d{5})(?!\d)")
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class IntakeResult:
    ticket_id: int | None
    ticket_number: str | None
    created: bool
    duplicate: bool
    threaded: bool
    message_id: int


async def ingest(service: TicketService, message: InboundMessage, *, create_ticket: bool = True) -> IntakeResult:
    """Store ``message`` once; thread it into the citizen's open ticket or create one."""
    existing = await _existing(service, message)
    if existing is not None:
        return existing
    try:
        identities = [normalize_identity(i.kind, i.value) for i in (message.sender, *message.other_identities)]
        contact = normalize_identity("phone", message.contact_phone).value if message.contact_phone else None
    except InvalidIdentity as exc:
        raise InvalidParams(str(exc)) from None
    text = _full_text(message)
    if len(text) > service.settings.max_text_chars:
        raise InvalidParams(f"诉求内容超过 {service.settings.max_text_chars} 字")
    new = NewTicket(channel=message.channel, text=text or "（无文字内容）", request_type=message.request_type,
                    identities=identities, citizen_name=message.sender_name, intake_line=message.intake_line,
                    title=message.subject, place=message.address, contact_phone=contact)
    # The routing suggestion is CPU work: do it before taking the write lock.
    suggestion = None
    if create_ticket:
        suggestion = await service.suggest(new)
    async with service.transaction() as conn:
        # One sender's messages are threaded one at a time: two quick messages of one conversation must not
        # each miss the other's (uncommitted) new ticket and open two.
        await lock_for_transaction(conn, f"intake:{message.channel}:{message.sender.kind}:{message.sender.value}")
        message_id = await _store_message(conn, service, message, text)
        if message_id is None:  # lost a race with a concurrent delivery of the same message
            return await _existing_in(conn, message)
        await _store_attachments(conn, service, message, message_id)
        ticket_id = await _thread(conn, message, identities)
        if ticket_id is not None:
            await resolve_citizen(conn, identities, service.now(), message.sender_name)
            await _attach(conn, service, message_id, ticket_id)
            if contact:  # a contact given in a follow-up: kept where the ticket had none
                await conn.execute(sa.update(tickets).where(tickets.c.id == ticket_id,
                                                            tickets.c.contact_phone.is_(None))
                                   .values(contact_phone=contact))
            number = (await conn.execute(sa.select(tickets.c.number).where(tickets.c.id == ticket_id))).scalar()
            return IntakeResult(ticket_id, number, created=False, duplicate=False, threaded=True,
                                message_id=message_id)
        if not create_ticket:
            return IntakeResult(None, None, created=False, duplicate=False, threaded=False, message_id=message_id)
        created = await service.create_on(conn, new, _citizen_actor(message), suggestion, {"id": message_id})
        await conn.execute(sa.update(attachments).where(attachments.c.message_id == message_id)
                           .values(ticket_id=created["id"]))
        return IntakeResult(created["id"], created["number"], created=True, duplicate=False, threaded=False,
                            message_id=message_id)


def _citizen_actor(message: InboundMessage):
    from hotline.users import Actor

    return Actor(username=f"citizen:{message.channel}", role="citizen")


def _full_text(message: InboundMessage) -> str:
    parts = [message.text.strip()]
    if message.location and message.location.label:
        parts.append(f"位置：{message.location.label}")
    return "\n".join(p for p in parts if p)


async def _existing(service: TicketService, message: InboundMessage) -> IntakeResult | None:
    async with service.engine.connect() as conn:
        return await _existing_in(conn, message, missing_ok=True)


async def _existing_in(conn: AsyncConnection, message: InboundMessage, missing_ok: bool = False):
    row = (await conn.execute(
        sa.select(ticket_messages.c.id, ticket_messages.c.ticket_id, tickets.c.number)
        .select_from(ticket_messages.outerjoin(tickets, tickets.c.id == ticket_messages.c.ticket_id))
        .where(ticket_messages.c.channel == message.channel,
               ticket_messages.c.external_id == message.external_id))).first()
    if row is None:
        if missing_ok:
            return None
        raise RuntimeError("message vanished after a unique-key conflict")
    return IntakeResult(row.ticket_id, row.number, created=False, duplicate=True, threaded=False, message_id=row.id)


async def _store_message(conn: AsyncConnection, service: TicketService, message: InboundMessage,
                         text: str) -> int | None:
    meta = dict(message.meta)
    if message.thread_hint:
        meta["thread"] = message.thread_hint
    if message.location:
        meta["location"] = message.location.model_dump()
    if message.subject:
        meta["subject"] = message.subject
    if message.address:
        meta["address"] = message.address
    stmt = insert_ignore(conn, ticket_messages).values(
        direction="in", channel=message.channel, external_id=message.external_id,
        author=message.sender_name or f"{message.sender.kind}:{message.sender.value}", text=text or "",
        attachments=[{"filename": a.filename, "content_type": a.content_type, "url": a.url}
                     for a in message.attachments],
        meta=meta, created_at=message.received_at,
    ).on_conflict_do_nothing().returning(ticket_messages.c.id)
    return (await conn.execute(stmt)).scalar()


async def _store_attachments(conn: AsyncConnection, service: TicketService, message: InboundMessage,
                             message_id: int) -> None:
    root = Path(service.settings.data_dir) / "attachments"
    for att in message.attachments:
        if att.data is None:
            continue
        if len(att.data) > MAX_ATTACHMENT_BYTES:
            raise InvalidParams(f"附件 {att.filename} 超过 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB")
        digest = hashlib.sha256(att.data).hexdigest()
        path = root / digest[:2] / digest
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # A temporary name of its own: two processes storing the same file must not share one.
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=digest[:8], suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(att.data)
            os.replace(tmp, path)
        await conn.execute(sa.insert(attachments).values(
            message_id=message_id, filename=att.filename, content_type=att.content_type, size=len(att.data),
            sha256=digest, path=str(path), created_at=message.received_at))


async def _thread(conn: AsyncConnection, message: InboundMessage, identities) -> int | None:
    """The open ticket this message follows up on, if it clearly refers to one of the citizen's."""
    citizen_id = None
    for ident in identities:
        citizen_id = await find_citizen(conn, ident)
        if citizen_id:
            break
    open_states = sorted(OPEN_STATES)
    # 1. An e-mail style reply to one of our outbound messages.
    if message.reply_to:
        row = (await conn.execute(
            sa.select(tickets.c.id).select_from(ticket_messages.join(tickets, tickets.c.id == ticket_messages.c.ticket_id))
            .where(ticket_messages.c.external_id.in_(list(message.reply_to)),
                   tickets.c.state.in_(open_states)).order_by(tickets.c.id.desc()))).first()
        if row:
            return row.id
    if citizen_id is None:
        return None
    # 2. A ticket number in the hint, subject or text, if the ticket is this citizen's and open.
    numbers = TICKET_NUMBER.findall(" ".join(filter(None, [message.thread_hint, message.subject, message.text])))
    if numbers:
        row = (await conn.execute(sa.select(tickets.c.id).where(
            tickets.c.number.in_(numbers), tickets.c.citizen_id == citizen_id,
            tickets.c.state.in_(open_states)))).first()
        if row:
            return row.id
    # 3. The same conversation of the channel.
    if message.thread_hint:
        rows = await conn.execute(
            sa.select(tickets.c.id, ticket_messages.c.meta)
            .select_from(ticket_messages.join(tickets, tickets.c.id == ticket_messages.c.ticket_id))
            .where(ticket_messages.c.channel == message.channel, tickets.c.citizen_id == citizen_id,
                   tickets.c.state.in_(open_states)).order_by(ticket_messages.c.id.desc()).limit(50))
        for row in rows:
            if (row.meta or {}).get("thread") == message.thread_hint:
                return row.id
    return None


async def _attach(conn: AsyncConnection, service: TicketService, message_id: int, ticket_id: int) -> None:
    now = service.now()
    await conn.execute(sa.update(ticket_messages).where(ticket_messages.c.id == message_id)
                       .values(ticket_id=ticket_id))
    await conn.execute(sa.update(attachments).where(attachments.c.message_id == message_id)
                       .values(ticket_id=ticket_id))
    await conn.execute(sa.update(tickets).where(tickets.c.id == ticket_id).values(updated_at=now))
    await conn.execute(sa.insert(outbox).values(topic="ticket.message", created_at=now, attempts=0,
                                                payload={"ticket_id": ticket_id, "message_id": message_id}))
