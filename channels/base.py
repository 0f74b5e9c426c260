"""The contract every channel adapter implements.

An adapter turns its channel's raw payloads into :class:`hotline.messages.InboundMessage`
(validated once, at the edge) and sends :class:`hotline.messages.OutboundMessage`
back. Inside an adapter an explicit table maps event/message types to small pure
parsing functions; an unknown type raises :class:`UnknownEventType`, which the
webhook acknowledges (as the platform expects) and logs instead of crashing.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from hotline.messages import InboundMessage, OutboundMessage


class ChannelError(Exception):
    """Base for channel errors; ``status`` is the HTTP status a webhook answers with."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VerificationFailed(ChannelError):
    """Signature, token or timestamp check failed: the request is not from the channel."""

    status = 401
    code = "verification_failed"


class MalformedPayload(ChannelError):
    """The payload could not be parsed (bad XML/JSON, missing fields, oversize)."""

    status = 400
    code = "malformed_payload"


class UnknownEventType(ChannelError):
    """A genuine payload of a type this adapter has no parser for."""

    status = 200
    code = "unknown_event"

    def __init__(self, channel: str, event_type: str) -> None:
        super().__init__(f"{channel}: unknown event type {event_type!r}")
        self.channel = channel
        self.event_type = event_type


@dataclass(frozen=True)
class SendResult:
    ok: bool
    external_id: str | None = None
    error: str | None = None
    retryable: bool = False


Parser = Callable[[Mapping[str, Any]], InboundMessage | None]


def dispatch_event(channel: str, table: Mapping[str, Parser], event_type: str, payload: Mapping[str, Any]):
    """Look ``event_type`` up in an adapter's parser table and run it."""
    try:
        parser = table[event_type]
    except KeyError:
        raise UnknownEventType(channel, event_type) from None
    return parser(payload)


@dataclass
class ChannelDeps:
    """What an adapter is built with, in the web app and in a job worker alike."""

    settings: Any            # hotline.config.Settings
    service: Any             # hotline.service.TicketService
    http: Any                # aiohttp.ClientSession shared for all outbound calls
    redis: Any = None        # redis.asyncio client when HOTLINE_REDIS_URL is set
    extras: dict = field(default_factory=dict)  # e.g. "chatbot", "agent_hub"


class ChannelAdapter(abc.ABC):
    """One channel, constructed with :class:`ChannelDeps`; see :mod:`channels.registry`."""

    name: ClassVar[str]

    def __init__(self, deps: ChannelDeps) -> None:
        self.deps = deps

    @abc.abstractmethod
    def setup(self, app: web.Application) -> None:
        """Add this channel's webhook routes (under ``/channels/<name>``) and clients to the app."""

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one outbound message through this channel."""
