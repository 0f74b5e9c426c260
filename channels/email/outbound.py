"""Outbound mail: Message-ID/In-Reply-To/References so citizens' replies thread, sent by aiosmtplib.

Every sent mail is recorded as an outbound ``ticket_messages`` row whose
``external_id`` is its Message-ID: a citizen's reply carrying it in
In-Reply-To/References joins the ticket (see :func:`hotline.intake.ingest`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from email.message import EmailMessage
from email.utils import formataddr, format_datetime

import aiosmtplib
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.email.settings import EmailSettings
from hotline.db import insert_ignore
from hotline.messages import OutboundMessage
from hotline.tables import ticket_messages, tickets

FOOTER = "\n\n——\n如需补充材料，请直接回复本邮件，并保留主题中的工单号。\n本邮件由12345政务服务便民热线系统发送。"


def new_message_id(settings: EmailSettings, key: str | None = None) -> str:
    """A Message-ID (without angle brackets); deterministic when ``key`` (an idempotency key) is given."""
    local = hashlib.sha256(key.encode()).hexdigest()[:32] if key else uuid.uuid4().hex
    return f"hotline.{local}@{settings.message_id_domain}"


def subject_for(message: OutboundMessage) -> str:
    subject = message.subject or "关于您反映的诉求"
    if message.ticket_number and message.ticket_number not in subject:
        subject = f"{subject}（工单号 {message.ticket_number}）"
    return subject


def build_mail(settings: EmailSettings, message: OutboundMessage, message_id: str, now: dt.datetime,
               references: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((settings.display_name, settings.address))
    mail["To"] = message.recipient.value
    mail["Subject"] = subject_for(message)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{message_id}>"
    parent = message.in_reply_to or (references[-1] if references else None)
    if parent:
        mail["In-Reply-To"] = f"<{parent}>"
        refs = [r for r in references if r != parent] + [parent]
        mail["References"] = " ".join(f"<{r}>" for r in refs[-10:])
    if message.ticket_number:
        mail["X-Hotline-Ticket"] = message.ticket_number
    mail.set_content(message.text + FOOTER, charset="utf-8")
    return mail


async def thread_ids(engine: AsyncEngine, ticket_number: str | None) -> tuple[int | None, list[str]]:
    """The ticket's id and the Message-IDs of its e-mail conversation, oldest first."""
    if not ticket_number:
        return None, []
    async with engine.connect() as conn:
        ticket_id = (await conn.execute(sa.select(tickets.c.id).where(tickets.c.number == ticket_number))).scalar()
        if ticket_id is None:
            return None, []
        rows = await conn.execute(sa.select(ticket_messages.c.external_id).where(
            ticket_messages.c.ticket_id == ticket_id, ticket_messages.c.channel.in_(["email", "mailbox"]),
            ticket_messages.c.external_id.is_not(None)).order_by(ticket_messages.c.id))
        ids = [r.external_id for r in rows if "@" in r.external_id and not r.external_id.startswith("sha256:")]
    return ticket_id, ids


async def already_sent(engine: AsyncEngine, message_id: str) -> bool:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(ticket_messages.c.id).where(
            ticket_messages.c.channel == "email", ticket_messages.c.external_id == message_id))).first() is not None


async def record_outbound(engine: AsyncEngine, ticket_id: int | None, message_id: str, message: OutboundMessage,
                          now: dt.datetime) -> None:
    """Remember a sent mail so replies to it thread into the ticket."""
    async with engine.begin() as conn:
        await conn.execute(insert_ignore(conn, ticket_messages).values(
            ticket_id=ticket_id, direction="out", channel="email", external_id=message_id,
            author="system", text=message.text, attachments=[],
            meta={"email": {"to": message.recipient.value, "subject": subject_for(message)}},
            created_at=now).on_conflict_do_nothing())


async def smtp_send(settings: EmailSettings, mail: EmailMessage) -> None:
    await aiosmtplib.send(
        mail, hostname=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
        password=settings.smtp_password, start_tls=settings.smtp_starttls, use_tls=settings.smtp_tls,
        timeout=settings.smtp_timeout)
