"""Reading tickets: full views, filtered lists, and what a unit user may see.

Unit users see only tickets dispatched to their unit, with citizens' phone
numbers masked (138****5678), in contact fields and in free text alike.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.actions import left_unit
from hotline.identity import mask_author, mask_identity, mask_phones_in_text
from hotline.lifecycle import ACTION_LABELS, OPEN_STATES, REJECT_REASONS, STATE_LABELS
from hotline.tables import (attachments, categories, citizen_identities, citizens, extensions, ticket_events,
                            ticket_links, ticket_messages, ticket_units, tickets, units)
from hotline.users import Actor
from hotline.workcal import light

MAX_PAGE = 200


def _masking(viewer: Actor | None) -> bool:
    return viewer is not None and viewer.role == "unit"


async def unit_sees_ticket(conn: AsyncConnection, ticket_id: int, unit_id: int | None, lead_only: bool = False) -> bool:
    query = sa.select(ticket_units.c.id).where(ticket_units.c.ticket_id == ticket_id,
                                               ticket_units.c.unit_id == unit_id, ticket_units.c.active.is_(True))
    if lead_only:
        query = query.where(ticket_units.c.role == "lead")
    return (await conn.execute(query)).first() is not None


def deadlines(service, row, now: dt.datetime) -> dict:
    sign_light = None
    if row.state == "dispatched" and row.sign_due_at:
        budget = service.policy.sign_hours * 3600
        sign_light = light(service.calendar, now, row.sign_due_at, budget, service.policy.yellow_fraction)
    reply_light = None
    if row.state in ("dispatched", "signed") and row.reply_due_at:
        reply_light = light(service.calendar, now, row.reply_due_at, row.reply_budget_seconds,
                            service.policy.yellow_fraction)
    order = {None: 0, "green": 1, "yellow": 2, "red": 3}
    return {
        "sign_due_at": _iso(row.sign_due_at),
        "reply_due_at": _iso(row.reply_due_at),
        "paused_until": _iso(row.paused_until),
        "sign_light": sign_light,
        "reply_light": reply_light,
        "light": max(sign_light, reply_light, key=lambda v: order[v]),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _matching_what_units_see(conn: AsyncConnection, query, q: str):
    """``query`` narrowed to tickets whose text or title *as the unit sees it* (numbers masked) holds ``q``, or
    whose number is ``q``: a search must not confirm a guess at hidden digits (一 3812 or just 81 typed to
    test 138****5678). A unit's own tickets are few enough to check here; the text match above is a superset,
    since a masked text's stretch without * is the raw text's."""
    rows = await conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.title, tickets.c.text)
                              .where(tickets.c.id.in_(query.scalar_subquery())))
    kept = [r.id for r in rows if r.number == q or q in (mask_phones_in_text(r.text) or "")
            or q in (masked_title(r.title, r.text) or "")]
    return query.where(tickets.c.id.in_(kept))


class _Page:
    """What the ticket views of a page of tickets need beyond their rows, read with one query per kind
    (not per ticket): assigned units, categories, citizens, merge targets and returns."""

    def __init__(self, rows: list) -> None:
        self.rows = rows
        self.assigned: dict[int, list[dict]] = {r.id: [] for r in rows}
        self.returns: dict[int, list] = {r.id: [] for r in rows}
        self.categories: dict[int, dict] = {}
        self.citizens: dict[int, tuple[str | None, list[dict]]] = {}
        self.merged: dict[int, str] = {}
        self.units: dict[int, tuple[str, str]] = {}

    async def read(self, conn: AsyncConnection) -> _Page:
        ids = list(self.assigned)
        for r in await conn.execute(
                sa.select(ticket_units.c.ticket_id, units.c.code, units.c.name, ticket_units.c.role,
                          ticket_units.c.dispatched_at)
                .select_from(ticket_units.join(units, units.c.id == ticket_units.c.unit_id))
                .where(ticket_units.c.ticket_id.in_(ids), ticket_units.c.active.is_(True)).order_by(ticket_units.c.id)):
            self.assigned[r.ticket_id].append({"code": r.code, "name": r.name, "role": r.role,
                                               "dispatched_at": _iso(r.dispatched_at)})
        # every time a ticket came back to the dispatch queue: a unit's return (退单) or a dispatcher's recall
        for r in await conn.execute(
                sa.select(ticket_events.c.ticket_id, ticket_events.c.action, ticket_events.c.note,
                          ticket_events.c.data, ticket_events.c.at)
                .where(ticket_events.c.ticket_id.in_(ids), ticket_events.c.action.in_(("return", "recall")))
                .order_by(ticket_events.c.id)):
            self.returns[r.ticket_id].append(r)
        unit_ids = {left_unit(r.data) for rs in self.returns.values() for r in rs} - {None}
        if unit_ids:
            self.units = {u.id: (u.code, u.name) for u in await conn.execute(
                sa.select(units.c.id, units.c.code, units.c.name).where(units.c.id.in_(unit_ids)))}
        category_ids = {r.category_id for r in self.rows} - {None}
        if category_ids:
            self.categories = {c.id: {"code": c.code, "name": c.name} for c in await conn.execute(
                sa.select(categories.c.id, categories.c.code, categories.c.name)
                .where(categories.c.id.in_(category_ids)))}
        citizen_ids = {r.citizen_id for r in self.rows} - {None}
        if citizen_ids:
            names = dict((await conn.execute(sa.select(citizens.c.id, citizens.c.name)
                                             .where(citizens.c.id.in_(citizen_ids)))).all())
            self.citizens = {cid: (names.get(cid), []) for cid in citizen_ids}
            for i in await conn.execute(
                    sa.select(citizen_identities.c.citizen_id, citizen_identities.c.kind, citizen_identities.c.value)
                    .where(citizen_identities.c.citizen_id.in_(citizen_ids)).order_by(citizen_identities.c.id)):
                self.citizens[i.citizen_id][1].append({"kind": i.kind, "value": i.value})
        merged_ids = {r.merged_into_id for r in self.rows} - {None}
        if merged_ids:
            self.merged = dict((await conn.execute(sa.select(tickets.c.id, tickets.c.number)
                                                   .where(tickets.c.id.in_(merged_ids)))).all())
        return self

    def returns_of(self, ticket_id: int, mask: bool) -> list[dict]:
        """Oldest first, with the unit the ticket left and the reason: a dispatcher should not send it
        straight back."""
        out = []
        for r in self.returns[ticket_id]:
            code, name = self.units.get(left_unit(r.data), (None, None))
            out.append({"kind": r.action, "label": ACTION_LABELS[r.action], "unit": code, "unit_name": name,
                        "reason": mask_phones_in_text(r.note) if mask else r.note, "at": _iso(r.at)})
        return out

    def citizen_of(self, row, mask: bool) -> dict | None:
        if not row.citizen_id:
            return None
        name, idents = self.citizens.get(row.citizen_id, (None, []))
        if mask:
            idents = [{**i, "value": mask_identity(i["kind"], i["value"])} for i in idents]
            name = name[:1] + "*" * min(len(name) - 1, 2) if name else name  # 李四 -> 李*: how to address them
        return {"id": row.citizen_id, "name": name, "identities": idents}


def _view(service, row, page: _Page, mask: bool) -> dict:
    assigned = page.assigned[row.id]
    return {
        "id": row.id, "number": row.number, "channel": row.channel, "intake_line": row.intake_line,
        "request_type": row.request_type, "category": page.categories.get(row.category_id),
        "district": row.district,
        "address": mask_phones_in_text(row.address) if mask else row.address,
        "title": masked_title(row.title, row.text) if mask else row.title,
        "text": mask_phones_in_text(row.text) if mask else row.text,
        "state": row.state, "state_label": STATE_LABELS[row.state], "citizen": page.citizen_of(row, mask),
        "contact_phone": mask_identity("phone", row.contact_phone) if mask else row.contact_phone,
        "lead_unit": next((u for u in assigned if u["role"] == "lead"), None),
        "lead_unit_name": next((u["name"] for u in assigned if u["role"] == "lead"), None),
        "co_units": [u for u in assigned if u["role"] == "co"],
        "deadlines": deadlines(service, row, service.now()),
        "reply_due_at": _iso(row.reply_due_at),
        "satisfaction": row.satisfaction, "reject_reason": row.reject_reason,
        "reject_reason_label": REJECT_REASONS.get(row.reject_reason) if row.reject_reason else None,
        "emergency_number": row.emergency_number, "merged_into": page.merged.get(row.merged_into_id),
        "reopen_count": row.reopen_count, "urge_count": row.urge_count, "publishable": row.publishable,
        "routing": None if mask else row.routing,
        "returns": page.returns_of(row.id, mask),
        "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at),
        "closed_at": _iso(row.closed_at), "version": row.version,
    }


async def load_tickets(service, conn: AsyncConnection, ids: list[int], viewer: Actor | None) -> list[dict]:
    """The list views of tickets ``ids`` (in that order; ids with no ticket are left out), as ``viewer``
    may see them; the caller has chosen only tickets the viewer may see."""
    found = {r.id: r for r in await conn.execute(sa.select(tickets).where(tickets.c.id.in_(ids)))}
    page = await _Page([found[i] for i in ids if i in found]).read(conn)
    mask = _masking(viewer)
    return [_view(service, row, page, mask) for row in page.rows]


async def load_ticket(service, conn: AsyncConnection, ticket_id: int, viewer: Actor | None,
                      detail: bool = True, check_visible: bool = True) -> dict:
    """The ticket as ``viewer`` may see it (``check_visible=False``: right after the viewer's own move)."""
    from hotline.actions import NotFound

    hidden = check_visible and _masking(viewer) and not await unit_sees_ticket(conn, ticket_id, viewer.unit_id)
    found = [] if hidden else await load_tickets(service, conn, [ticket_id], viewer)
    if not found:
        raise NotFound(f"工单 {ticket_id} 不存在")
    result = found[0]
    if detail:
        result.update(await _history(conn, ticket_id, _masking(viewer)))
    return result


async def _history(conn: AsyncConnection, ticket_id: int, mask: bool) -> dict:
    messages = [
        {"id": m.id, "direction": m.direction, "channel": m.channel,
         "author": mask_author(m.author) if mask else m.author,
         "text": mask_phones_in_text(m.text) if mask else m.text, "created_at": _iso(m.created_at),
         "attachments": m.attachments or []}
        for m in await conn.execute(sa.select(ticket_messages).where(ticket_messages.c.ticket_id == ticket_id)
                                    .order_by(ticket_messages.c.id))
    ]
    events = [
        {"action": e.action, "action_label": ACTION_LABELS.get(e.action, e.action), "from_state": e.from_state,
         "to_state": e.to_state, "actor": e.actor, "note": mask_phones_in_text(e.note) if mask else e.note,
         "at": _iso(e.at)}
        for e in await conn.execute(sa.select(ticket_events).where(ticket_events.c.ticket_id == ticket_id)
                                    .order_by(ticket_events.c.id))
    ]
    exts = [
        {"id": x.id, "days": x.days, "reason": x.reason, "state": x.state, "requested_at": _iso(x.requested_at),
         "ends_at": _iso(x.ends_at)}
        for x in await conn.execute(sa.select(extensions).where(extensions.c.ticket_id == ticket_id)
                                    .order_by(extensions.c.id))
    ]
    other = tickets.alias("other")
    links = [
        {"kind": link.kind, "number": link.number}
        for link in await conn.execute(
            sa.select(ticket_links.c.kind, other.c.number)
            .select_from(ticket_links.join(other, other.c.id == ticket_links.c.other_id))
            .where(ticket_links.c.ticket_id == ticket_id))
    ] + [  # tickets merged into this one: their callers are answered with it
        {"kind": "merged-from", "number": link.number}
        for link in await conn.execute(
            sa.select(other.c.number)
            .select_from(ticket_links.join(other, other.c.id == ticket_links.c.ticket_id))
            .where(ticket_links.c.other_id == ticket_id, ticket_links.c.kind == "merged-into"))
    ]
    files = [
        {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in await conn.execute(sa.select(attachments).where(attachments.c.ticket_id == ticket_id))
    ]
    return {"messages": messages, "events": events, "extensions": exts, "links": links, "attachments": files}


_LONG_DIGITS_AT_END = re.compile(r"(\d{3})(\d{2,})$")


def masked_title(title: str | None, text: str | None) -> str | None:
    """A ticket's title as unit users see it. A title made from the start of the text (cut at 30
    characters, maybe in the middle of a phone number: …我电话1391234567) is cut from the masked text,
    so it shows no digit the text hides; any other title is masked itself, and a long run of digits
    it ends with (a number cut by an older version) keeps only its first three."""
    if not title:
        return title
    if text and text.startswith(title):
        return (mask_phones_in_text(text) or "")[:len(title)]
    return _LONG_DIGITS_AT_END.sub(lambda m: m.group(1) + "*" * len(m.group(2)), mask_phones_in_text(title))


async def list_tickets(service, conn: AsyncConnection, viewer: Actor | None, *, state: str | None = None,
                       channel: str | None = None, request_type: str | None = None, unit: str | None = None,
                       category: str | None = None, district: str | None = None, phone: str | None = None,
                       q: str | None = None, created_from: dt.datetime | None = None,
                       created_to: dt.datetime | None = None, open_only: bool = False,
                       overdue: bool = False, due_before: dt.datetime | None = None, flag: str | None = None,
                       sort: str = "newest", limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """``overdue``: the unit's time is up (not signed for by the sign-for deadline, or not replied by the
    reply deadline); ``due_before``: the reply is due by then; ``flag``: the router flagged it at intake
    (``emergency``, ``sensitive``, ``out_of_scope``: that key of its suggestion is set); ``sort`` "due" puts
    the nearest reply deadline first (else newest first)."""
    query = sa.select(tickets.c.id)
    if _masking(viewer):
        query = query.where(tickets.c.id.in_(sa.select(ticket_units.c.ticket_id).where(
            ticket_units.c.unit_id == viewer.unit_id, ticket_units.c.active.is_(True))))
    if state:
        query = query.where(tickets.c.state.in_(state.split(",")))
    if open_only:
        query = query.where(tickets.c.state.in_(sorted(OPEN_STATES)))
    if channel:
        query = query.where(tickets.c.channel == channel)
    if request_type:
        query = query.where(tickets.c.request_type == request_type)
    if unit:
        query = query.where(tickets.c.lead_unit_id == sa.select(units.c.id).where(units.c.code == unit)
                            .scalar_subquery())
    if category:
        ids = sa.select(categories.c.id).where(categories.c.code.startswith(category))
        query = query.where(tickets.c.category_id.in_(ids))
    if district:
        query = query.where(tickets.c.district == district)
    if phone:  # the citizen's own number, or the contact they typed in the request
        query = query.where(sa.or_(tickets.c.contact_phone == phone, tickets.c.citizen_id.in_(
            sa.select(citizen_identities.c.citizen_id).where(
                citizen_identities.c.kind == "phone", citizen_identities.c.value == phone))))
    if q:
        query = query.where(sa.or_(tickets.c.text.contains(q, autoescape=True),
                                   tickets.c.title.contains(q, autoescape=True),
                                   tickets.c.number == q))
        if _masking(viewer):
            query = await _matching_what_units_see(conn, query, q)
    if created_from:
        query = query.where(tickets.c.created_at >= created_from)
    if created_to:
        query = query.where(tickets.c.created_at < created_to)
    if overdue:
        now = service.now()
        query = query.where(sa.or_(
            sa.and_(tickets.c.state == "dispatched", tickets.c.sign_due_at < now),
            sa.and_(tickets.c.state.in_(("dispatched", "signed")), tickets.c.reply_due_at < now)))
    if due_before:
        query = query.where(tickets.c.state.in_(("dispatched", "signed")), tickets.c.reply_due_at <= due_before)
    if flag:  # a JSON null reads as SQL NULL on SQLite (json_extract) and PostgreSQL (->>) alike
        query = query.where(tickets.c.routing[flag].as_string().is_not(None))
    total = (await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar_one()
    order = (tickets.c.reply_due_at.is_(None), tickets.c.reply_due_at, tickets.c.id) if sort == "due" \
        else (tickets.c.id.desc(),)
    page = await conn.execute(query.order_by(*order).limit(min(limit, MAX_PAGE)).offset(offset))
    return await load_tickets(service, conn, [tid for (tid,) in page], viewer), total
