"""Ticket routes: create, list with filters and pagination, get, transition."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from hotline import appkeys
from hotline.api.auth import require
from hotline.api.errors import ApiError, json_response, read_json
from hotline.api.models import LinkIn, TicketIn, TransitionIn
from hotline.identity import (UNIT_QUERY_DIGITS, InvalidIdentity, InvalidPhone, normalize_identity,
                              probes_masked_digits)
from hotline.lifecycle import REQUEST_TYPES, STATE_LABELS
from hotline.service import NewTicket
from hotline.views import MAX_PAGE

STAFF = ("agent", "dispatcher", "leader", "admin")


def _identities(citizen) -> list:
    if citizen is None:
        return []
    pairs = [("phone", citizen.phone), ("wechat", citizen.wechat_openid), ("email", citizen.email),
             ("telegram", citizen.telegram_id)]
    out = []
    for kind, value in pairs:
        if not value:
            continue
        try:
            out.append(normalize_identity(kind, value))
        except InvalidIdentity as exc:
            field = {"wechat": "wechat_openid", "telegram": "telegram_id"}.get(kind, kind)
            raise ApiError(422, "invalid_params", f"citizen.{field}：{exc}") from None
    return out


async def create_ticket(request: web.Request) -> web.Response:
    """Create a ticket (工单) for a citizen's request; answers 201 with number, state and deadlines.

    An ``Idempotency-Key`` header (at most 100 characters, e.g. a UUID per form) makes a repeat of the same
    request, a double click or a retry after a lost answer, return the ticket already made (200).
    ``"auto_dispatch": false`` keeps the ticket from being dispatched automatically (an agent answering it
    directly from the knowledge base); the router's suggestion is still stored."""
    actor = require(request, "agent", "dispatcher", "admin")
    body = await read_json(request, TicketIn)
    service = request.app[appkeys.SERVICE]
    new = NewTicket(channel=body.channel, text=body.text, request_type=body.request_type,
                    identities=_identities(body.citizen), citizen_name=body.citizen.name if body.citizen else None,
                    intake_line=body.intake_line, title=body.title, category=body.category,
                    district=body.district, address=body.address, publishable=body.publishable,
                    auto_dispatch=body.auto_dispatch)
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > 100:
        raise ApiError(400, "bad_request", "Idempotency-Key 最多 100 个字符")
    created = await service.create_ticket(new, actor, idempotency_key=key)
    ticket = await service.get_ticket(created["id"], actor)
    # the same key again: the ticket the first request made, 200 instead of 201
    return json_response(ticket, status=201 if created.get("created", True) else 200,
                         headers={"Location": f"/api/v1/tickets/{ticket['number']}"})


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "bad_query", f"{name} 必须是整数") from None
    if not low <= value <= high:
        raise ApiError(400, "bad_query", f"{name} 必须在 {low} 到 {high} 之间")
    return value


def _date(request: web.Request, name: str) -> dt.datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "bad_query", f"{name} 必须是 ISO 8601 日期时间") from None
    if name == "created_to" and len(raw) == 10:  # a date alone (2026-12-07): up to the end of that day
        value += dt.timedelta(days=1)
    return value if value.tzinfo else value.replace(tzinfo=request.app[appkeys.SERVICE].calendar.tz)


def _unit_may_search(phone: str | None, q: str | None) -> None:
    """Unit users see citizens' numbers masked (139****5678): the list must not confirm a guess at the
    hidden digits either, so they filter by neither a phone number nor a run of digits in ``q`` (a whole
    ticket number is fine; a house number such as 12 too)."""
    if phone:
        raise ApiError(403, "forbidden", "成员单位不能按市民电话号码查询工单")
    if probes_masked_digits(q):
        raise ApiError(400, "bad_query", UNIT_QUERY_DIGITS)


ALLOWED_FILTERS = {"state", "channel", "request_type", "unit", "category", "district", "phone", "q",
                   "created_from", "created_to", "open", "overdue", "due_before", "flag", "sort", "limit", "offset"}
