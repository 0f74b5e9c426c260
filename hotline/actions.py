"""One small handler per lifecycle action, with a validated parameter model each.

A handler gets the transition context and returns the ticket columns to
update; it may write related rows (units, messages, extensions, links) on the
same connection, inside the transition's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.directory import category_by_code, unit_by_code
from hotline.lifecycle import (EMERGENCY_NUMBERS, OPEN_STATES, REJECT_REASONS, REQUEST_TYPES, SATISFACTION,
                               STATE_LABELS, TransitionError)
from hotline.tables import extensions, ticket_events, ticket_links, ticket_messages, ticket_units, tickets, units
from hotline.users import Actor


class NotFound(TransitionError):
    status = 404
    code = "not_found"


class InvalidParams(TransitionError):
    status = 422
    code = "invalid_params"


class AlreadyPending(TransitionError):
    """What was asked for waits already (a second extension request while one awaits its decision)."""

    status = 409
    code = "conflict"


class ReturnedBefore(TransitionError):
    """A dispatch to a unit that handed this ticket back (退单) before, with no word on why it must take it after all."""

    status = 409
    code = "returned_by_unit"


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str | None = Field(default=None, max_length=2000)


class DispatchParams(Params):
    lead_unit: str = Field(min_length=1, max_length=50)
    co_units: list[str] = Field(default_factory=list, max_length=10)
    category: str | None = None
    # the dispatcher's correction of the request type read at intake: it sets the reply deadline
    request_type: Literal[REQUEST_TYPES] | None = None  # type: ignore[valid-type]


class RejectParams(Params):
    reason: Literal[tuple(REJECT_REASONS)]  # type: ignore[valid-type]


class AnswerParams(Params):
    answer: str = Field(min_length=1, max_length=20000)
    article_id: int | None = None


class EmergencyParams(Params):
    number: Literal[EMERGENCY_NUMBERS]  # type: ignore[valid-type]


class ReasonParams(Params):
    reason: str = Field(min_length=1, max_length=2000)


class ReplyParams(Params):
    text: str = Field(min_length=1, max_length=20000)


class ExtensionParams(Params):
    days: int = Field(ge=1, le=30, strict=True)  # true is not one day
    reason: str = Field(min_length=1, max_length=2000)


class DecisionParams(Params):
    extension_id: int | None = None


class ApprovalParams(DecisionParams):
    days: int | None = Field(default=None, ge=1, le=30, strict=True)  # fewer working days than asked; None: all


class SatisfactionParams(Params):
    satisfaction: Literal[SATISFACTION]  # type: ignore[valid-type]


class MergeParams(Params):
    into: str = Field(min_length=1, max_length=20, description="ticket number to merge into")


@dataclass
class Ctx:
    conn: AsyncConnection
    ticket: Any  # the row before the change
    actor: Actor
    params: Any
    now: dt.datetime
    service: Any  # TicketService: calendar, policy
    data: dict  # extra event data handlers add (e.g. resolved unit codes)


async def _message(ctx: Ctx, direction: str, text: str, author: str | None = None) -> None:
    await ctx.conn.execute(sa.insert(ticket_messages).values(
        ticket_id=ctx.ticket.id, direction=direction, channel=ctx.ticket.channel if direction == "out" else "internal",
        author=author or ctx.actor.username, text=text, attachments=[], created_at=ctx.now))


async def _unit_id(ctx: Ctx, code: str) -> int:
    row = await unit_by_code(ctx.conn, code)
    if row is None or not row.active:
        raise InvalidParams(f"单位 {code} 不存在或已停用")
    if row.kind == "platform":  # the hotline itself handles nothing it dispatches
        raise InvalidParams(f"{row.name}是热线平台本身，不能作为承办单位")
    return row.id


def _reply_deadline(ctx: Ctx, start: dt.datetime, category_code: str | None,
                    request_type: str | None = None) -> dict:
    days = ctx.service.policy.days_for(request_type or ctx.ticket.request_type, category_code)
    cal = ctx.service.calendar
    return {"reply_due_at": cal.add_days(start, days), "reply_budget_seconds": int(days * cal.day_seconds)}


async def _assign(ctx: Ctx, lead_id: int, co_ids: list[int]) -> None:
    await ctx.conn.execute(sa.update(ticket_units).where(ticket_units.c.ticket_id == ctx.ticket.id)
                           .values(active=False))
    for unit_id, role in [(lead_id, "lead")] + [(u, "co") for u in co_ids if u != lead_id]:
        await ctx.conn.execute(sa.insert(ticket_units).values(
            ticket_id=ctx.ticket.id, unit_id=unit_id, role=role, active=True, dispatched_at=ctx.now))


async def accept(ctx: Ctx) -> dict:
    return {}


async def reject(ctx: Ctx) -> dict:
    ctx.data["reason_label"] = REJECT_REASONS[ctx.params.reason]
    return {"reject_reason": ctx.params.reason, "closed_at": ctx.now}


async def answer(ctx: Ctx) -> dict:
    await _message(ctx, "out", ctx.params.answer)
    return {"closed_at": ctx.now, "replied_at": ctx.now}


async def transfer_emergency(ctx: Ctx) -> dict:
    return {"emergency_number": ctx.params.number, "closed_at": ctx.now}


async def _check_not_returned_by(ctx: Ctx, lead_id: int) -> None:
    """Sending a ticket back to a unit that returned it overrules that return (驳回退单): the dispatcher must say
    why in the note, which the unit then reads with the ticket. A unit the dispatcher recalled from is not asked."""
    reason = await _last_return_reason(ctx, lead_id)
    if reason is None:
        return
    if not ctx.params.note:
        unit = await ctx.conn.scalar(sa.select(units.c.name).where(units.c.id == lead_id))
        raise ReturnedBefore(f"{unit}已退回过此工单（退单原因：{reason}）；如确需再派给该单位，"
                             "请在备注(note)中写明驳回退单的理由")
    ctx.data["return_overruled"] = True


async def _last_return_reason(ctx: Ctx, unit_id: int) -> str | None:
    rows = await ctx.conn.execute(sa.select(ticket_events.c.note, ticket_events.c.data).where(
        ticket_events.c.ticket_id == ctx.ticket.id, ticket_events.c.action == "return")
        .order_by(ticket_events.c.id.desc()))
    return next(((r.note or "未说明") for r in rows if (r.data or {}).get("returned_by") == unit_id), None)


async def dispatch(ctx: Ctx) -> dict:
    lead_id = await _unit_id(ctx, ctx.params.lead_unit)
    await _check_not_returned_by(ctx, lead_id)
    # a unit named twice, or as lead and co-handler, is assigned once
    co_codes = list(dict.fromkeys(c for c in ctx.params.co_units if c != ctx.params.lead_unit))
    co_ids = [await _unit_id(ctx, code) for code in co_codes]
    values: dict = {"lead_unit_id": lead_id, "signed_at": None, "replied_at": None, "paused_until": None}
    category_code = ctx.params.category
    if category_code:
        category = await category_by_code(ctx.conn, category_code)
        if category is None:
            raise InvalidParams(f"分类 {category_code} 不存在")
        values["category_id"] = category.id
    elif ctx.ticket.category_id:
        category_code = await ctx.service.category_code(ctx.conn, ctx.ticket.category_id)
    await _assign(ctx, lead_id, co_ids)
    if ctx.params.request_type:
        values["request_type"] = ctx.params.request_type
    values["sign_due_at"] = ctx.service.calendar.add_hours(ctx.now, ctx.service.policy.sign_hours)
    values.update(_reply_deadline(ctx, ctx.now, category_code, ctx.params.request_type))
    ctx.data.update(lead_unit=ctx.params.lead_unit, co_units=co_codes, category=category_code)
    return values


async def sign(ctx: Ctx) -> dict:
    return {"signed_at": ctx.now}


async def _take_back(ctx: Ctx, note: str) -> dict:
    """The ticket leaves its units for the dispatch queue (a unit's return, a dispatcher's recall)."""
    await ctx.conn.execute(sa.update(ticket_units).where(ticket_units.c.ticket_id == ctx.ticket.id)
                           .values(active=False))
    await _cancel_pending_extensions(ctx)  # not the next unit's to inherit
    await _message(ctx, "note", note)
    return {"lead_unit_id": None, "sign_due_at": None, "reply_due_at": None, "signed_at": None}


async def return_(ctx: Ctx) -> dict:
    ctx.data["returned_by"] = ctx.actor.unit_id
    return await _take_back(ctx, f"退单原因：{ctx.params.reason}")


def left_unit(data: dict | None) -> int | None:
    """The unit a return or recall event's ticket left: ``returned_by`` (a return), ``recalled_from`` (a recall)."""
    return (data or {}).get("returned_by") or (data or {}).get("recalled_from")


