"""WeChat payload dict -> normalised message or event: one small pure function per type.

``MESSAGE_TYPES`` maps ``MsgType`` and ``EVENT_TYPES`` maps ``Event`` to the
function that parses it; anything else is an :class:`UnknownEventType`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from channels.base import MalformedPayload, dispatch_event
from hotline.lifecycle import SATISFACTION_ANSWERS
from hotline.messages import Attachment, Identity, InboundMessage, Location

CHANNEL = "wechat"
TICKET_NUMBER = r"(20\d{2}[01]\d[0-3]\d\d{5})"


@dataclass(frozen=True)
class WechatEvent:
    """A non-message push: subscribe, menu click, ..."""

    kind: str
    openid: str
    account: str
    create_time: str
    key: str = ""


def _required(payload: Mapping, key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"缺少字段 {key}")
    return value


def received_at(payload: Mapping) -> dt.datetime:
    raw = _required(payload, "CreateTime")
    if not raw.isdigit():
        raise MalformedPayload("CreateTime 必须是 Unix 时间戳")
    return dt.datetime.fromtimestamp(int(raw), dt.timezone.utc)


def _message(payload: Mapping, **fields) -> InboundMessage:
    openid = _required(payload, "FromUserName")
    return InboundMessage(
        channel=CHANNEL, external_id=_required(payload, "MsgId"), sender=Identity(kind="wechat", value=openid),
        received_at=received_at(payload), meta={"thread": f"wx:{openid}", "account": payload.get("ToUserName")},
        **fields)


def parse_text(payload: Mapping) -> InboundMessage:
    return _message(payload, text=_required(payload, "Content"))


def parse_voice(payload: Mapping) -> InboundMessage:
    media = _required(payload, "MediaId")
    text = (payload.get("Recognition") or "").strip()
    voice = Attachment(filename=f"{media}.{payload.get('Format') or 'amr'}", content_type="audio/amr",
                       url=f"wechat-media:{media}")
    # Without recognised text a voice message is a supplement to the open conversation.
    hint = None if text else f"wx:{payload.get('FromUserName')}"
    return _message(payload, text=text, attachments=(voice,), thread_hint=hint)


def parse_image(payload: Mapping) -> InboundMessage:
    media = _required(payload, "MediaId")
    image = Attachment(filename=f"{media}.jpg", content_type="image/jpeg", url=payload.get("PicUrl") or None)
    return _message(payload, attachments=(image,), thread_hint=f"wx:{payload.get('FromUserName')}")


def parse_location(payload: Mapping) -> InboundMessage:
    try:
        lat, lng = float(_required(payload, "Location_X")), float(_required(payload, "Location_Y"))
    except ValueError:
        raise MalformedPayload("Location_X/Location_Y 必须是数字") from None
    where = Location(latitude=lat, longitude=lng, label=payload.get("Label") or None)
    return _message(payload, location=where, thread_hint=f"wx:{payload.get('FromUserName')}")


def _event(kind: str):
    def parse(payload: Mapping) -> WechatEvent:
        key = payload.get("EventKey")
        return WechatEvent(kind=kind, openid=_required(payload, "FromUserName"),
                           account=payload.get("ToUserName") or "", create_time=_required(payload, "CreateTime"),
                           key=key if isinstance(key, str) else "")
    return parse


EVENT_TYPES = {
    "subscribe": _event("subscribe"),
    "unsubscribe": _event("unsubscribe"),
    "CLICK": _event("menu"),
    "VIEW": _event("view"),
    "LOCATION": _event("location_report"),
    "SCAN": _event("scan"),
}


def parse_event(payload: Mapping) -> WechatEvent:
    return dispatch_event(CHANNEL, EVENT_TYPES, _required(payload, "Event"), payload)


MESSAGE_TYPES = {
    "text": parse_text,
    "voice": parse_voice,
    "image": parse_image,
    "location": parse_location,
    "event": parse_event,
}


def parse(payload: Mapping) -> InboundMessage | WechatEvent:
    """The one entry point: a parsed XML dict -> InboundMessage or WechatEvent."""
    return dispatch_event(CHANNEL, MESSAGE_TYPES, _required(payload, "MsgType"), payload)


def dedupe_key(payload: Mapping) -> str:
    """WeChat retries carry the same MsgId; events are keyed by FromUserName + CreateTime."""
    if payload.get("MsgId"):
        return f"msg:{payload['MsgId']}"
    return f"event:{payload.get('FromUserName')}:{payload.get('CreateTime')}"


_PROGRESS = re.compile(rf"^\s*(?:查询|进度|查询进度|查进度)?\s*[:：]?\s*{TICKET_NUMBER}\s*$")
_RATE = re.compile(rf"^\s*(?:评价)?\s*[:：]?\s*{TICKET_NUMBER}\s*[,，:：]?\s*(基本满意|不满意|满意|[123])\s*$")


def classify_text(text: str) -> tuple[str, str | None, str | None]:
    """("progress", number, None) | ("rate", number, satisfaction) | ("submit", None, None)."""
    if m := _RATE.match(text):
        return "rate", m.group(1), SATISFACTION_ANSWERS[m.group(2)]
    if m := _PROGRESS.match(text):
        return "progress", m.group(1), None
    return "submit", None, None
