"""A small real channel for tests: records what it was asked to send, can refuse like WeChat out of window."""

from __future__ import annotations

import itertools

from aiohttp import web
from pydantic_settings import BaseSettings

from channels.base import ChannelAdapter, SendResult
from hotline.messages import OutboundMessage


class RecordingChannel(ChannelAdapter):
    name = "recording"
    settings_class = BaseSettings

    def __init__(self, name: str, *, refuse: str | None = None, retryable_failures: int = 0,
                 acknowledges_intake: bool = False) -> None:
        super().__init__(deps=None, settings=BaseSettings())
        self.name = name
        self.acknowledges_intake = acknowledges_intake
        self.sent: list[OutboundMessage] = []
        self.refuse = refuse                      # error for every send (e.g. WeChat's 48-hour window)
        self.retryable_failures = retryable_failures
        self._ids = itertools.count(1)

    def setup(self, app: web.Application) -> None:  # no webhooks
        pass

    async def send(self, message: OutboundMessage) -> SendResult:
        if self.refuse:
            return SendResult(ok=False, error=self.refuse, retryable=False)
        if self.retryable_failures:
            self.retryable_failures -= 1
            return SendResult(ok=False, error="gateway busy", retryable=True)
        self.sent.append(message)
        return SendResult(ok=True, external_id=f"{self.name}-{next(self._ids)}")

    def texts(self, recipient: str | None = None) -> list[str]:
        return [m.text for m in self.sent if recipient is None or m.recipient.value == recipient]


def recording_channels(**options) -> dict[str, RecordingChannel]:
    return {name: RecordingChannel(name, **options.get(name, {})) for name in ("sms", "email", "wechat", "telegram")}
