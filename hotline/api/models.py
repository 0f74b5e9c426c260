"""Request bodies of the REST API, validated once at the edge (unknown fields are errors)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hotline.lifecycle import ACTION_LABELS, ACTIONS, REQUEST_TYPES
from hotline.messages import INTAKE_LINES
from hotline.users import (PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_MAX_LENGTH, USERNAME_PATTERN,
                           check_password, check_username)

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
    # false: no automatic dispatch even when the router is confident (the agent answers it directly)
    auto_dispatch: bool = True


class TransitionIn(Strict):
    action: str = Field(json_schema_extra={"enum": sorted(ACTIONS)})

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str) -> str:
        if value not in ACTIONS:  # named the way staff know them: 派单(dispatch) …
            known = "、".join(f"{ACTION_LABELS.get(a, a)}({a})" for a in sorted(ACTIONS))
            raise ValueError(f"未知操作 {value[:40]}（可用：{known}）")
        return value
    params: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, description="expected ticket version (optimistic locking)")


class UserIn(Strict):
    # Checked by hotline.users (the CLI's rules and messages); the schema only documents them.
    username: str = Field(json_schema_extra={"minLength": 1, "maxLength": USERNAME_MAX_LENGTH,
                                             "pattern": USERNAME_PATTERN})
    role: Literal["agent", "dispatcher", "unit", "leader", "admin"]
    unit: str | None = None
    password: str | None = Field(default=None, json_schema_extra={"minLength": PASSWORD_MIN_LENGTH,
                                                                  "maxLength": PASSWORD_MAX_LENGTH})
    display_name: str | None = Field(default=None, max_length=100)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        return check_username(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        return check_password(value)


class LinkIn(Strict):
    kind: Literal["duplicate-of", "related"]
    number: str = Field(min_length=13, max_length=20)
