"""The contract every channel adapter implements.

An adapter turns its channel's raw payloads into :class:`hotline.messages.InboundMessage`
(validated once, at the edge) and sends :class:`hotline.messages.OutboundMessage`
back. Inside an adapter an explicit table maps event/message types to small pure
parsing functions; an unknown type raises :class:`UnknownEventType`, which the
webhook acknowledges (as the platform expects) and logs instead of crashing.
"""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web
from pydantic_settings import BaseSettings

from hotline.messages import OutboundMessage


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


class PayloadTooLarge(ChannelError):
    """The body is larger than the channel ever sends."""

    status = 413
    code = "too_large"


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


# A parser returns the normalised message, or a channel-specific frozen event (a menu click, a
# call state change), or None for a known type that carries nothing to act on.
Parser = Callable[[Mapping[str, Any]], Any]


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
    """One channel, constructed with :class:`ChannelDeps`; see :mod:`channels.registry`.

    ``settings_class`` is the channel's pydantic-settings class (env prefix
    ``HOTLINE_<NAME>_``); :mod:`channels.web` builds an adapter only when
    ``is_configured(settings)`` is true. ``deps.http``/``deps.redis`` are filled
    in when the app starts (routes must be added before that), so use them
    only in handlers, ``start`` and ``send``.
    """

    name: ClassVar[str]
    settings_class: ClassVar[type[BaseSettings]]
    # True when the adapter itself answers a citizen's new request with its ticket number
    # (passive reply, bot answer, confirmation page); jobs then send no separate notice.
    # An adapter whose answer depends on its settings makes this a property.
    acknowledges_intake: bool = False

    def __init__(self, deps: ChannelDeps, settings: BaseSettings | None = None) -> None:
        self.deps = deps
        self.settings = settings if settings is not None else self.settings_class()

    @classmethod
    def is_configured(cls, settings: BaseSettings) -> bool:
        """Whether the settings are complete enough to run this channel."""
        return True

    async def start(self) -> None:
        """Called once the app's clients exist (background tasks, pollers)."""

    async def stop(self) -> None:
        """Called on shutdown; cancel what ``start`` began."""

    async def settle(self) -> None:
        """Wait for work a webhook left running after it answered (late replies, receipts, bookkeeping)."""

    @abc.abstractmethod
    def setup(self, app: web.Application) -> None:
        """Add this channel's webhook routes (under ``/channels/<name>``) and clients to the app."""

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one outbound message through this channel."""


log = logging.getLogger("channels")


def error_json(exc: ChannelError) -> web.Response:
    """The JSON error answer every webhook gives for bad input."""
    return web.json_response({"error": {"code": exc.code, "message": exc.message}}, status=exc.status,
                             dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The whole request body, refusing anything larger than ``max_bytes`` before reading it all."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadTooLarge(f"请求体超过 {max_bytes} 字节")
    # content.read(n) returns only what is already buffered: read chunk by chunk until EOF.
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"请求体超过 {max_bytes} 字节")
    return bytes(body)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def webhook(ack: Callable[[UnknownEventType], web.StreamResponse]) -> Callable[[Handler], Handler]:
    """Wrap a webhook handler: ChannelErrors become JSON 4xx, unknown events the channel's ack."""

    def wrap(handler: Handler) -> Handler:
        async def wrapped(*args) -> web.StreamResponse:
            request: web.Request = args[-1]  # plain function or bound method alike
            try:
                return await handler(*args)
            except UnknownEventType as exc:
                log.warning("%s (acknowledged)", exc.message)
                return ack(exc)
            except ChannelError as exc:
                log.info("%s %s rejected: %s", request.method, request.path, exc.message)
                return error_json(exc)

        wrapped.__name__ = handler.__name__
        wrapped.__doc__ = handler.__doc__
        return wrapped

    return wrap