async def _cancel_pending_extensions(ctx: Ctx) -> None:
    """An extension request still undecided is cancelled: its unit replied or handed the ticket back."""
    await ctx.conn.execute(sa.update(extensions).where(
        extensions.c.ticket_id == ctx.ticket.id, extensions.c.state == "requested",
    ).values(state="cancelled", decided_at=ctx.now))


async def recall(ctx: Ctx) -> dict:
    """A dispatch taken back before the unit signed: the ticket is in the dispatch queue again."""
    ctx.data["recalled_from"] = ctx.ticket.lead_unit_id
    return await _take_back(ctx, f"撤回派单：{ctx.params.reason}")


async def reply(ctx: Ctx) -> dict:
    await _message(ctx, "out", ctx.params.text)
    await _cancel_pending_extensions(ctx)  # replied: the time asked for is no longer needed
    return {"replied_at": ctx.now}


async def request_extension(ctx: Ctx) -> dict:
    pending = (await ctx.conn.execute(sa.select(extensions.c.id).where(
        extensions.c.ticket_id == ctx.ticket.id, extensions.c.state == "requested"))).first()
    if pending:
        raise AlreadyPending("已有待审批的延期申请，请等待审批结果")
    if ctx.ticket.reply_due_at and ctx.ticket.reply_due_at < ctx.now:  # an extension must not hide an overdue
        raise InvalidParams("已超过答复期限，不能再申请延期；请尽快答复")
    ext_id = (await ctx.conn.execute(sa.insert(extensions).values(
        ticket_id=ctx.ticket.id, unit_id=ctx.ticket.lead_unit_id, days=ctx.params.days, reason=ctx.params.reason,
        state="requested", requested_at=ctx.now).returning(extensions.c.id))).scalar_one()
    ctx.data["extension_id"] = ext_id
    return {}


