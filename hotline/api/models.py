"""Request bodies of the REST API, validated once at the edge (unknown fields are errors)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.lifecycle import ACTIONS, REQUEST_TYPES
from hotline.messages import INTAKE_LINES

CHANNELS = ("phone", "wechat", "sms", "email", "mailbox", "telegram", "web", "open311", "walk-in")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class CitizenIn(Strict):
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    wechat_openid: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=200)
    telegram_id: str | None = Field(default=None, max_length=50)


class TicketIn(Strict):
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    text: str = Field(min_length=1, max_length=20000)
    request_type: Literal[REQUEST_TYPES] | None = None  # type: ignore[valid-type]  # None: the router's
    intake_line: Literal[INTAKE_LINES] = "12345"  # type: ignore[valid-type]
    title: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=50)
    district: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    publishable: bool = False
    citizen: CitizenIn | None = None


class TransitionIn(Strict):
    action: Literal[tuple(sorted(ACTIONS))]  # type: ignore[valid-type]
    params: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, description="expected ticket version (optimistic locking)")


class UserIn(Strict):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["agent", "dispatcher", "unit", "leader", "admin"]
    unit: str | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)
    display_name: str | None = Field(default=None, max_length=100)


class LinkIn(Strict):
    kind: Literal["duplicate-of", "related"]
    number: str = Field(min_length=13, max_length=20)
