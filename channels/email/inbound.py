"""A parsed mail -> the core's :class:`InboundMessage`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from channels.base import MalformedPayload, dispatch_event
from channels.email.kinds import mail_kind
from channels.email.mime import ParsedMail, parse_mail
from channels.email.settings import EmailSettings
from hotline.messages import Identity, InboundMessage


def to_inbound(mail: ParsedMail, settings: EmailSettings, received_at: dt.datetime, *,
               channel: str = "email") -> InboundMessage:
    mayor = settings.mayor_address and settings.mayor_address.lower() in mail.to
    references = tuple(dict.fromkeys(mail.in_reply_to + mail.references))
    # The conversation: the first mail of the thread (References starts with it), else this mail.
    thread = mail.references[0] if mail.references else (mail.in_reply_to[0] if mail.in_reply_to
                                                          else mail.message_id)
    return InboundMessage(
        channel=channel, external_id=mail.message_id, sender=Identity(kind="email", value=mail.from_address),
        sender_name=mail.from_name, text=mail.text, subject=mail.subject or None,
        attachments=mail.attachments, received_at=received_at, thread_hint=thread, reply_to=references,
        intake_line="mayor" if mayor else "12345",
        meta={"email": {"message_id": mail.message_id, "to": list(mail.to),
                        "date": mail.date.isoformat() if mail.date else None, "dropped": list(mail.dropped)}},
    )



def _message(payload: Mapping[str, Any]) -> InboundMessage:
    settings: EmailSettings = payload["settings"]
    mail = parse_mail(payload["raw"], max_bytes=settings.max_message_bytes,
                      max_attachment_bytes=settings.max_attachment_bytes, max_attachments=settings.max_attachments)
    return to_inbound(mail, settings, payload["received_at"], channel=payload.get("channel", "email"))


# Mail kinds with a parser; bounces, read receipts and auto-replies are acknowledged, never ticketed.
PARSERS = {"message": _message}


def parse_raw(raw: bytes, settings: EmailSettings, received_at: dt.datetime, *, channel: str = "email") -> InboundMessage:
    """Raw mail -> InboundMessage; raises MalformedPayload or UnknownEventType (bounce, auto-reply)."""
    if len(raw) > settings.max_message_bytes:
        raise MalformedPayload(f"邮件超过 {settings.max_message_bytes // 1024 // 1024} MB")
    payload = {"raw": raw, "settings": settings, "received_at": received_at, "channel": channel}
    return dispatch_event("email", PARSERS, mail_kind(raw), payload)


async def ingest_raw(raw: bytes, settings: EmailSettings, service, *, channel: str = "email"):
    """Parse raw mail once at the edge and hand it to the core; returns the core's IntakeResult."""
    return await service.ingest(parse_raw(raw, settings, service.now(), channel=channel))
