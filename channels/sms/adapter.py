"""SMS adapter: signed gateway webhooks (inbound messages, delivery receipts) and outbound sending.

Concatenated inbound messages are stored part by part and handed to intake
once complete (see :meth:`SmsAdapter._assemble`). A reply of 1/2/3 (or
满意/基本满意/不满意) to a callback SMS is recorded as the satisfaction of the
ticket that SMS was about. The new ticket's number goes back through the
notification jobs (recorded and retried like every notice; sent at once even
in quiet hours, as it answers the citizen's own message).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from aiohttp import web

from channels.base import ChannelAdapter, SendResult, dispatch_event, read_body, webhook
from channels.sms import segments
from channels.sms.gateway import GatewayClient, GatewayError
from channels.sms.parse import (INBOUND_TYPES, RECEIPT_STATES, RECEIPT_TYPES, MobileOriginated, load_json,
                                payload_type)
from channels.sms.settings import SmsSettings
from channels.sms.signing import verify
from channels.tables import sms_outbound, sms_parts
from hotline import intake
from hotline.db import insert_ignore
from hotline.identity import InvalidPhone, normalize_phone
from hotline.lifecycle import TransitionError
from hotline.messages import Identity, InboundMessage, OutboundMessage
from hotline.jobs.callbacks import satisfaction_of
from hotline.users import Actor

log = logging.getLogger(__name__)
CITIZEN = Actor(username="citizen:sms", role="citizen")
# Stored parts of a long SMS are dropped after this long, whether their message completed or not.
PART_MAX_AGE = dt.timedelta(hours=24)
# sms_parts.total of a part already joined into an accepted message (real totals are 1..20); such
# parts are kept (until PART_MAX_AGE) so that the gateway's retries of them dedupe.
JOINED = 0


@dataclass(frozen=True)
class Assembled:
    """A whole inbound SMS: its text, its external id, and the stored parts it was joined from."""

    text: str
    external_id: str
    part_ids: tuple[int, ...] = ()
    stamp: dt.datetime | None = None  # when its first stored part arrived


def _long_id(mo: MobileOriginated, stamp: dt.datetime) -> str:
    """The external id of a long SMS: the phone, its UDH reference and when its first part was stored."""
    return f"{mo.sender}:{mo.udh.ref}:{stamp.astimezone(dt.timezone.utc):%Y%m%dT%H%M%S.%f}"


def _ack(exc) -> web.Response:
    return web.json_response({"status": "ignored", "reason": exc.code})


class SmsAdapter(ChannelAdapter):
    name = "sms"

    settings_class = SmsSettings

    def __init__(self, deps, settings=None) -> None:
        super().__init__(deps, settings)
        self._tasks: set[asyncio.Task] = set()

    @classmethod
    def is_configured(cls, settings: SmsSettings) -> bool:
        return bool(settings.secret)

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/channels/sms/inbound", self.inbound)
        app.router.add_post("/channels/sms/receipt", self.receipt)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.settle(), 10)
        except asyncio.TimeoutError:
            log.warning("sms: %d sends still pending at shutdown", len(self._tasks))

    async def settle(self) -> None:
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    @property
    def service(self):
        return self.deps.service

    def line_for(self, to: str) -> str:
        return self.settings.lines.get(to, self.settings.default_line)

    async def _verified_json(self, request: web.Request) -> dict:
        body = await read_body(request, self.settings.max_body_bytes)
        verify(self.settings.secret, request.headers, body, self.service.now(), self.settings.replay_window_seconds)
        return load_json(body)

    # -- inbound -------------------------------------------------------------------------------

    @webhook(_ack)
    async def inbound(self, request: web.Request) -> web.Response:
        """A citizen's SMS (or one part of a long one) forwarded by the gateway."""
        data = await self._verified_json(request)
        mo: MobileOriginated = dispatch_event(self.name, INBOUND_TYPES, payload_type(data), data)
        assembled = await self._assemble(mo)
        if assembled is None:
            return web.json_response({"status": "partial"})
        text = assembled.text
        message = InboundMessage(channel=self.name, external_id=assembled.external_id,
                                 sender=Identity(kind="phone", value=mo.sender), text=text,
                                 received_at=mo.received_at, intake_line=self.line_for(mo.to), meta={"to": mo.to})
        if rating := satisfaction_of(text):
            rated = await self._rate(message, rating)
            if rated is not None:
                await self._mark_joined(assembled)
                return web.json_response(rated)
        result = await self.service.ingest(message)
        await self._mark_joined(assembled)
        return web.json_response({"status": "ok", "ticket_number": result.ticket_number,
                                  "created": result.created, "threaded": result.threaded,
                                  "duplicate": result.duplicate})

    async def _assemble(self, mo: MobileOriginated) -> Assembled | None:
        """The whole message once every part of a concatenated SMS is here, else None.

        A phone reuses its UDH references (8 bits: 256 of them), so a stored part in the same slot
        (phone, reference, sequence number) with other text belongs to an older message and is
        replaced, and parts older than PART_MAX_AGE are dropped. Parts stay until the message is
        accepted (:meth:`_mark_joined`), so a retry after a failed intake assembles the same message.
        """
        if mo.udh is None or mo.udh.total == 1:
            return Assembled(mo.text, mo.id)
        now = self.service.now()
        same_ref = (sms_parts.c.sender == mo.sender, sms_parts.c.ref == mo.udh.ref)
        async with self.service.engine.begin() as conn:
            await conn.execute(sa.delete(sms_parts).where(sms_parts.c.created_at < now - PART_MAX_AGE))
            slot = (await conn.execute(sa.select(sms_parts).where(
                *same_ref, sms_parts.c.seq == mo.udh.seq))).first()
            if slot is not None and slot.text != mo.text:
                await conn.execute(sa.delete(sms_parts).where(sms_parts.c.id == slot.id))
                slot = None
            if slot is not None and slot.total == JOINED:  # the gateway retries a part of an accepted message
                joined = (await conn.execute(sa.select(sms_parts).where(
                    *same_ref, sms_parts.c.total == JOINED))).all()
                text = segments.join({r.seq: r.text for r in joined if r.created_at == slot.created_at})
                return Assembled(text, _long_id(mo, slot.created_at))
            if slot is None:
                await conn.execute(insert_ignore(conn, sms_parts).values(
                    sender=mo.sender, ref=mo.udh.ref, seq=mo.udh.seq, total=mo.udh.total, text=mo.text,
                    created_at=now).on_conflict_do_nothing())
            rows = (await conn.execute(sa.select(sms_parts).where(
                *same_ref, sms_parts.c.total == mo.udh.total))).all()
        if len(rows) < mo.udh.total:
            return None
        stamp = min(r.created_at for r in rows)
        return Assembled(segments.join({r.seq: r.text for r in rows}), _long_id(mo, stamp),
                         tuple(r.id for r in rows), stamp)

    async def _mark_joined(self, assembled: Assembled) -> None:
        """After intake accepted a long SMS: its parts no longer complete anything, but retries still dedupe."""
        if not assembled.part_ids:
            return
        async with self.service.engine.begin() as conn:
            await conn.execute(sa.update(sms_parts).where(sms_parts.c.id.in_(assembled.part_ids))
                               .values(total=JOINED, created_at=assembled.stamp))

    async def _rate(self, message: InboundMessage, satisfaction: str) -> dict | None:
        """Record a satisfaction reply on the ticket of the latest unanswered callback SMS to this phone."""
        since = self.service.now() - dt.timedelta(days=self.settings.callback_valid_days)
        async with self.service.engine.connect() as conn:
            row = (await conn.execute(
                sa.select(sms_outbound.c.id, sms_outbound.c.ticket_number)
                .where(sms_outbound.c.phone == message.sender.value, sms_outbound.c.kind == "callback",
                       sms_outbound.c.ticket_number.is_not(None), sms_outbound.c.answered_at.is_(None),
                       sms_outbound.c.created_at >= since)
                .order_by(sms_outbound.c.id.desc()).limit(1))).first()
        if row is None:
            return None
        number = row.ticket_number
        # Stored first (once, even when the gateway retries); the callback is marked answered only after
        # the rating is on the ticket, so a retry after a failure in between records it then.
        await intake.ingest(self.service, message.model_copy(update={"thread_hint": number}), create_ticket=False)
        ticket = await self.service.get_ticket_by_number(number)
        action = "callback" if ticket and ticket["state"] == "replied" else "rate"
        try:
            await self.service.transition(number, action, CITIZEN, {"satisfaction": satisfaction})
        except TransitionError as exc:
            log.warning("sms satisfaction for %s not recorded: %s", number, exc.message)
            return {"status": "rating_refused", "ticket_number": number}
        async with self.service.engine.begin() as conn:
            await conn.execute(sa.update(sms_outbound).where(sms_outbound.c.id == row.id)
                               .values(answered_at=self.service.now(), updated_at=self.service.now()))
        self._background(self.send(OutboundMessage(
            channel=self.name, recipient=message.sender, ticket_number=number, external_id=f"thanks:{message.external_id}",
            text=f"感谢您对工单{number}的评价（{satisfaction}）。【12345政务服务便民热线】")))
        return {"status": "rated", "ticket_number": number, "satisfaction": satisfaction}

    def _background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- receipts ------------------------------------------------------------------------------

    @webhook(_ack)
    async def receipt(self, request: web.Request) -> web.Response:
        """A delivery receipt for one of our messages."""
        data = await self._verified_json(request)
        receipt = dispatch_event(self.name, RECEIPT_TYPES, payload_type(data), data)
        where = sms_outbound.c.gateway_id == receipt.id
        if receipt.ref:
            where = sa.or_(where, sms_outbound.c.client_ref == receipt.ref)
        async with self.service.engine.begin() as conn:
            result = await conn.execute(sa.update(sms_outbound).where(where).values(
                status=RECEIPT_STATES[receipt.status], error=receipt.error_code, updated_at=self.service.now()))
        if result.rowcount == 0:
            log.warning("sms receipt for unknown message %s", receipt.id)
            return web.json_response({"status": "ignored", "reason": "unknown_message"})
        return web.json_response({"status": "ok"})

    # -- outbound ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send through the gateway (idempotent on ``external_id``); ``template="callback"`` marks a callback SMS."""
        if message.recipient.kind != "phone":
            return SendResult(ok=False, error="recipient_not_phone")
        try:
            phone = normalize_phone(message.recipient.value)
        except InvalidPhone:
            return SendResult(ok=False, error="invalid_phone")
        ref = message.external_id or uuid.uuid4().hex
        parts = segments.split(message.text)
        now = self.service.now()
        async with self.service.engine.begin() as conn:
            new = (await conn.execute(insert_ignore(conn, sms_outbound).values(
                client_ref=ref, phone=phone, ticket_number=message.ticket_number,
                kind="callback" if message.template == "callback" else "notice", text=message.text,
                segments=len(parts), status="pending", attempts=0, created_at=now, updated_at=now,
            ).on_conflict_do_nothing().returning(sms_outbound.c.id))).scalar()
            if new is None:
                existing = (await conn.execute(sa.select(sms_outbound).where(sms_outbound.c.client_ref == ref))).one()
                if existing.status in ("sent", "delivered"):
                    return SendResult(ok=True, external_id=existing.gateway_id)
        client = GatewayClient(self.deps.http, self.settings)
        try:
            gateway_id, attempts = await client.send(ref, phone, parts)
        except GatewayError as exc:
            await self._mark(ref, status="failed", error=str(exc)[:200], attempts=getattr(exc, "attempts", 1))
            return SendResult(ok=False, error=str(exc), retryable=exc.retryable)
        # A delivery receipt may have come in while we waited for the gateway's answer: keep it.
        await self._mark(ref, status=sa.case((sms_outbound.c.status == "delivered", "delivered"), else_="sent"),
                         gateway_id=gateway_id, attempts=attempts)
        return SendResult(ok=True, external_id=gateway_id)

    async def _mark(self, ref: str, **values) -> None:
        async with self.service.engine.begin() as conn:
            await conn.execute(sa.update(sms_outbound).where(sms_outbound.c.client_ref == ref)
                               .values(updated_at=self.service.now(), **values))
