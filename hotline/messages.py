"""Normalised messages: the only thing channels hand to the core, and get back.

Channel adapters validate raw payloads once at the edge and produce these
frozen models; the core never sees a raw channel payload.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

IdentityKind = Literal["phone", "wechat", "email", "telegram", "web"]
INTAKE_LINES = ("12345", "12315", "12333", "12358", "12365", "12319", "12369", "mayor")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Identity(Frozen):
    """One way of reaching a citizen. Phone values are E.164 (+86...)."""

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=200)


class Attachment(Frozen):
    filename: str = Field(max_length=300)
    content_type: str = "application/octet-stream"
    data: bytes | None = None  # inline content (email, form upload)
    url: str | None = None     # or a link the channel provides (WeChat media, recordings)
    size: int | None = None


class Location(Frozen):
    latitude: float
    longitude: float
    label: str | None = None


class InboundMessage(Frozen):
    """A citizen's message as received on a channel.

    ``(channel, external_id)`` identifies it: the same message delivered twice
    is stored once and yields at most one ticket.
    """

    channel: str = Field(min_length=1, max_length=20)
    external_id: str = Field(min_length=1, max_length=200)
    sender: Identity
    other_identities: tuple[Identity, ...] = ()
    sender_name: str | None = None
    text: str = ""
    subject: str | None = None
    attachments: tuple[Attachment, ...] = ()
    location: Location | None = None
    # Where the problem is, in the citizen's words (a form's address field, the chatbot's "where" answer):
    # the ticket's address when the gazetteer finds none in the text.
    address: str | None = Field(default=None, max_length=200)
    # A phone number the citizen typed as their contact (the chatbot's "联系电话" answer): the ticket's
    # contact for notices and the callback, never an identity of theirs (nobody verified it).
    contact_phone: str | None = Field(default=None, max_length=40)
    received_at: dt.datetime
    # A hint for threading: a ticket number, an e-mail Message-ID being
    # replied to, or a conversation id of the channel.
    thread_hint: str | None = None
    reply_to: tuple[str, ...] = ()
    intake_line: str = "12345"
    request_type: str | None = None
    meta: dict = Field(default_factory=dict)

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        return value


class OutboundMessage(Frozen):
    """A message the platform sends to a citizen or a unit contact through a channel."""

    channel: str
    recipient: Identity
    text: str
    subject: str | None = None
    ticket_number: str | None = None
    in_reply_to: str | None = None        # channel message id being answered
    template: str | None = None           # e.g. WeChat template message name
    template_data: dict[str, str] = Field(default_factory=dict)
    external_id: str | None = None        # our own id, for idempotent sends
