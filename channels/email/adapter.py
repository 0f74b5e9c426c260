"""The e-mail channel adapter.

Inbound: the IMAP poller and the SMTP listener (started in :meth:`start` when
configured), and ``POST /channels/email/inbound`` for a mail gateway that
forwards raw RFC 822 mail (``X-Hotline-Signature``: hex HMAC-SHA256 of the
body). Outbound: :meth:`send` over SMTP, recorded so replies thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging

import aiosmtplib
from aiohttp import web

from channels.base import ChannelAdapter, SendResult, VerificationFailed, read_body, webhook
from channels.email import outbound
from channels.email.imap import ImapPoller
from channels.email.inbound import ingest_raw
from channels.email.settings import EmailSettings
from channels.email.smtp_listener import SmtpListener
from hotline.messages import OutboundMessage

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Hotline-Signature"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _ack(exc) -> web.Response:
    return web.json_response({"status": "ignored", "reason": exc.event_type})


class EmailAdapter(ChannelAdapter):
    name = "email"
    settings_class = EmailSettings
    settings: EmailSettings

    def __init__(self, deps, settings: EmailSettings | None = None) -> None:
        super().__init__(deps, settings)
        self._poller_task: asyncio.Task | None = None
        self._poller: ImapPoller | None = None
        self._listener: SmtpListener | None = None

    @classmethod
    def is_configured(cls, settings: EmailSettings) -> bool:
        return bool(settings.smtp_host or settings.imap_host or settings.listen_port or settings.webhook_secret)

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/channels/email/inbound", webhook(_ack)(self.inbound))

    async def inbound(self, request: web.Request) -> web.Response:
        """A raw RFC 822 mail forwarded by a mail gateway."""
        secret = self.settings.webhook_secret
        given = request.headers.get(SIGNATURE_HEADER, "")
        body = await read_body(request, self.settings.max_message_bytes)
        if not secret or not hmac.compare_digest(sign(secret, body), given):
            raise VerificationFailed("邮件网关签名校验失败")
        result = await ingest_raw(body, self.settings, self.deps.service)
        return web.json_response({"ticket_number": result.ticket_number, "created": result.created,
                                  "threaded": result.threaded, "duplicate": result.duplicate})

    async def start(self) -> None:
        s = self.settings
        if s.imap_host:
            self._poller = ImapPoller(s, self.deps.service)
            self._poller_task = asyncio.create_task(self._poller.run(), name="email-imap-poller")
        if s.listen_port:
            self._listener = SmtpListener(s, self.deps.service)
            await self._listener.start()

    async def stop(self) -> None:
        if self._poller_task is not None:
            self._poller_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller_task
            await self._poller.close()
            self._poller_task = None
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None

    async def send(self, message: OutboundMessage) -> SendResult:
        s = self.settings
        if message.recipient.kind != "email":
            return SendResult(ok=False, error=f"e-mail cannot reach a {message.recipient.kind} identity")
        if not s.smtp_host:
            return SendResult(ok=False, error="SMTP not configured")
        engine = self.deps.service.engine
        message_id = outbound.new_message_id(s, message.external_id)
        if message.external_id and await outbound.already_sent(engine, message_id):
            return SendResult(ok=True, external_id=message_id)
        ticket_id, refs = await outbound.thread_ids(engine, message.ticket_number)
        now = self.deps.service.now()
        mail = outbound.build_mail(s, message, message_id, now, refs)
        try:
            await outbound.smtp_send(s, mail)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return SendResult(ok=False, error=f"recipient refused: {exc}")
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            log.warning("smtp send to %s failed: %s", message.recipient.value, exc)
            return SendResult(ok=False, error=str(exc) or type(exc).__name__, retryable=True)
        await outbound.record_outbound(engine, ticket_id, message_id, message, now)
        return SendResult(ok=True, external_id=message_id)
