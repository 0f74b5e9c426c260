"""The SMS gateway's JSON payloads -> frozen models; one small function per payload type."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channels.base import MalformedPayload, dispatch_event
from hotline.identity import InvalidPhone, normalize_phone

CHANNEL = "sms"


class Udh(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    ref: str = Field(min_length=1, max_length=50)
    total: int = Field(ge=1, le=20)
    seq: int = Field(ge=1, le=20)


class MobileOriginated(BaseModel):
    """One inbound SMS (or one part of a concatenated one)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)
    id: str = Field(min_length=1, max_length=100)
    sender: str = Field(alias="from", min_length=3, max_length=30)
    to: str = Field(min_length=3, max_length=30)
    text: str = Field(max_length=2000)
    received_at: dt.datetime
    udh: Udh | None = None


class Receipt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str = Field(min_length=1, max_length=100)
    ref: str | None = None
    status: str
    error_code: str | None = None


def _model(model: type[BaseModel], payload: Mapping) -> BaseModel:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise MalformedPayload(f"{where}：{first['msg']}") from None


def parse_mo(payload: Mapping) -> MobileOriginated:
    mo = _model(MobileOriginated, payload)
    if mo.received_at.tzinfo is None:
        raise MalformedPayload("received_at 必须带时区")
    try:
        phone = normalize_phone(mo.sender)
    except InvalidPhone as exc:
        raise MalformedPayload(str(exc)) from None
    if mo.udh and mo.udh.seq > mo.udh.total:
        raise MalformedPayload("udh.seq 大于 udh.total")
    return mo.model_copy(update={"sender": phone})


INBOUND_TYPES = {"mo": parse_mo}

# Gateway (CMPP-style) delivery states -> ours.
RECEIPT_STATES = {"DELIVRD": "delivered", "UNDELIV": "failed", "EXPIRED": "failed", "REJECTD": "failed",
                  "DELETED": "failed", "UNKNOWN": "failed"}


def parse_receipt(payload: Mapping) -> Receipt:
    receipt = _model(Receipt, payload)
    return dispatch_event(CHANNEL, {s: lambda _p, r=receipt: r for s in RECEIPT_STATES}, receipt.status, payload)


RECEIPT_TYPES = {"receipt": parse_receipt}


def load_json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"JSON 格式错误：{exc}") from None
    if not isinstance(data, dict):
        raise MalformedPayload("请求体必须是 JSON 对象")
    return data


def payload_type(data: Mapping) -> str:
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise MalformedPayload("缺少字段 type")
    return kind
