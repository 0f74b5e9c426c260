"""The job functions: plain module functions ``async def job(ctx, *ids)``, each safe to run twice.

Queue them by dotted path, e.g. ``await queue.enqueue("hotline.jobs.tasks.deliver_event", outbox_id)``.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from hotline.directory import unit_by_code
from hotline.jobs import callbacks, notify, supervision
from hotline.tables import outbox, tickets, units

log = logging.getLogger(__name__)

CITIZEN_TEXT = {
    "create": "【12345热线】您的诉求已受理，工单号 {number}，可凭工单号查询办理进度。",
    "dispatch": "【12345热线】您的工单 {number} 已转交 {unit} 办理。",
    "reply": "【12345热线】您的工单 {number} 已有答复：{text}",
    "close": "【12345热线】您的工单 {number} 已办结，感谢您的支持。",
    # final at intake: the citizen hears the answer, or why it is not taken, as a unit's reply is heard
    "answer": "【12345热线】您的工单 {number} 已答复：{text}",
    "reject": "【12345热线】很抱歉，您的工单 {number} 不予受理，原因：{reason}。如有疑问请致电12345。",
    "transfer_emergency": "【12345热线】您反映的紧急情况已转 {emergency} 处置；情况危急请直接拨打 {emergency}。",
}
UNIT_TEXT = {
    "reminder": "【12345热线提醒】工单 {number}「{title}」即将超期，请尽快办理。",
    "urge": "【12345热线督办】工单 {number}「{title}」已被督办（第 {count} 次）：{note}",
    "escalation": ("【12345热线升级督办】工单 {number}「{title}」承办单位 {unit} 督办后仍未办理，"
                   "请督促处理。"),
    "reopen": "【12345热线重办】工单 {number}「{title}」市民回访不满意，已退回重办。原因：{reason}",
    "dispatch": "【12345热线派单】工单 {number}「{title}」已派至贵单位（{role}），请及时签收办理。",
    "return_overruled": "贵单位此前的退单未获同意，理由：{note}",
    "approve_extension": "【12345热线】工单 {number}「{title}」的延期申请已批准，延期 {days} 个工作日。",
    "deny_extension": "【12345热线】工单 {number}「{title}」的延期申请未获批准，请按原期限办理。{note}",
}


async def _unit(conn, unit_id):
    if unit_id is None:
        return None
    return (await conn.execute(sa.select(units).where(units.c.id == unit_id))).first()


async def _unit_named(conn, code: str | None):
    """The unit an event names (a dispatch's lead unit: not the ticket's unit by the time the job runs)."""
    return await unit_by_code(conn, code) if code else None


async def _supervisors(conn, unit_row) -> list:
    """The unit's supervisor: its parent unit (none for a top-level unit)."""
    parent = await _unit(conn, unit_row.parent_id) if unit_row is not None else None
    return [parent] if parent is not None else []


async def _platform_units(conn) -> list:
    return list(await conn.execute(sa.select(units).where(units.c.kind == "platform", units.c.active.is_(True))))


async def _notify_units(ctx, conn, key, ticket, kind, text, targets: list[tuple[str, object]]) -> list[int]:
    ids = []
    for audience, unit_row in targets:
        if unit_row is None:
            continue
        ids += await notify.to_contacts(ctx, conn, key=f"{key}:u{unit_row.id}", ticket_id=ticket.id,
                                        number=ticket.number, audience=audience, kind=kind,
                                        contacts=list(unit_row.contacts or []),
                                        channels=list(unit_row.notify_channels or []), text=text)
    return ids


def _from_citizen(payload: dict) -> bool:
    return str(payload.get("actor", "")).startswith("citizen:")


def _acknowledged(ctx, ticket, payload: dict, action: str) -> bool:
    """A request the citizen sent on a channel whose adapter answered it with its number right away."""
    if action != "create" or not _from_citizen(payload):
        return False
    return bool(getattr(ctx.channels.get(ticket.channel), "acknowledges_intake", False))