# ``flag``: tickets the router flagged at intake (its suggestion's key of the same name)
ROUTING_FLAGS = {"emergency": "疑似紧急情况", "sensitive": "敏感/群体性事项", "out_of_scope": "可能不属于受理范围"}


async def list_tickets(request: web.Request) -> web.Response:
    """List tickets with filters (state, channel, request_type, unit, category, district, phone, q, dates, the
    router's flags) and paging."""
    actor = require(request, *STAFF, "unit")
    unknown = set(request.query) - ALLOWED_FILTERS
    if unknown:
        raise ApiError(400, "bad_query", f"未知查询参数：{'、'.join(sorted(unknown))}")
    for state in filter(None, request.query.get("state", "").split(",")):
        if state not in STATE_LABELS:
            raise ApiError(400, "bad_query", f"未知状态 {state}")
    if request.query.get("request_type") and request.query["request_type"] not in REQUEST_TYPES:
        raise ApiError(400, "bad_query", f"未知诉求类型 {request.query['request_type']}")
    phone = request.query.get("phone")
    flag = request.query.get("flag") or None
    if flag and flag not in ROUTING_FLAGS:
        raise ApiError(400, "bad_query", "flag 只能是 " + "、".join(f"{k}（{v}）" for k, v in ROUTING_FLAGS.items()))
    if actor.role == "unit":
        _unit_may_search(phone, request.query.get("q"))
        if flag:  # the router's suggestion is the platform's, not shown to units
            raise ApiError(403, "forbidden", "成员单位不能按智能分拨标记查询工单")
    if phone:
        try:
            phone = normalize_identity("phone", phone).value
        except InvalidPhone as exc:
            raise ApiError(400, "bad_query", str(exc)) from None
    created_from, created_to = _date(request, "created_from"), _date(request, "created_to")
    if created_from and created_to and created_from >= created_to:
        raise ApiError(400, "bad_query", "created_from 必须早于 created_to（只写日期时 created_to 含当天）")
    sort = request.query.get("sort", "newest")
    if sort not in ("newest", "due"):
        raise ApiError(400, "bad_query", "sort 只能是 newest（最新在前）或 due（答复期限最近在前）")
    limit = _int(request, "limit", 50, 1, MAX_PAGE)
    offset = _int(request, "offset", 0, 0, 10_000_000)
    items, total = await request.app[appkeys.SERVICE].list_tickets(
        actor, state=request.query.get("state"), channel=request.query.get("channel"),
        request_type=request.query.get("request_type"), unit=request.query.get("unit"),
        category=request.query.get("category"), district=request.query.get("district"), phone=phone,
        q=request.query.get("q"), created_from=created_from, created_to=created_to,
        open_only=request.query.get("open") in ("1", "true"), overdue=request.query.get("overdue") in ("1", "true"),
        due_before=_date(request, "due_before"), flag=flag, sort=sort, limit=limit, offset=offset)
    return json_response({"items": items, "total": total, "limit": limit, "offset": offset})


async def get_ticket(request: web.Request) -> web.Response:
    """One ticket with its messages, events (audit trail), units, extensions and links."""
    actor = require(request, *STAFF, "unit")
    ticket = await request.app[appkeys.SERVICE].get_ticket(request.match_info["ref"], actor)
    return json_response(ticket)


async def transition(request: web.Request) -> web.Response:
    """Move a ticket through its lifecycle: {"action": ..., "params": {...}, "version": n}."""
    actor = require(request, *STAFF, "unit")
    body = await read_json(request, TransitionIn)
    ticket = await request.app[appkeys.SERVICE].transition(
        request.match_info["ref"], body.action, actor, body.params, body.version)
    return json_response(ticket)


async def link(request: web.Request) -> web.Response:
    """Link a ticket to another: {"kind": "duplicate-of"|"related", "number": ...}."""
    actor = require(request, "agent", "dispatcher", "admin")
    body = await read_json(request, LinkIn)
    ticket = await request.app[appkeys.SERVICE].link(request.match_info["ref"], body.number, body.kind, actor)
    return json_response(ticket)
