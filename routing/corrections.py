"""Dispatcher corrections become labelled training examples.

``record_correction`` is a ticket-transition listener: the core calls it
inside the transaction of every transition. It stores an example when a
dispatcher sends a ticket somewhere else than the router suggested (unit or
category), or re-dispatches a returned ticket (a ``return`` event in the
core's ``ticket_events``) to a unit other than the one that returned it.
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


async def _returned_from(conn: AsyncConnection, ticket_id: int) -> tuple[bool, str | None]:
    """Whether a unit returned the ticket, and the lead unit of the dispatch it returned (from the core's events)."""
    from hotline.tables import ticket_events as ev

    last_return = (await conn.execute(sa.select(sa.func.max(ev.c.id)).where(
        ev.c.ticket_id == ticket_id, ev.c.action == "return"))).scalar()
    if last_return is None:
        return False, None
    data = (await conn.execute(sa.select(ev.c.data).where(
        ev.c.ticket_id == ticket_id, ev.c.action == "dispatch", ev.c.id < last_return)
        .order_by(ev.c.id.desc()).limit(1))).scalar()
    return True, (data or {}).get("lead_unit")


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
    category = params.get("category") or suggestion.get("category")
    ticket_id = _get(event, "ticket_id") or ticket.get("id")

    redispatch, previous = await _returned_from(conn, ticket_id)
    if redispatch:
        previous = previous or suggestion.get("lead_unit")
        changed = lead != previous
    else:
        changed = lead != suggestion.get("lead_unit") or (
            params.get("category") is not None and params.get("category") != suggestion.get("category"))
    if not changed:
        return False

    text = "。".join(t for t in (ticket.get("title"), ticket.get("text")) if t)
    at = _get(event, "at") or dt.datetime.now(dt.timezone.utc)
    await conn.execute(sa.insert(routing_corrections).values(
        ticket_id=ticket_id, kind="redispatch" if redispatch else "dispatch", text=text,
        suggested_category=suggestion.get("category"), suggested_unit=suggestion.get("lead_unit"),
        category=category, request_type=ticket.get("request_type") or suggestion.get("request_type"),
        lead_unit=lead, co_units=list(params.get("co_units") or []), previous_unit=previous,
        model_version=suggestion.get("model_version"), actor=_get(event, "actor") or "unknown", created_at=at))
    return True
