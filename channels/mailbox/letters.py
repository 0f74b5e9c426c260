"""Letters: validate once at the edge, check the anti-abuse rules, hand to the core, hand out a query code."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass
from typing import Literal

import pydantic
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from channels.mailbox import security
from channels.mailbox.settings import MailboxSettings
from channels.tables_mail import mail_letters
from hotline.identity import InvalidPhone, normalize_phone
from hotline.lifecycle import REQUEST_TYPES
from hotline.messages import Attachment, Identity, InboundMessage
from hotline.tables import tickets
from hotline.validation import error_text

LABELS = {"name": "姓名", "phone": "手机号码", "email": "电子邮箱", "subject": "标题", "text": "信件内容",
          "request_type": "诉求类型", "publishable": "是否公开", "attachments": "附件"}
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class LetterIn(BaseModel):
    """A letter as submitted, validated once (HTML form or JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=5, max_length=20)
    email: str | None = Field(default=None, max_length=200)
    subject: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=5, max_length=20000)
    request_type: Literal[REQUEST_TYPES] = "求助"  # type: ignore[valid-type]
    publishable: bool = False
    attachments: tuple[Attachment, ...] = ()

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        try:
            return normalize_phone(value)
        except InvalidPhone:
            raise ValueError("无法识别的电话号码") from None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not EMAIL_RE.match(value):
            raise ValueError("邮箱格式不正确")
        return value.lower()


class LetterError(Exception):
    """A refused submission or query: ``status`` for the page/JSON, ``code`` for JSON errors."""

    def __init__(self, status: int, code: str, message: str | list[str]) -> None:
        self.messages = [message] if isinstance(message, str) else list(message)
        super().__init__("；".join(self.messages))
        self.status, self.code, self.message = status, code, "；".join(self.messages)