async def _pending_extension(ctx: Ctx):
    query = sa.select(extensions).where(extensions.c.ticket_id == ctx.ticket.id, extensions.c.state == "requested")
    if ctx.params.extension_id:
        query = query.where(extensions.c.id == ctx.params.extension_id)
    row = (await ctx.conn.execute(query)).first()
    if row is None:
        raise InvalidParams("没有待审批的延期申请")
    ctx.data["extension_id"] = row.id
    return row


async def approve_extension(ctx: Ctx) -> dict:
    ext = await _pending_extension(ctx)
    days = ctx.params.days or ext.days  # a dispatcher may grant fewer working days than the unit asked
    if days > ext.days:
        raise InvalidParams(f"批准的天数不能多于申请的 {ext.days} 个工作日")
    cal = ctx.service.calendar
    # The clock stops for the granted working days: the deadline moves by exactly that much.
    ends = cal.add_days(ctx.now, days)
    await ctx.conn.execute(sa.update(extensions).where(extensions.c.id == ext.id).values(
        state="approved", days=days, decided_at=ctx.now, starts_at=ctx.now, ends_at=ends))
    due = ctx.ticket.reply_due_at or ctx.now
    ctx.data["days"] = days
    if days != ext.days:
        ctx.data["requested_days"] = ext.days
    return {"reply_due_at": cal.add_days(due, days), "paused_until": ends}


async def deny_extension(ctx: Ctx) -> dict:
    ext = await _pending_extension(ctx)
    await ctx.conn.execute(sa.update(extensions).where(extensions.c.id == ext.id).values(
        state="denied", decided_at=ctx.now))
    return {}


async def urge(ctx: Ctx) -> dict:
    if ctx.ticket.lead_unit_id is None:  # nobody to urge: it is the dispatchers' queue
        raise InvalidParams("工单尚未派单，没有可督办的承办单位")
    await _message(ctx, "note", f"督办：{ctx.params.note or '请加快办理'}")
    return {"urge_count": tickets.c.urge_count + 1}  # in SQL: two urges at once both count


