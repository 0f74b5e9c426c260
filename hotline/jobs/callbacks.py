"""Satisfaction callbacks (回访) after a unit replies.

A task is created once per reply round. If the citizen can be reached by
SMS, WeChat or Telegram they get "回复 1 满意 / 2 基本满意 / 3 不满意"
(repeated after ``callback_wait_hours`` up to ``callback_attempts`` times,
then the task is *unreachable*); otherwise the task waits in the agents'
phone callback queue. The citizen's answer arrives as the core ``callback``
transition (from the SMS adapter or an agent); :func:`on_callback` then
closes the ticket, or reopens it to the same unit with the citizen's reason.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db import insert_ignore
from hotline.jobs import notify
from hotline.jobs.tables import callback_tasks
from hotline.lifecycle import SATISFACTION_ANSWERS
from hotline.messages import Identity
from hotline.tables import citizen_identities, outbox, tickets
from hotline.users import SYSTEM

AUTO_CHANNELS = ("sms", "wechat", "telegram")
QUESTION = ("【12345热线回访】您的工单 {number} 承办单位已答复，"
            "请回复数字评价：1 满意 / 2 基本满意 / 3 不满意。")
OPEN_STATES = ("pending", "asked")


def auto_route(ticket_channel: str, identities: dict[str, str],
               available=AUTO_CHANNELS) -> tuple[str, str, str] | None:
    """Where an automatic callback can ask: the ticket's messaging channel, else SMS to a phone; only over
    a channel this installation has (``available``): without one, an agent phones."""
    if ticket_channel in ("wechat", "telegram") and ticket_channel in identities and ticket_channel in available:
        return ticket_channel, ticket_channel, identities[ticket_channel]
    if "phone" in identities and "sms" in available:
        return "sms", "phone", identities["phone"]
    return None


async def create_task(ctx, conn: AsyncConnection, ticket) -> int | None:
    """The callback task for this reply round (once); None if it already exists."""
    identities = await notify.ticket_recipients(conn, ticket)
    route = auto_route(ticket.channel, identities, available=set(ctx.channels))
    now = ctx.now()
    values = dict(ticket_id=ticket.id, round=ticket.reopen_count, unit_id=ticket.lead_unit_id,
                  citizen_id=ticket.citizen_id, state="pending", attempts=0, created_at=now,
                  mode="auto" if route else "phone", next_attempt_at=now)
    if route:
        values.update(channel=route[0], recipient_kind=route[1], recipient=route[2])
    elif "phone" in identities:
        values.update(channel="phone", recipient_kind="phone", recipient=identities["phone"])
    elif "email" in identities:  # no number to call: the agent asks by e-mail, the address is on the task
        values.update(channel="email", recipient_kind="email", recipient=identities["email"])
    result = await conn.execute(insert_ignore(conn.dialect.name, callback_tasks).values(**values)
                                .on_conflict_do_nothing().returning(callback_tasks.c.id))
    return result.scalar()


async def attempt(ctx, task_id: int) -> str:
    """Ask (again) if due; after the last unanswered request the task becomes unreachable."""
    now = ctx.now()
    async with ctx.engine.begin() as conn:
        task = (await conn.execute(sa.select(callback_tasks).where(callback_tasks.c.id == task_id))).first()
        if task is None or task.state not in OPEN_STATES or task.mode != "auto":
            return task.state if task is not None else "missing"
        if task.next_attempt_at and task.next_attempt_at > now:
            return task.state
        ticket = (await conn.execute(sa.select(tickets).where(tickets.c.id == task.ticket_id))).first()
        if ticket.state != "replied":
            # only a task still open: an answer recorded meanwhile (on_callback) is not overwritten
            await conn.execute(sa.update(callback_tasks).where(callback_tasks.c.id == task_id,
                                                               callback_tasks.c.state.in_(OPEN_STATES))
                               .values(state="cancelled"))
            return "cancelled"
        if task.attempts >= ctx.jobs.callback_attempts:
            await conn.execute(sa.update(callback_tasks).where(callback_tasks.c.id == task_id,
                                                               callback_tasks.c.attempts == task.attempts)
                               .values(state="unreachable", next_attempt_at=None))
            return "unreachable"
        number = task.attempts + 1
        moved = await conn.execute(sa.update(callback_tasks).where(
            callback_tasks.c.id == task_id, callback_tasks.c.attempts == task.attempts,
        ).values(state="asked", attempts=number,
                 next_attempt_at=now + dt.timedelta(hours=ctx.jobs.callback_wait_hours)))
        if moved.rowcount != 1:
            return "busy"
        notice_id = await notify.record(
            conn, key=f"callback:{task_id}:{number}", ticket_id=ticket.id, audience="citizen", kind="callback",
            channel=task.channel, recipient_kind=task.recipient_kind, recipient=task.recipient,
            text=QUESTION.format(number=ticket.number), send_after=notify.quiet_until(ctx, now), now=now,
            template="callback", template_data={"number": ticket.number})
    if notice_id:
        await ctx.queue.enqueue(notify.SEND, notice_id)
    return "asked"


async def on_callback(ctx, ticket_id: int, satisfaction: str | None, reason: str | None, actor: str) -> str:
    """The citizen answered: record it on the task, then close or reopen the ticket."""
    service = ctx.service
    now = ctx.now()
    async with ctx.engine.begin() as conn:
        ticket = (await conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id))).first()
        if ticket is None:
            return "missing"
        await conn.execute(sa.update(callback_tasks).where(
            callback_tasks.c.ticket_id == ticket_id, callback_tasks.c.round == ticket.reopen_count,
            # also a task the first attempt cancelled because an agent had recorded the answer already
            callback_tasks.c.state.in_(OPEN_STATES + ("unreachable", "cancelled")),
        ).values(state="answered", satisfaction=satisfaction, reason=reason, answered_at=now))
        if ticket.state != "callback_done":
            return ticket.state  # already closed or reopened: this is a second run
        if satisfaction == "不满意":
            text = reason or "市民回访不满意"
            await service.transition_on(conn, ticket_id, "reopen", SYSTEM, {"reason": text}, None)
            return "reopened"
        note = {"note": f"回访{satisfaction}，自动办结"}
        await service.transition_on(conn, ticket_id, "close", SYSTEM, note, None)
        return "closed"


STRANDED_AFTER = dt.timedelta(minutes=5)  # a recorded answer not acted on by then lost its job


async def stranded_results(ctx) -> list[int]:
    """Outbox ids of callback answers whose close/reopen job was lost (crash between delivery and queueing).

    A ticket stays in ``callback_done`` only until :func:`on_callback` runs; one still there well after
    its (delivered) callback event is handed over again. :func:`on_callback` is safe to run twice.
    """
    cutoff = ctx.now() - STRANDED_AFTER
    async with ctx.engine.connect() as conn:
        ticket_ids = list((await conn.execute(sa.select(tickets.c.id).where(
            tickets.c.state == "callback_done", tickets.c.updated_at < cutoff))).scalars())
        out = []
        for ticket_id in ticket_ids:
            newest = (await conn.execute(sa.select(outbox.c.id, outbox.c.delivered_at).where(
                outbox.c.topic == "ticket.callback", outbox.c.payload["ticket_id"].as_integer() == ticket_id,
            ).order_by(outbox.c.id.desc()).limit(1))).first()
            if newest is not None and newest.delivered_at is not None and newest.delivered_at < cutoff:
                out.append(newest.id)
        return out


async def due_task_ids(ctx) -> list[int]:
    async with ctx.engine.connect() as conn:
        rows = await conn.execute(sa.select(callback_tasks.c.id).where(
            callback_tasks.c.state.in_(OPEN_STATES), callback_tasks.c.mode == "auto",
            callback_tasks.c.next_attempt_at <= ctx.now()).order_by(callback_tasks.c.id))
        return list(rows.scalars())


_ANSWER = re.compile(r"^\s*(基本满意|不满意|满意|[123])\s*[。.!！]?\s*$")


def satisfaction_of(text: str) -> str | None:
    """The satisfaction a bare callback answer ("1", "满意" ...) gives, or None for anything else."""
    m = _ANSWER.match(text or "")
    return SATISFACTION_ANSWERS[m.group(1)] if m else None


async def pending_callback_for(conn: AsyncConnection, identity: Identity) -> str | None:
    """The ticket number a citizen's "1/2/3" answers: their most recent open callback task.

    Matches the identity itself, or any citizen record that owns it (merged records included).
    """
    owner = (await conn.execute(sa.select(citizen_identities.c.citizen_id).where(
        citizen_identities.c.kind == identity.kind, citizen_identities.c.value == identity.value))).scalar()
    match = sa.and_(callback_tasks.c.recipient_kind == identity.kind, callback_tasks.c.recipient == identity.value)
    if owner is not None:
        match = sa.or_(match, callback_tasks.c.citizen_id == owner, tickets.c.citizen_id == owner)
    row = (await conn.execute(
        sa.select(tickets.c.number)
        .select_from(callback_tasks.join(tickets, tickets.c.id == callback_tasks.c.ticket_id))
        .where(match, callback_tasks.c.state.in_(OPEN_STATES), tickets.c.state == "replied")
        .order_by(callback_tasks.c.created_at.desc(), callback_tasks.c.id.desc()).limit(1))).first()
    return row.number if row else None


async def phone_queue(conn: AsyncConnection, limit: int = 100) -> list[dict]:
    """Open callback tasks an agent has to phone (the console's callback queue)."""
    rows = await conn.execute(
        sa.select(callback_tasks.c.id, callback_tasks.c.ticket_id, tickets.c.number, callback_tasks.c.recipient,
                  callback_tasks.c.recipient_kind, callback_tasks.c.attempts, callback_tasks.c.created_at)
        .select_from(callback_tasks.join(tickets, tickets.c.id == callback_tasks.c.ticket_id))
        .where(callback_tasks.c.mode == "phone", callback_tasks.c.state.in_(OPEN_STATES),
               tickets.c.state == "replied")
        .order_by(callback_tasks.c.created_at).limit(limit))
    return [{**dict(r._mapping), "created_at": r.created_at.isoformat()} for r in rows]


async def phone_unanswered(ctx, task_id: int) -> str:
    """An agent phoned and nobody answered: after ``callback_attempts`` calls the task is unreachable."""
    async with ctx.engine.begin() as conn:
        task = (await conn.execute(sa.select(callback_tasks).where(callback_tasks.c.id == task_id))).first()
        if task is None or task.state not in OPEN_STATES:
            return task.state if task is not None else "missing"
        attempts = task.attempts + 1
        state = "unreachable" if attempts >= ctx.jobs.callback_attempts else "asked"
        await conn.execute(sa.update(callback_tasks).where(callback_tasks.c.id == task_id)
                           .values(attempts=attempts, state=state))
        return state


async def dissatisfied_by_unit(conn: AsyncConnection) -> dict[int, int]:
    """不满意 answers counted against each unit (unit id -> count)."""
    rows = await conn.execute(sa.select(callback_tasks.c.unit_id, sa.func.count())
                              .where(callback_tasks.c.satisfaction == "不满意")
                              .group_by(callback_tasks.c.unit_id))
    return {r[0]: r[1] for r in rows}