def validation_messages(exc: pydantic.ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err.get("loc") else ""
        label = LABELS.get(field, field)
        kind = err.get("type", "")
        if kind in ("missing", "string_too_short"):
            msg = "请填写" if kind == "missing" or not err.get("ctx", {}).get("min_length", 1) > 1 else \
                f"至少 {err['ctx']['min_length']} 个字"
        elif kind == "string_too_long":
            msg = f"不能超过 {err['ctx']['max_length']} 个字"
        elif kind == "literal_error":
            msg = "请从列表中选择"
        else:
            msg = error_text(err)  # the shared Chinese wording (our validators' own messages included)
        out.append(f"{label}：{msg}")
    return out


def parse_letter(data: dict, settings: MailboxSettings) -> LetterIn:
    try:
        letter = LetterIn.model_validate(data)
    except pydantic.ValidationError as exc:
        raise LetterError(400, "invalid_params", validation_messages(exc)) from None
    if len(letter.text) > settings.max_text_chars:
        raise LetterError(400, "invalid_params", f"信件内容：不能超过 {settings.max_text_chars} 个字")
    return letter


def check_attachment(settings: MailboxSettings, filename: str, content_type: str, size: int, count: int) -> None:
    if count >= settings.max_attachments:
        raise LetterError(400, "too_many_attachments", f"附件：最多 {settings.max_attachments} 个")
    if size > settings.max_attachment_bytes:
        raise LetterError(413, "too_large",
                          f"附件「{filename}」超过 {settings.max_attachment_bytes // 1024 // 1024} MB")
    if content_type not in settings.attachment_types:
        raise LetterError(415, "unsupported_media_type", f"附件「{filename}」的文件类型不支持（仅限图片、PDF、Word）")


@dataclass(frozen=True)
class Submitted:
    number: str
    code: str | None  # None: the same form was submitted before; the code was shown then


async def submit(service, settings: MailboxSettings, secret: str, letter: LetterIn, *, nonce: str | None,
                 csrf: str | None, answer: str | None, ip: str) -> Submitted:
    """Check token, challenge and rate limits, then create the ticket and the letter."""
    now = service.now()
    problem: security.TokenProblem | None = None
    async with service.engine.begin() as conn:
        if nonce:
            earlier = (await conn.execute(sa.select(mail_letters.c.number).where(
                mail_letters.c.form_nonce == f"form:{nonce}"))).first()
            if earlier is not None and csrf and hmac.compare_digest(security.csrf_for(secret, nonce), csrf):
                return Submitted(earlier.number, None)
        try:
            await security.check_token(conn, secret, nonce, csrf, answer, now,
                                       dt.timedelta(minutes=settings.token_ttl_minutes))
        except security.TokenProblem as exc:
            problem = exc  # committed below: a wrong answer burns the token
        refusal = None
        if problem is None:
            if await security.hits(conn, f"ip:{ip}", now - dt.timedelta(hours=1)) >= settings.ip_letters_per_hour:
                refusal = LetterError(429, "too_many_requests", "提交过于频繁，请一小时后再试。")
            else:
                await security.hit(conn, f"ip:{ip}", now)  # every genuine attempt counts for its IP
                if await security.hits(conn, f"phone:{letter.phone}", now - dt.timedelta(days=1)) \
                        >= settings.phone_letters_per_day:
                    refusal = LetterError(429, "too_many_requests", "该手机号码今日提交的信件已达上限，请明日再试。")
    if refusal is not None:
        raise refusal
    if problem is not None:
        status = 403 if problem.kind == "csrf" else 400
        raise LetterError(status, "csrf_failed" if problem.kind == "csrf" else "challenge_failed", problem.message)

    return await create_letter(service, secret, letter, key=f"form:{nonce}", nonce=nonce,
                               code=security.new_code(), count_phone=True)


async def create_letter(service, secret: str, letter: LetterIn, *, key: str, code: str, nonce: str | None = None,
                        count_phone: bool = False) -> Submitted:
    """The ticket (idempotent on ``key``) and the letter row with its query code."""
    now = service.now()
    others = (Identity(kind="email", value=letter.email),) if letter.email else ()
    result = await service.ingest(InboundMessage(
        channel="mailbox", external_id=f"letter:{key}", sender=Identity(kind="phone", value=letter.phone),
        other_identities=others, sender_name=letter.name, text=letter.text, subject=letter.subject,
        attachments=letter.attachments, received_at=now, intake_line="mayor", request_type=letter.request_type,
        meta={"mailbox": {"publishable": letter.publishable}},
    ))
    async with service.engine.begin() as conn:
        earlier = (await conn.execute(sa.select(mail_letters.c.number).where(
            mail_letters.c.form_nonce == key))).first()
        if earlier is not None:
            return Submitted(earlier.number, None)
        if nonce is not None and not await security.use_token(conn, nonce, now):
            raise LetterError(409, "conflict", "该信件正在提交或已提交，请勿重复提交。")
        await conn.execute(sa.insert(mail_letters).values(
            ticket_id=result.ticket_id, number=result.ticket_number,
            code_hash=security.code_hash(secret, result.ticket_number, code), form_nonce=key,
            publishable=letter.publishable, created_at=now))
        if letter.publishable:
            await conn.execute(sa.update(tickets).where(tickets.c.id == result.ticket_id).values(publishable=True))
        if count_phone:
            await security.hit(conn, f"phone:{letter.phone}", now)
    return Submitted(result.ticket_number, code)


async def query(service, settings: MailboxSettings, secret: str, number: str, code: str, ip: str) -> dict:
    """The ticket behind a letter, only for its number together with its query code."""
    now = service.now()
    number, code = (number or "").strip(), (code or "").strip()
    async with service.engine.begin() as conn:
        key = f"query:{ip}"
        if await security.hits(conn, key, now - dt.timedelta(hours=1)) >= settings.ip_failed_queries_per_hour:
            raise LetterError(429, "too_many_requests", "查询失败次数过多，请一小时后再试。")
        rows = (await conn.execute(sa.select(mail_letters.c.code_hash).where(
            mail_letters.c.number == number[:20]))).all() if number and code else []
        wanted = security.code_hash(secret, number, code)
        if not any(hmac.compare_digest(wanted, r.code_hash) for r in rows):
            await security.hit(conn, key, now)
            found = False
        else:
            found = True
    if not found:
        raise LetterError(404, "not_found", "信件编号或查询码不正确。")
    ticket = await service.get_ticket_by_number(number)
    if ticket is None:
        raise LetterError(404, "not_found", "信件编号或查询码不正确。")
    return ticket
