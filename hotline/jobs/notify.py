"""Notifications: pick the channel, respect quiet hours, record once per key, send through the adapters.

Citizens hear on the channel they used (WeChat within its window, else SMS);
no citizen notice goes out at night: it waits until ``quiet_end`` (local time
of the working calendar). Unit contacts are reached over their unit's
``notify_channels``.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db import insert_ignore
from hotline.jobs.tables import notifications
from hotline.messages import Identity, OutboundMessage
from hotline.tables import citizen_identities, citizens, units

log = logging.getLogger(__name__)

SEND = "hotline.jobs.tasks.send_notification"
# Which identity kind each channel delivers to.
IDENTITY_KIND = {"sms": "phone", "email": "email", "wechat": "wechat", "telegram": "telegram"}
CONTACT_FIELD = {"sms": "phone", "email": "email", "wechat": "wechat", "telegram": "telegram"}

CLAIM_LEASE = dt.timedelta(minutes=10)  # a send claimed longer ago than this died with its worker


class SendFailed(Exception):
    """A retryable send failure: the job is retried with back-off."""


def quiet_until(ctx, now: dt.datetime) -> dt.datetime:
    """``now`` outside quiet hours, else the end of the quiet period (local time)."""
    tz = ctx.service.calendar.tz
    local = now.astimezone(tz)
    start, end = ctx.jobs.quiet_start, ctx.jobs.quiet_end
    t = local.time()
    quiet = (start <= t or t < end) if start > end else (start <= t < end)
    if not quiet:
        return now
    day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tz).astimezone(dt.timezone.utc)


async def citizen_identities_of(conn: AsyncConnection, citizen_id: int | None) -> dict[str, str]:
    """kind -> value (newest) for a citizen, following merges."""
    for _ in range(10):
        if citizen_id is None:
            return {}
        merged = (await conn.execute(sa.select(citizens.c.merged_into_id)
                                     .where(citizens.c.id == citizen_id))).scalar()
        if not merged:
            break
        citizen_id = merged
    rows = await conn.execute(sa.select(citizen_identities.c.kind, citizen_identities.c.value)
                              .where(citizen_identities.c.citizen_id == citizen_id)
                              .order_by(citizen_identities.c.id))
    return {r.kind: r.value for r in rows}


async def ticket_recipients(conn: AsyncConnection, ticket) -> dict[str, str]:
    """Where the citizen of ``ticket`` (a tickets row) can be reached about it: their identities, with the
    phone they typed as this ticket's contact in place of any other phone (they asked to be called there)."""
    found = await citizen_identities_of(conn, ticket.citizen_id)
    contact = getattr(ticket, "contact_phone", None)
    if contact:
        found["phone"] = contact
    return found


def citizen_route(ticket_channel: str, identities: dict[str, str]) -> tuple[str, str, str] | None:
    """(channel, identity kind, value): the ticket's own channel when it can reach them, else SMS."""
    kind = IDENTITY_KIND.get(ticket_channel)
    if kind and kind in identities:
        return ticket_channel, kind, identities[kind]
    if "phone" in identities:
        return "sms", "phone", identities["phone"]
    for channel in ("wechat", "telegram", "email"):
        if IDENTITY_KIND[channel] in identities:
            return channel, IDENTITY_KIND[channel], identities[IDENTITY_KIND[channel]]
    return None


async def record(conn: AsyncConnection, *, key: str, ticket_id: int | None, audience: str, kind: str,
                 channel: str, recipient_kind: str, recipient: str, text: str, send_after: dt.datetime,
                 now: dt.datetime, template: str | None = None, template_data: dict | None = None) -> int | None:
    """Insert a notification once per ``key``; returns its id, or None if it already existed."""
    result = await conn.execute(insert_ignore(conn.dialect.name, notifications).values(
        key=key, ticket_id=ticket_id, audience=audience, kind=kind, channel=channel,
        recipient_kind=recipient_kind, recipient=recipient, text=text, template=template,
        template_data=template_data, state="pending", attempts=0, send_after=send_after, created_at=now,
    ).on_conflict_do_nothing().returning(notifications.c.id))
    return result.scalar()


async def to_citizen(ctx, conn: AsyncConnection, ticket, key: str, kind: str, text: str, *,
                     answering: bool = False) -> int | None:
    """Record a citizen notice for ``ticket`` (a tickets row) on their channel, held over quiet hours
    unless it is ``answering`` a message the citizen has just sent (the ticket number for a request)."""
    route = citizen_route(ticket.channel, await ticket_recipients(conn, ticket))
    if route is None:
        return None
    channel, id_kind, value = route
    now = ctx.now()
    return await record(conn, key=key, ticket_id=ticket.id, audience="citizen", kind=kind, channel=channel,
                        recipient_kind=id_kind, recipient=value, text=text,
                        send_after=now if answering else quiet_until(ctx, now),
                        now=now, template=f"ticket_{kind}",
                        template_data={"number": ticket.number, "text": text})


