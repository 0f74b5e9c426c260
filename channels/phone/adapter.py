"""Phone adapter: the generic CTI webhook ``POST /channels/phone/<token>`` and the ARI listener."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from urllib.parse import parse_qs

from aiohttp import web

from channels.base import ChannelAdapter, MalformedPayload, SendResult, VerificationFailed, read_body, webhook
from channels.phone.ari import AriListener
from channels.phone.calls import CallRecorder
from channels.phone.events import parse_cti
from channels.phone.settings import PhoneSettings
from hotline.messages import OutboundMessage

log = logging.getLogger(__name__)


def _ack(exc) -> web.Response:
    return web.json_response({"status": "ignored", "reason": exc.code})


class PhoneAdapter(ChannelAdapter):
    name = "phone"
    settings_class = PhoneSettings

    def __init__(self, deps, settings=None) -> None:
        super().__init__(deps, settings)
        self.ari: AriListener | None = None
        self._ari_task: asyncio.Task | None = None

    @classmethod
    def is_configured(cls, settings: PhoneSettings) -> bool:
        return bool(settings.token)

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/channels/phone/{token}", self.cti)

    @property
    def recorder(self) -> CallRecorder:
        return CallRecorder(self.deps.service, self.settings, self.deps.extras.get("agent_hub"))

    async def start(self) -> None:
        if self.settings.ari_url:
            self.ari = AriListener(self.deps.http, self.settings, _LazyRecorder(self))
            self._ari_task = asyncio.create_task(self.ari.run())

    async def stop(self) -> None:
        if self._ari_task:
            self._ari_task.cancel()
            await asyncio.gather(self._ari_task, return_exceptions=True)

    @webhook(_ack)
    async def cti(self, request: web.Request) -> web.Response:
        """Generic CTI events: newCall, answer, hangup, recording (form-encoded or JSON)."""
        if not hmac.compare_digest(request.match_info["token"].encode(), self.settings.token.encode()):
            raise VerificationFailed("CTI 令牌无效")
        body = await read_body(request, self.settings.max_body_bytes)
        event = parse_cti(_fields(body, request.content_type))
        record = await self.recorder.handle(event)
        return web.json_response({"status": "ok" if record is not None else "unknown_call"})

    async def send(self, message: OutboundMessage) -> SendResult:
        """The phone channel carries no text: notices to callers go by SMS."""
        return SendResult(ok=False, error="phone_cannot_send_text")


class _LazyRecorder:
    """The recorder with the agent hub as it is when each event arrives."""

    def __init__(self, adapter: PhoneAdapter) -> None:
        self.adapter = adapter

    async def handle(self, event):
        return await self.adapter.recorder.handle(event)


def _fields(body: bytes, content_type: str) -> dict:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise MalformedPayload("请求体不是 UTF-8") from None
    if content_type == "application/json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise MalformedPayload(f"JSON 格式错误：{exc}") from None
        if not isinstance(data, dict):
            raise MalformedPayload("请求体必须是 JSON 对象")
        return data
    return {key: values if key.endswith("[]") else values[0]
            for key, values in parse_qs(text, keep_blank_values=False).items()}