async def _on_event(ctx, conn, row, ticket) -> tuple[list[int], list[tuple[str, int]]]:
    """Record the notifications (and follow-up jobs) one event causes; returns (notice ids, jobs)."""
    topic, payload = row.topic, row.payload or {}
    params = payload.get("params") or {}
    key = f"ev{row.id}"
    notices: list[int] = []
    jobs: list[tuple[str, int]] = []
    action = topic.split(".", 1)[1]
    unit = await _unit(conn, ticket.lead_unit_id)
    fields = {"number": ticket.number, "title": ticket.title or "", "unit": unit.name if unit else "承办单位"}
    if topic.startswith("ticket.") and action in CITIZEN_TEXT and not _acknowledged(ctx, ticket, payload, action):
        named = await _unit_named(conn, params.get("lead_unit")) if action == "dispatch" else None
        text = CITIZEN_TEXT[action].format(
            text=(params.get("text") or params.get("answer") or "")[:300], reason=params.get("reason_label") or "",
            emergency=params.get("number") or "", **{**fields, **({"unit": named.name} if named else {})})
        found = await notify.to_citizen(ctx, conn, ticket, f"{key}:citizen", action, text,
                                        answering=_from_citizen(payload) and action == "create")
        notices += [found] if found else []
    if topic == "ticket.reply":
        task_id = await callbacks.create_task(ctx, conn, ticket)
        if task_id:
            jobs.append(("hotline.jobs.tasks.callback_attempt", task_id))
    elif topic == "ticket.callback":
        jobs.append(("hotline.jobs.tasks.callback_result", row.id))
    elif topic == "ticket.urge":
        text = UNIT_TEXT["urge"].format(count=ticket.urge_count, note=params.get("note") or "请加快办理", **fields)
        notices += await _notify_units(ctx, conn, key, ticket, "urge", text,
                                       [("unit", unit)] + [("supervisor", s) for s in await _supervisors(conn, unit)])
    elif topic == "ticket.dispatch":  # the units learn of a new ticket now, not from the first reminder
        lead = await _unit_named(conn, params.get("lead_unit"))
        for role, code_units in (("主办", [lead] if lead else []),
                                 ("协办", [await _unit_named(conn, c) for c in params.get("co_units") or []])):
            text = UNIT_TEXT["dispatch"].format(role=role, **fields)
            if role == "主办" and params.get("return_overruled"):  # it returned the ticket: it hears why it is back
                text += UNIT_TEXT["return_overruled"].format(note=params.get("note") or "")
            notices += await _notify_units(ctx, conn, f"{key}:{role}", ticket, "dispatch", text,
                                           [("unit", u) for u in code_units if u is not None])
    elif topic in ("ticket.approve_extension", "ticket.deny_extension"):
        note = f"说明：{params['note']}" if params.get("note") else ""
        text = UNIT_TEXT[action].format(days=params.get("days") or "", note=note, **fields)
        notices += await _notify_units(ctx, conn, key, ticket, action, text, [("unit", unit)])
    elif topic == "ticket.reopen":
        text = UNIT_TEXT["reopen"].format(reason=params.get("reason") or "", **fields)
        notices += await _notify_units(ctx, conn, key, ticket, "reopen", text, [("unit", unit)])
    elif topic == "supervision.reminder":
        notices += await _notify_units(ctx, conn, key, ticket, "reminder", UNIT_TEXT["reminder"].format(**fields),
                                       [("unit", unit)])
    elif topic == "supervision.escalation":
        text = UNIT_TEXT["escalation"].format(**fields)
        notices += await _notify_units(ctx, conn, key, ticket, "escalation", text,
                                       [("platform", p) for p in await _platform_units(conn)])
    return notices, jobs


async def _deliver_one(ctx, outbox_id: int) -> tuple[list[int], list[tuple[str, int]]]:
    async with ctx.engine.begin() as conn:
        row = (await conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id).with_for_update())).first()
        if row is None or row.delivered_at is not None:
            return [], []
        ticket_id = (row.payload or {}).get("ticket_id")
        ticket = (await conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id))).first() \
            if ticket_id else None
        found = ([], []) if ticket is None else await _on_event(ctx, conn, row, ticket)
        await conn.execute(sa.update(outbox).where(outbox.c.id == outbox_id).values(delivered_at=ctx.now()))
    return found


async def deliver_event(ctx, outbox_id: int) -> None:
    """Turn an outbox event into its notifications and follow-up jobs, then mark it delivered.

    Earlier undelivered events of the same ticket are delivered first, in order, so a citizen
    hears "accepted" before "dispatched" even when the two jobs run at once.
    """
    async with ctx.engine.connect() as conn:
        row = (await conn.execute(sa.select(outbox.c.payload, outbox.c.delivered_at)
                                  .where(outbox.c.id == outbox_id))).first()
        if row is None or row.delivered_at is not None:
            return
        ticket_id = (row.payload or {}).get("ticket_id")
        ids = [outbox_id]
        if ticket_id is not None:
            ids = list((await conn.execute(sa.select(outbox.c.id).where(
                outbox.c.delivered_at.is_(None), outbox.c.id <= outbox_id,
                outbox.c.payload["ticket_id"].as_integer() == ticket_id).order_by(outbox.c.id))).scalars())
    notices: list[int] = []
    jobs: list[tuple[str, int]] = []
    for event_id in ids:
        more_notices, more_jobs = await _deliver_one(ctx, event_id)
        notices += more_notices
        jobs += more_jobs
    for notice_id in notices:  # in order, here; a failing one goes to its own job with retries
        try:
            await notify.send(ctx, notice_id)
        except Exception as exc:
            log.warning("notification %s: %s; queued for retry", notice_id, exc)
            await ctx.queue.enqueue(send_notification, notice_id)
    for path, arg in jobs:
        await ctx.queue.enqueue(path, arg)


async def send_notification(ctx, notification_id: int) -> None:
    """Send one recorded notification (held ones wait for their time; sent ones are skipped)."""
    await notify.send(ctx, notification_id)


async def callback_attempt(ctx, task_id: int) -> None:
    """Ask the citizen for their satisfaction (or mark the task unreachable)."""
    await callbacks.attempt(ctx, task_id)


async def callback_result(ctx, outbox_id: int) -> None:
    """The citizen's answer was recorded on the ticket: close it, or reopen it to the same unit."""
    async with ctx.engine.connect() as conn:
        row = (await conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id))).first()
    if row is None:
        return
    params = (row.payload or {}).get("params") or {}
    await callbacks.on_callback(ctx, row.payload["ticket_id"], params.get("satisfaction"),
                                params.get("reason") or params.get("note"), row.payload.get("actor", "system"))


async def sweep(ctx) -> None:
    """The periodic pass: supervision stages, due callback requests, notices held over night (or whose
    sender died), callback answers whose follow-up job was lost."""
    done = await supervision.sweep(ctx)
    if done:
        log.info("supervision: %s", done)
    for task_id in await callbacks.due_task_ids(ctx):
        await ctx.queue.enqueue(callback_attempt, task_id)
    for notice_id in await notify.due_ids(ctx):
        await ctx.queue.enqueue(send_notification, notice_id)
    for outbox_id in await callbacks.stranded_results(ctx):
        await ctx.queue.enqueue(callback_result, outbox_id)
