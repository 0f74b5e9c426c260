"""The ticket service: the one place tickets are created and moved.

Every change runs in one transaction that also writes the audited event
(``ticket_events``), the outbox row for jobs, and whatever in-transaction
listeners other packages registered (e.g. routing corrections).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pydantic
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline import actions
from hotline.actions import InvalidParams, NotFound
from hotline.citizens import resolve_citizen
from hotline.clock import Clock, SystemClock
from hotline.config import Settings
from hotline.db import insert_ignore
from hotline.identity import clip
from hotline.lifecycle import DEFAULT_REQUEST_TYPE, REQUEST_TYPES, Forbidden, TransitionError, find_move
from hotline.messages import INTAKE_LINES, Identity
from hotline.numbering import next_ticket_number
from hotline.tables import (audit_log, categories, idempotency_keys, outbox, ticket_events, ticket_links,
                            ticket_messages, tickets)
from hotline.users import SYSTEM, Actor
from hotline.validation import validation_message
from hotline.workcal import DeadlinePolicy, WorkingCalendar


class Conflict(TransitionError):
    status = 409
    code = "conflict"


@dataclass(frozen=True)
class TicketEvent:
    """What in-transaction listeners receive for every create and transition."""

    ticket_id: int
    number: str
    action: str
    from_state: str | None
    to_state: str
    actor: str
    role: str
    params: dict
    ticket: dict
    at: dt.datetime


# Moves that change nothing the other party acts on: a unit typing its reply is not sent back with 409
# because a leader urged meanwhile (the urge is recorded all the same).
KEEPS_VERSION = frozenset({"urge"})
MAX_ID = 2**31 - 1  # integer primary keys; anything larger is no ticket (and PostgreSQL would refuse it)
Listener = Callable[[AsyncConnection, TicketEvent], Awaitable[None]]
AfterCommit = Callable[[TicketEvent], Awaitable[None]]
log = logging.getLogger(__name__)


@dataclass
class NewTicket:
    channel: str
    text: str
    request_type: str | None = None  # None: the router's prediction (求助 without a router)
    identities: list[Identity] = field(default_factory=list)
    citizen_name: str | None = None
    intake_line: str = "12345"
    title: str | None = None
    category: str | None = None
    district: str | None = None
    address: str | None = None
    place: str | None = None  # the citizen's own words for where: the address when the gazetteer finds none
    contact_phone: str | None = None  # normalised (+86...): a typed contact, not an identity
    publishable: bool = False
    extra: dict | None = None
    auto_dispatch: bool = True  # False: stays with the agents even if the router would dispatch it (answered directly)


class _KeyTaken(Exception):
    """Another request with the same Idempotency-Key created its ticket first."""


class TicketService:
    def __init__(self, engine: AsyncEngine, *, clock: Clock | None = None, settings: Settings | None = None,
                 calendar: WorkingCalendar | None = None, policy: DeadlinePolicy | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.settings = settings or Settings()
        self.calendar = calendar or WorkingCalendar(self.settings.timezone)
        self.policy = policy or DeadlinePolicy.from_settings(self.settings.deadlines)
        self.router: Any = None  # routing suggester, set at app start when the routing package is present
        self._listeners: list[Listener] = []
        self._after_commit: list[AfterCommit] = []

    def add_listener(self, listener: Listener) -> None:
        """Run ``listener(conn, event)`` inside the transaction of every create and transition."""
        self._listeners.append(listener)

    def add_after_commit(self, hook: AfterCommit) -> None:
        """Run ``hook(event)`` once the change is committed (live pushes; failures are only logged)."""
        self._after_commit.append(hook)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction whose ticket events reach the after-commit hooks once it commits."""
        events: list[TicketEvent] = []
        async with self.engine.begin() as conn:
            conn.info["hotline_events"] = events
            try:
                yield conn
            finally:
                conn.info.pop("hotline_events", None)
        for event in events:
            for hook in self._after_commit:
                try:
                    await hook(event)
                except Exception:  # noqa: BLE001 - a live push must never undo a committed change
                    log.exception("after-commit hook failed for %s %s", event.number, event.action)

    def now(self) -> dt.datetime:
        return self.clock.now()

    # -- reading -----------------------------------------------------------------------------

    async def category_code(self, conn: AsyncConnection, category_id: int | None) -> str | None:
        if category_id is None:
            return None
        return (await conn.execute(sa.select(categories.c.code).where(categories.c.id == category_id))).scalar()

    async def ticket_row(self, conn: AsyncConnection, ticket_id: int):
        row = (await conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id))).first()
        if row is None:
            raise NotFound(f"工单 {ticket_id} 不存在")
        return row

    async def resolve_id(self, ref: str | int) -> int:
        """A ticket id from an id or a ticket number."""
        if not str(ref).isdigit() or (len(str(ref)) < 13 and int(ref) > MAX_ID):
            raise NotFound(f"工单 {ref} 不存在")
        async with self.engine.connect() as conn:
            column = tickets.c.number if isinstance(ref, str) and len(ref) >= 13 else tickets.c.id
            value = ref if column is tickets.c.number else int(ref)
            found = (await conn.execute(sa.select(tickets.c.id).where(column == value))).scalar()
        if found is None:
            raise NotFound(f"工单 {ref} 不存在")
        return found

    async def get_ticket(self, ref: str | int, viewer: Actor | None = None) -> dict:
        from hotline.views import load_ticket

        # An int is already an id (load_ticket answers NotFound); a string may be a number or an id.
        ticket_id = ref if isinstance(ref, int) else await self.resolve_id(ref)
        async with self.engine.connect() as conn:
            try:
                return await load_ticket(self, conn, ticket_id, viewer)
            except NotFound:
                # Say it in the caller's own words: a hidden ticket must read like a missing one.
                raise NotFound(f"工单 {ref} 不存在") from None

    async def get_ticket_by_number(self, number: str, viewer: Actor | None = None) -> dict | None:
        try:
            return await self.get_ticket(str(number), viewer)
        except NotFound:
            return None

    async def recent_tickets_of(self, identity: Identity, limit: int = 3) -> list[dict]:
        """The latest tickets of the citizen known by ``identity``, newest first, merged ones left out.

        For self-service progress queries ("查询进度" with no number): number, title, state,
        state_label and created_at only.
        """
        from hotline.citizens import find_citizen
        from hotline.lifecycle import STATE_LABELS

        async with self.engine.connect() as conn:
            citizen_id = await find_citizen(conn, identity)
            if citizen_id is None:
                return []
            rows = (await conn.execute(
                sa.select(tickets.c.number, tickets.c.title, tickets.c.state, tickets.c.created_at)
                .where(tickets.c.citizen_id == citizen_id, tickets.c.state != "merged")
                .order_by(tickets.c.created_at.desc(), tickets.c.id.desc()).limit(limit))).all()
        return [{"number": r.number, "title": r.title, "state": r.state,
                 "state_label": STATE_LABELS.get(r.state, r.state), "created_at": r.created_at} for r in rows]

    async def list_tickets(self, viewer: Actor | None = None, **filters) -> tuple[list[dict], int]:
        from hotline.views import list_tickets

        async with self.engine.connect() as conn:
            return await list_tickets(self, conn, viewer, **filters)

    # -- writing -----------------------------------------------------------------------------

    async def create_ticket(self, new: NewTicket, actor: Actor = SYSTEM, *, conn: AsyncConnection | None = None,
                            inbound: dict | None = None, idempotency_key: str | None = None) -> dict:
        """Create a ticket (routing suggestion included). ``inbound`` is the first message's row values.

        ``idempotency_key`` (the API's Idempotency-Key): the same key from the same user again, a double
        submit or a retry after a lost answer, gets the ticket the first one made (``created`` False)."""
        if new.request_type is not None and new.request_type not in REQUEST_TYPES:
            raise InvalidParams(f"未知诉求类型 {new.request_type}（可用：{'、'.join(REQUEST_TYPES)}）")
        if new.intake_line not in INTAKE_LINES:
            raise InvalidParams(f"未知受理热线 {new.intake_line}")
        if len(new.text) > self.settings.max_text_chars:
            raise InvalidParams(f"诉求内容超过 {self.settings.max_text_chars} 字")
        key = f"{actor.username}:{idempotency_key}"[:200] if idempotency_key else None
        if key and (earlier := await self._created_with(key, new)):
            return earlier
        suggestion = await self.suggest(new)
        if conn is not None:
            return await self.create_on(conn, new, actor, suggestion, inbound)
        try:
            async with self.transaction() as conn:
                created = await self.create_on(conn, new, actor, suggestion, inbound)
                if key:
                    claimed = await conn.execute(insert_ignore(conn, idempotency_keys).values(
                        key=key, ticket_id=created["id"], created_at=self.now()).on_conflict_do_nothing())
                    if claimed.rowcount != 1:
                        raise _KeyTaken  # a concurrent request with the key won: this ticket is rolled back
                return {**created, "created": True}
        except _KeyTaken:
            return await self._created_with(key, new)

    async def _created_with(self, key: str, new: NewTicket) -> dict | None:
        """The ticket an earlier request with this key made; a key reused for other content is refused (409):
        a key only stands for retries of one request, and the new content must not be dropped unseen."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(tickets.c.id, tickets.c.number, tickets.c.text).select_from(
                idempotency_keys.join(tickets, tickets.c.id == idempotency_keys.c.ticket_id))
                .where(idempotency_keys.c.key == key))).first()
        if row is None:
            return None
        if row.text != new.text:
            raise Conflict(f"Idempotency-Key 已用于内容不同的工单 {row.number}：重试请原样重发，新的诉求请换一个新的键")
        return {"id": row.id, "number": row.number, "created": False}

    async def suggest(self, new: NewTicket) -> dict | None:
        """The router's suggestion for a new ticket (None without a router); CPU work, call outside transactions."""
        if self.router is None:
            return None
        return await self.router.suggest(new.text, intake_line=new.intake_line, channel=new.channel,
                                         title=new.title, request_type=new.request_type)

    async def create_on(self, conn: AsyncConnection, new: NewTicket, actor: Actor, suggestion: dict | None,
                        inbound: dict | None = None) -> dict:
        """Create a ticket inside the caller's transaction (validated input, suggestion already made)."""
        now = self.now()
        category_code = new.category or (suggestion or {}).get("category")
        category_id = None
        if category_code:
            category_id = (await conn.execute(sa.select(categories.c.id).where(
                categories.c.code == category_code))).scalar()
            if category_id is None and new.category:
                raise InvalidParams(f"分类 {new.category} 不存在")
        area = (suggestion or {}).get("area") or {}
        request_type = new.request_type or (suggestion or {}).get("request_type") or DEFAULT_REQUEST_TYPE
        citizen_id = await resolve_citizen(conn, new.identities, now, new.citizen_name) if new.identities else None
        number = await next_ticket_number(conn, now, self.settings.timezone)
        ticket_id = (await conn.execute(sa.insert(tickets).values(
            number=number, channel=new.channel, intake_line=new.intake_line, request_type=request_type,
            category_id=category_id, district=new.district or area.get("district"),
            address=new.address or area.get("address") or new.place, title=new.title or clip(new.text, 30),
            text=new.text,
            state="new", citizen_id=citizen_id, contact_phone=new.contact_phone, reopen_count=0, urge_count=0,
            publishable=new.publishable,
            routing=suggestion, extra=new.extra, version=1, created_at=now, updated_at=now,
        ).returning(tickets.c.id))).scalar_one()
        if inbound is not None:
            await conn.execute(sa.update(ticket_messages).where(ticket_messages.c.id == inbound["id"])
                               .values(ticket_id=ticket_id))
        else:
            await conn.execute(sa.insert(ticket_messages).values(
                ticket_id=ticket_id, direction="in", channel=new.channel, author=actor.username,
                text=new.text, attachments=[], created_at=now))
        row = await self.ticket_row(conn, ticket_id)
        await self._record(conn, row, "create", None, "new", actor, {"request_type": request_type}, now)
        if suggestion and suggestion.get("auto_dispatch") and not new.auto_dispatch:
            # the creator answers it directly: the suggestion is kept, marked as not acted on
            await conn.execute(sa.update(tickets).where(tickets.c.id == ticket_id).values(routing={
                **suggestion, "auto_dispatch": False, "queue": "manual", "auto_dispatch_skipped": True}))
        elif suggestion and suggestion.get("auto_dispatch") and suggestion.get("lead_unit") \
                and not suggestion.get("emergency"):
            params = {"lead_unit": suggestion["lead_unit"], "co_units": suggestion.get("co_units") or [],
                      "note": "系统自动派单"}
            try:
                await self.transition_on(conn, ticket_id, "dispatch", SYSTEM, params, None)
            except InvalidParams as exc:  # e.g. a rule naming a unit stopped since: the dispatcher decides
                log.warning("ticket %s not dispatched automatically: %s", number, exc)
                await conn.execute(sa.update(tickets).where(tickets.c.id == ticket_id).values(routing={
                    **suggestion, "auto_dispatch": False, "queue": "manual", "auto_dispatch_error": str(exc)}))
        return {"id": ticket_id, "number": number}

    async def transition(self, ref: str | int, action: str, actor: Actor, params: dict | None = None,
                         expected_version: int | None = None) -> dict:
        """Move a ticket; exactly one of several concurrent moves wins, the others get 409."""
        ticket_id = await self.resolve_id(ref)
        try:
            async with self.transaction() as conn:
                await self.transition_on(conn, ticket_id, action, actor, params or {}, expected_version)
        except NotFound:
            raise NotFound(f"工单 {ref} 不存在") from None
        from hotline.views import load_ticket

        async with self.engine.connect() as conn:
            # A unit that just returned a ticket still gets the (masked) result of its own move.
            return await load_ticket(self, conn, ticket_id, actor, check_visible=False)

    async def transition_on(self, conn: AsyncConnection, ticket_id: int, action: str, actor: Actor, params: dict,
                            expected_version: int | None = None) -> None:
        """Move a ticket inside the caller's transaction (jobs record their own rows in the same one)."""
        row = await self.ticket_row(conn, ticket_id)
        if actor.role == "unit" and not await self._unit_may_act(conn, row, actor):
            from hotline.views import unit_sees_ticket

            if await unit_sees_ticket(conn, row.id, actor.unit_id):  # a co-handling unit: it sees the ticket
                raise Forbidden("贵单位是该工单的协办单位，签收、答复、退单、申请延期由主办单位办理")
            raise NotFound(f"工单 {ticket_id} 不存在")
        move = find_move(row.state, action, actor.role)
        if expected_version is not None and expected_version != row.version:
            raise Conflict(f"工单已被他人修改（当前版本 {row.version}），请刷新后重试")
        model, handler = actions.HANDLERS[action]
        try:
            parsed = model.model_validate(params)
        except pydantic.ValidationError as exc:
            raise InvalidParams(validation_message(exc, "参数")) from None
        now = self.now()
        data: dict = {}
        values = await handler(actions.Ctx(conn, row, actor, parsed, now, self, data))
        to_state = move.to or row.state
        result = await conn.execute(
            sa.update(tickets).where(tickets.c.id == ticket_id, tickets.c.version == row.version)
            .values(state=to_state, version=row.version + (0 if action in KEEPS_VERSION else 1), updated_at=now,
                    **values)
        )
        if result.rowcount != 1:
            raise Conflict("工单正被他人同时处理，请刷新后重试")
        after = await self.ticket_row(conn, ticket_id)
        event_params = {**parsed.model_dump(exclude_none=True), **data}
        await self._record(conn, after, action, row.state, to_state, actor, event_params, now)

    async def _unit_may_act(self, conn: AsyncConnection, row, actor: Actor) -> bool:
        from hotline.views import unit_sees_ticket

        return await unit_sees_ticket(conn, row.id, actor.unit_id, lead_only=True)

    async def _record(self, conn: AsyncConnection, row, action: str, from_state: str | None, to_state: str,
                      actor: Actor, params: dict, now: dt.datetime) -> None:
        await conn.execute(sa.insert(ticket_events).values(
            ticket_id=row.id, action=action, from_state=from_state, to_state=to_state, actor=actor.username,
            note=params.get("note") or params.get("reason_label") or params.get("reason"), data=_jsonable(params),
            at=now))
        payload = {"ticket_id": row.id, "number": row.number, "action": action, "from_state": from_state,
                   "to_state": to_state, "actor": actor.username, "params": _jsonable(params)}
        await conn.execute(sa.insert(outbox).values(topic=f"ticket.{action}", payload=payload, created_at=now,
                                                    attempts=0))
        event = TicketEvent(row.id, row.number, action, from_state, to_state, actor.username, actor.role,
                            params, _jsonable(dict(row._mapping)), now)
        for listener in self._listeners:
            await listener(conn, event)
        conn.info.get("hotline_events", []).append(event)

    async def audit(self, conn: AsyncConnection, actor: Actor, action: str, object_type: str,
                    object_id: str | None, detail: dict | None = None) -> None:
        await conn.execute(sa.insert(audit_log).values(actor=actor.username, action=action,
                                                       object_type=object_type, object_id=object_id,
                                                       detail=_jsonable(detail or {}), at=self.now()))

    async def link(self, ref: str | int, other: str, kind: str, actor: Actor) -> dict:
        """Record that a ticket duplicates or relates to another (both directions for "related")."""
        if kind not in ("duplicate-of", "related"):
            raise InvalidParams("关联类型只能是 duplicate-of 或 related")
        ticket_id, other_id = await self.resolve_id(ref), await self.resolve_id(other)
        if ticket_id == other_id:
            raise InvalidParams("不能关联到自身")
        now = self.now()
        async with self.engine.begin() as conn:
            pairs = [(ticket_id, other_id)] + ([(other_id, ticket_id)] if kind == "related" else [])
            for a, b in pairs:
                exists = (await conn.execute(sa.select(ticket_links.c.id).where(
                    ticket_links.c.ticket_id == a, ticket_links.c.other_id == b, ticket_links.c.kind == kind))).first()
                if not exists:
                    await conn.execute(sa.insert(ticket_links).values(ticket_id=a, other_id=b, kind=kind,
                                                                      created_at=now))
            await self.audit(conn, actor, "tickets.link", "ticket", str(ticket_id), {"kind": kind, "other": other})
        return await self.get_ticket(ticket_id, actor)

    async def ingest(self, message):
        """Intake of one normalised inbound message (see :mod:`hotline.intake`)."""
        from hotline.intake import ingest

        return await ingest(self, message)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value