async def unit_contacts(conn: AsyncConnection, unit_id: int | None) -> tuple[list[dict], list[str]]:
    if unit_id is None:
        return [], []
    row = (await conn.execute(sa.select(units.c.contacts, units.c.notify_channels)
                              .where(units.c.id == unit_id))).first()
    if row is None:
        return [], []
    return list(row.contacts or []), list(row.notify_channels or [])


async def to_contacts(ctx, conn: AsyncConnection, *, key: str, ticket_id: int | None, number: str | None,
                      audience: str, kind: str, contacts: list[dict], channels: list[str], text: str,
                      now: dt.datetime | None = None) -> list[int]:
    """Record one notice per contact and configured channel (units are notified at any hour).

    ``now`` defaults to the context's clock (callers without a ticket service may pass their own).
    """
    now = now or ctx.now()
    ids = []
    for contact in contacts:
        for channel in channels:
            value = contact.get(CONTACT_FIELD.get(channel, channel))
            if not value:
                continue
            new_id = await record(conn, key=f"{key}:{audience}:{channel}:{value}", ticket_id=ticket_id,
                                  audience=audience, kind=kind, channel=channel,
                                  recipient_kind=IDENTITY_KIND.get(channel, channel), recipient=str(value),
                                  text=text, send_after=now, now=now, template=f"unit_{kind}",
                                  template_data={"number": number, "text": text})
            if new_id:
                ids.append(new_id)
    return ids


async def _claim(ctx, notification_id: int):
    now = ctx.now()
    async with ctx.engine.begin() as conn:
        done = await conn.execute(sa.update(notifications).where(
            notifications.c.id == notification_id,
            sa.or_(notifications.c.state == "pending",
                   sa.and_(notifications.c.state == "sending", notifications.c.claimed_at < now - CLAIM_LEASE)),
            notifications.c.send_after <= now,
        ).values(state="sending", claimed_at=now, attempts=notifications.c.attempts + 1))
        if done.rowcount != 1:
            return None
        return (await conn.execute(sa.select(notifications).where(notifications.c.id == notification_id))).first()


async def _finish(ctx, notification_id: int, **values) -> None:
    async with ctx.engine.begin() as conn:
        await conn.execute(sa.update(notifications).where(notifications.c.id == notification_id).values(**values))


async def send(ctx, notification_id: int) -> str:
    """Send one recorded notification if due and not yet sent; returns its state afterwards."""
    from channels.base import SendResult

    row = await _claim(ctx, notification_id)
    if row is None:
        return "skipped"
    adapter = ctx.channels.get(row.channel)
    if adapter is None:
        result = SendResult(ok=False, error=f"渠道 {row.channel} 未配置")
    else:
        data = {k: str(v) for k, v in (row.template_data or {}).items() if v}
        number = data.get("number")
        recipient = Identity(kind=row.recipient_kind, value=row.recipient)
        subject = f"12345热线工单 {number}" if number else "12345热线通知"
        message = OutboundMessage(channel=row.channel, recipient=recipient, text=row.text, subject=subject,
                                  ticket_number=number, template=row.template, template_data=data,
                                  external_id=f"n{row.id}")
        try:
            result = await adapter.send(message)
        except Exception as exc:  # network trouble inside an adapter: try again later
            result = SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
    now = ctx.now()
    if result.ok:
        await _finish(ctx, row.id, state="sent", sent_at=now, external_id=result.external_id, error=None)
        return "sent"
    if result.retryable and row.attempts < ctx.jobs.send_attempts:
        await _finish(ctx, row.id, state="pending", error=result.error)
        raise SendFailed(f"notification {row.id} via {row.channel}: {result.error}")
    await _finish(ctx, row.id, state="failed", error=result.error)
    if row.audience == "citizen" and row.channel != "sms":
        fallback = await _sms_fallback(ctx, row)
        if fallback:
            await ctx.queue.enqueue(SEND, fallback)
    return "failed"


async def _sms_fallback(ctx, row) -> int | None:
    """Out of WeChat's window/quota (or any other channel failing): the same notice by SMS."""
    from hotline.tables import tickets

    async with ctx.engine.begin() as conn:
        ticket = (await conn.execute(sa.select(tickets).where(tickets.c.id == row.ticket_id))).first()
        if ticket is None:
            return None
        phone = (await ticket_recipients(conn, ticket)).get("phone")
        if not phone:
            return None
        return await record(conn, key=f"{row.key}:sms", ticket_id=row.ticket_id, audience="citizen",
                            kind=row.kind, channel="sms", recipient_kind="phone", recipient=phone, text=row.text,
                            send_after=row.send_after, now=ctx.now(), template=row.template,
                            template_data=row.template_data)


async def due_ids(ctx, limit: int = 500) -> list[int]:
    """Notifications to (re)send: pending ones whose time has come (held overnight, or whose job was lost),
    and ones whose sender died mid-send (claimed longer ago than the lease)."""
    now = ctx.now()
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(sa.select(notifications.c.id).where(
            notifications.c.send_after <= now,
            sa.or_(notifications.c.state == "pending",
                   sa.and_(notifications.c.state == "sending", notifications.c.claimed_at < now - CLAIM_LEASE)),
        ).order_by(notifications.c.id).limit(limit))
        return list(rows.scalars())
