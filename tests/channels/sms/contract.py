"""The SMS adapter's answers to the shared contract test."""

from __future__ import annotations

import contextlib

from channels.sms.settings import SmsSettings
from hotline.messages import Identity, OutboundMessage
from tests.channels.contract_case import ContractCase, Req
from tests.channels.sms.fakes import API_KEY, SECRET, FakeGateway, fixture, signed

# The contract test's clock: 2026-11-23 10:00 Shanghai.
NOW = 1795399200


class SmsCase(ContractCase):
    name = "sms"

    async def make_settings(self, stack: contextlib.AsyncExitStack) -> SmsSettings:
        gateway = await FakeGateway().start(stack)
        return SmsSettings(secret=SECRET, api_base=gateway.url, api_key=API_KEY)

    def _req(self, data: dict, **kw) -> Req:
        body, headers = signed(data, at=NOW, **kw)
        return Req("POST", "/channels/sms/inbound", body, headers)

    def bad_signature_request(self) -> Req:
        return self._req(fixture("mo.json"), secret="not-the-secret")

    def unknown_event_request(self) -> Req:
        return self._req(fixture("keepalive.json"))

    def valid_request(self) -> Req:
        return self._req(fixture("mo.json"))

    def outbound(self) -> OutboundMessage:
        return OutboundMessage(channel="sms", recipient=Identity(kind="phone", value="13800138000"),
                               text="您的工单已办结，感谢您的反映。")


CASE = SmsCase()
