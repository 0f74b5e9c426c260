"""Dispatcher corrections become labelled training examples.

``record_correction`` is a ticket-transition listener: the core calls it
inside the transaction of every transition, after writing the transition's
own ``ticket_events`` row. It stores an example when a dispatcher

- dispatches a ticket for the first time somewhere else than the router
  suggested (unit or category), or
- re-dispatches a returned ticket (a ``return`` event) to a unit other than
  the one that returned it, or with another category than it had then.

A re-dispatch is compared with the dispatch the ticket was returned from, never
with the intake suggestion. The listener is idempotent: the same decision
recorded twice in a row for a ticket is stored once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from routing.tables import routing_corrections

DISPATCH_ACTIONS = ("dispatch",)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    return getattr(obj, name, default) if not isinstance(obj, dict) else obj.get(name, default)


async def _returned_from(conn: AsyncConnection, ticket_id: int) -> dict | None:
    """The lead unit and category the ticket had when a unit last returned it (or a dispatcher recalled the
    dispatch); None if neither happened.

    The unit is the one that returned it (``returned_by`` on the core's return event, ``recalled_from`` on
    a recall), else the lead unit of the dispatch before that return.
    """
    from hotline.actions import left_unit
    from hotline.tables import ticket_events as ev
    from hotline.tables import units

    last_return = (await conn.execute(sa.select(ev.c.id, ev.c.data).where(
        ev.c.ticket_id == ticket_id, ev.c.action.in_(("return", "recall"))).order_by(ev.c.id.desc()).limit(1))).first()
    if last_return is None:
        return None
    dispatched = (await conn.execute(sa.select(ev.c.data).where(
        ev.c.ticket_id == ticket_id, ev.c.action == "dispatch", ev.c.id < last_return.id)
        .order_by(ev.c.id.desc()).limit(1))).scalar() or {}
    returned_by = left_unit(last_return.data)
    unit = returned_by and (await conn.execute(sa.select(units.c.code).where(units.c.id == returned_by))).scalar()
    return {"lead_unit": unit or dispatched.get("lead_unit"), "category": dispatched.get("category")}


async def _same_as_last(conn: AsyncConnection, values: dict) -> bool:
    """Whether the ticket's latest stored correction is this very decision (a listener run twice)."""
    rc = routing_corrections
    last = (await conn.execute(sa.select(rc).where(rc.c.ticket_id == values["ticket_id"])
                               .order_by(rc.c.id.desc()).limit(1))).mappings().first()
    keys = ("kind", "previous_unit", "lead_unit", "category", "co_units")
    return last is not None and all(last[k] == values[k] for k in keys)


async def record_correction(conn: AsyncConnection, event: Any) -> bool:
    """Store a labelled example for this transition if it corrects the router. Returns True when stored."""
    action = _get(event, "action")
    if action not in DISPATCH_ACTIONS:
        return False
    params = _get(event, "params") or {}
    ticket = _get(event, "ticket") or {}
    suggestion = ticket.get("routing") or {}
    lead = params.get("lead_unit")
    if not lead:
        return False
    ticket_id = _get(event, "ticket_id") or ticket.get("id")

    previous = await _returned_from(conn, ticket_id)
    before = suggestion if previous is None else previous  # what this dispatch decides against
    category = params.get("category") or before.get("category")
    changed = lead != before.get("lead_unit") or (
        params.get("category") is not None and params.get("category") != before.get("category")) or (
        params.get("request_type") is not None and params.get("request_type") != suggestion.get("request_type"))
    if not changed:
        return False

    values = dict(
        ticket_id=ticket_id, kind="dispatch" if previous is None else "redispatch",
        text="。".join(t for t in (ticket.get("title"), ticket.get("text")) if t),
        suggested_category=suggestion.get("category"), suggested_unit=suggestion.get("lead_unit"),
        category=category, request_type=ticket.get("request_type") or suggestion.get("request_type"),
        lead_unit=lead, co_units=list(params.get("co_units") or []),
        previous_unit=None if previous is None else previous["lead_unit"],
        model_version=suggestion.get("model_version"), actor=_get(event, "actor") or "unknown",
        created_at=_get(event, "at") or dt.datetime.now(dt.timezone.utc))
    if await _same_as_last(conn, values):
        return False
    await conn.execute(sa.insert(routing_corrections).values(**values))
    return True