async def callback(ctx: Ctx) -> dict:
    return {"satisfaction": ctx.params.satisfaction}


async def close(ctx: Ctx) -> dict:
    if ctx.ticket.state == "replied":  # no callback answer: only once the callback could not reach anyone
        from hotline.jobs.tables import callback_tasks

        unreachable = (await ctx.conn.execute(sa.select(callback_tasks.c.id).where(
            callback_tasks.c.ticket_id == ctx.ticket.id, callback_tasks.c.round == ctx.ticket.reopen_count,
            callback_tasks.c.state == "unreachable"))).first()
        if unreachable is None:
            raise InvalidParams("尚未回访：请先记录回访结果；回访次数用尽仍联系不上的，才可不评价直接办结")
        ctx.data["unreached"] = True
    return {"closed_at": ctx.now}


async def reopen(ctx: Ctx) -> dict:
    if ctx.ticket.satisfaction != "不满意":
        raise InvalidParams("只有回访不满意的工单可以重办")
    if ctx.ticket.lead_unit_id is None:
        raise InvalidParams("工单没有承办单位，无法重办")
    # The units handling it when it closed take it again; units it was returned by stay out.
    await ctx.conn.execute(sa.update(ticket_units).where(ticket_units.c.ticket_id == ctx.ticket.id,
                                                         ticket_units.c.active.is_(True))
                           .values(dispatched_at=ctx.now))
    await _message(ctx, "note", f"重办原因：{ctx.params.reason}")
    category_code = await ctx.service.category_code(ctx.conn, ctx.ticket.category_id)
    values = {"reopen_count": ctx.ticket.reopen_count + 1, "satisfaction": None, "closed_at": None,
              "signed_at": None, "replied_at": None, "paused_until": None,
              "sign_due_at": ctx.service.calendar.add_hours(ctx.now, ctx.service.policy.sign_hours)}
    values.update(_reply_deadline(ctx, ctx.now, category_code))
    return values


async def merge(ctx: Ctx) -> dict:
    target = (await ctx.conn.execute(sa.select(tickets.c.id, tickets.c.state).where(
        tickets.c.number == ctx.params.into))).first()
    if target is None:
        raise InvalidParams(f"目标工单 {ctx.params.into} 不存在")
    if target.id == ctx.ticket.id:
        raise InvalidParams("不能合并到自身")
    if target.state == "merged":
        raise InvalidParams("目标工单已被合并")
    if target.state not in OPEN_STATES:  # nobody would handle what is merged into it
        raise InvalidParams(f"目标工单已{STATE_LABELS.get(target.state, target.state)}，不能合并到该工单")
    await ctx.conn.execute(sa.insert(ticket_links).values(
        ticket_id=ctx.ticket.id, other_id=target.id, kind="merged-into", created_at=ctx.now))
    ctx.data["into"] = ctx.params.into
    return {"merged_into_id": target.id, "closed_at": ctx.now}


async def rate(ctx: Ctx) -> dict:
    if ctx.ticket.satisfaction:  # the callback's answer (or an earlier rating) stands: figures are not rewritten
        raise InvalidParams(f"该工单已有满意度评价（{ctx.ticket.satisfaction}），不能更改")
    return {"satisfaction": ctx.params.satisfaction}


HANDLERS = {
    "accept": (Params, accept),
    "reject": (RejectParams, reject),
    "answer": (AnswerParams, answer),
    "transfer_emergency": (EmergencyParams, transfer_emergency),
    "dispatch": (DispatchParams, dispatch),
    "sign": (Params, sign),
    "return": (ReasonParams, return_),
    "recall": (ReasonParams, recall),
    "reply": (ReplyParams, reply),
    "request_extension": (ExtensionParams, request_extension),
    "approve_extension": (ApprovalParams, approve_extension),
    "deny_extension": (DecisionParams, deny_extension),
    "urge": (Params, urge),
    "callback": (SatisfactionParams, callback),
    "close": (Params, close),
    "reopen": (ReasonParams, reopen),
    "merge": (MergeParams, merge),
    "rate": (SatisfactionParams, rate),
}
