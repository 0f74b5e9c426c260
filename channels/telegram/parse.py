"""Telegram updates -> what the bot should do: pure functions, one per update type.

The raw JSON is validated once into aiogram's frozen ``Update`` model; the
table :data:`PARSERS` maps the update's type to a parser returning a
:class:`BotRequest` (a citizen's message or a command). Other update types
(``my_chat_member``, ``poll``...) raise ``UnknownEventType`` and are acknowledged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from aiogram.types import CallbackQuery, Message, Update

from channels.base import MalformedPayload, dispatch_event
from hotline.lifecycle import SATISFACTION_ANSWERS
from hotline.messages import Attachment, Identity, InboundMessage, Location

NUMBER = re.compile(r"^\d{13}$")


@dataclass(frozen=True)
class BotRequest:
    """What one update asks for: ``kind`` is submit | query | rate | help."""

    kind: str
    chat_id: int
    user_id: str
    inbound: InboundMessage | None = None
    number: str | None = None
    satisfaction: str | None = None
    callback_id: str | None = None
    error: str | None = None


def validate_update(data: Any) -> Update:
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise MalformedPayload("不是有效的 Telegram update")
    try:
        return Update.model_validate(data)
    except pydantic.ValidationError as exc:
        raise MalformedPayload(f"Telegram update 格式错误：{exc.errors()[0].get('msg')}") from None


def update_type(update: Update) -> str:
    for name, value in update:
        if name != "update_id" and value is not None:
            return name
    return "empty"


def _inbound(msg: Message, text: str, *, conversation: bool) -> InboundMessage:
    user = msg.from_user
    name = " ".join(p for p in (user.first_name, user.last_name) if p) if user else None
    attachments = []
    if msg.photo:
        best = msg.photo[-1]
        attachments.append(Attachment(filename=f"photo_{best.file_unique_id}.jpg", content_type="image/jpeg",
                                      url=f"telegram:file:{best.file_id}", size=best.file_size))
    if msg.document:
        doc = msg.document
        attachments.append(Attachment(filename=(doc.file_name or "document")[:300],
                                      content_type=doc.mime_type or "application/octet-stream",
                                      url=f"telegram:file:{doc.file_id}", size=doc.file_size))
    location = Location(latitude=msg.location.latitude, longitude=msg.location.longitude) if msg.location else None
    received = msg.date if msg.date.tzinfo else msg.date.replace(tzinfo=dt.timezone.utc)
    return InboundMessage(
        channel="telegram", external_id=f"msg:{msg.chat.id}:{msg.message_id}",
        sender=Identity(kind="telegram", value=str(user.id if user else msg.chat.id)), sender_name=name,
        text=text, attachments=tuple(attachments), location=location, received_at=received,
        thread_hint=f"tg:{msg.chat.id}" if conversation else None,
        meta={"telegram": {"chat_id": msg.chat.id, "message_id": msg.message_id,
                           "language": user.language_code if user else None}},
    )


def _message(payload: Mapping[str, Any]) -> BotRequest:
    msg: Message = payload["update"].message
    if msg.chat.type != "private":
        return BotRequest("help", msg.chat.id, str(msg.chat.id), error="请私聊本机器人提交诉求。")
    user_id = str(msg.from_user.id if msg.from_user else msg.chat.id)
    text = (msg.text or msg.caption or "").strip()
    command, _, rest = text.partition(" ")
    command = command.split("@", 1)[0].lower() if command.startswith("/") else ""
    rest = rest.strip()
    if command in ("/start", "/help"):
        return BotRequest("help", msg.chat.id, user_id)
    if command == "/query":
        if not NUMBER.match(rest):
            return BotRequest("help", msg.chat.id, user_id, error="请输入13位工单号，例如：/query 2026112300001")
        return BotRequest("query", msg.chat.id, user_id, number=rest)
    if command == "/rate":
        number, _, word = rest.partition(" ")
        satisfaction = SATISFACTION_ANSWERS.get(word.strip())
        if not NUMBER.match(number) or satisfaction is None:
            return BotRequest("help", msg.chat.id, user_id,
                              error="格式：/rate 工单号 满意|基本满意|不满意，例如：/rate 2026112300001 满意")
        return BotRequest("rate", msg.chat.id, user_id, number=number, satisfaction=satisfaction)
    if command == "/new":
        if not rest and not (msg.photo or msg.document or msg.location):
            return BotRequest("help", msg.chat.id, user_id, error="请在 /new 后写明您的诉求，例如：/new 我想咨询……")
        return BotRequest("submit", msg.chat.id, user_id, inbound=_inbound(msg, rest, conversation=False))
    if command:
        return BotRequest("help", msg.chat.id, user_id, error=f"未知命令 {command}")
    if not text and not (msg.photo or msg.document or msg.location):
        return BotRequest("help", msg.chat.id, user_id, error="暂不支持此类消息，请发送文字、图片或位置。")
    return BotRequest("submit", msg.chat.id, user_id, inbound=_inbound(msg, text, conversation=True))


def _callback(payload: Mapping[str, Any]) -> BotRequest:
    cb: CallbackQuery = payload["update"].callback_query
    chat_id = cb.message.chat.id if cb.message else cb.from_user.id
    kind, _, rest = (cb.data or "").partition(":")
    number, _, word = rest.partition(":")
    if kind != "rate" or not NUMBER.match(number) or word not in SATISFACTION_ANSWERS:
        return BotRequest("help", chat_id, str(cb.from_user.id), callback_id=cb.id, error="无法识别的操作")
    return BotRequest("rate", chat_id, str(cb.from_user.id), number=number, satisfaction=SATISFACTION_ANSWERS[word],
                      callback_id=cb.id)


PARSERS = {"message": _message, "callback_query": _callback}


def parse_update(data: Any) -> BotRequest:
    update = validate_update(data)
    return dispatch_event("telegram", PARSERS, update_type(update), {"update": update})
