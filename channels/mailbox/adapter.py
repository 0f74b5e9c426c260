"""The mayor's mailbox channel adapter.

Its webhook is ``POST /channels/mailbox/letters``: letters forwarded by a
partner portal (e.g. the provincial government-service portal), a signed
JSON event ``{"type": "letter", "id": ..., ...}``. The public pages
(``/mailbox``...) and the review API are the plugin :mod:`channels.mailbox.pages`.

``send``: replies to a letter are shown on the query page (the core stored
them on the ticket); when the recipient is an e-mail address they are also
mailed through the e-mail channel's SMTP settings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from aiohttp import web

from channels.base import (ChannelAdapter, ChannelError, MalformedPayload, SendResult, VerificationFailed,
                           dispatch_event, error_json, read_body, webhook)
from channels.mailbox import letters, security
from channels.mailbox.settings import MailboxSettings
from channels.tables_mail import mail_letters
from hotline.messages import Attachment, OutboundMessage

TIMESTAMP_HEADER = "X-Mailbox-Timestamp"
SIGNATURE_HEADER = "X-Mailbox-Signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _letter_event(payload: Mapping[str, Any]) -> tuple[str, letters.LetterIn]:
    settings: MailboxSettings = payload["settings"]
    event = dict(payload["event"])
    event.pop("type", None)
    letter_id = str(event.pop("id", "") or "").strip()
    if not letter_id or len(letter_id) > 100:
        raise MalformedPayload("id：缺少来信编号")
    files = []
    raw_files = event.pop("attachments", []) or []
    if not isinstance(raw_files, list):
        raise MalformedPayload("attachments：必须是数组")
    for item in raw_files:
        try:
            data = base64.b64decode(item["data"], validate=True)
            name, ctype = str(item["filename"])[:300], str(item.get("content_type") or "application/octet-stream")
        except (KeyError, TypeError, ValueError):  # binascii.Error, and ValueError for non-ASCII data
            raise MalformedPayload("attachments：附件格式错误") from None
        letters.check_attachment(settings, name, ctype, len(data), len(files))
        files.append(Attachment(filename=name, content_type=ctype, data=data, size=len(data)))
    return letter_id, letters.parse_letter({**event, "attachments": files}, settings)


# Event types a partner portal sends; anything else is acknowledged and logged.
PARSERS = {"letter": _letter_event}


def _ack(exc) -> web.Response:
    return web.json_response({"status": "ignored", "reason": exc.event_type})


class MailboxAdapter(ChannelAdapter):
    name = "mailbox"
    acknowledges_intake = True
    settings_class = MailboxSettings
    settings: MailboxSettings

    @classmethod
    def is_configured(cls, settings: MailboxSettings) -> bool:
        return settings.enabled

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/channels/mailbox/letters", webhook(_ack)(self.partner_letter))

    def _verify(self, request: web.Request, body: bytes) -> None:
        secret = self.settings.partner_secret
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not secret or not stamp.isdigit() or not hmac.compare_digest(sign(secret, stamp, body), given):
            raise VerificationFailed("来信签名校验失败")
        if abs(time.time() - int(stamp)) > self.settings.partner_max_skew_seconds:
            raise VerificationFailed("来信时间戳已过期")

    async def partner_letter(self, request: web.Request) -> web.Response:
        """A letter forwarded by a partner portal; answers its number and query code."""
        body = await read_body(request, self.settings.max_request_bytes)
        self._verify(request, body)
        try:
            event = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedPayload("JSON 格式错误") from None
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedPayload("缺少 type 字段")
        try:
            letter_id, letter = dispatch_event(self.name, PARSERS, event["type"],
                                               {"event": event, "settings": self.settings})
            key = f"partner:{letter_id}"
            secret = self.deps.settings.secret_key
            code = security.derived_code(secret, key)
            done = await letters.create_letter(self.deps.service, secret, letter, key=key, code=code)
        except letters.LetterError as exc:
            err = ChannelError(exc.message)
            err.status, err.code = exc.status, exc.code
            return error_json(err)
        return web.json_response({"number": done.number, "code": code})

    async def send(self, message: OutboundMessage) -> SendResult:
        engine = self.deps.service.engine
        async with engine.connect() as conn:
            letter = (await conn.execute(sa.select(mail_letters.c.id).where(
                mail_letters.c.number == (message.ticket_number or "")))).first()
        if letter is None:
            return SendResult(ok=False, error=f"no mailbox letter {message.ticket_number}")
        if message.recipient.kind != "email":
            return SendResult(ok=True, external_id=f"letter:{message.ticket_number}")  # shown on the query page
        from channels.email.adapter import EmailAdapter
        from channels.email.settings import EmailSettings

        mailer = EmailAdapter(self.deps, self.deps.extras.get("email_settings") or EmailSettings())
        return await mailer.send(message.model_copy(update={"channel": "email"}))
