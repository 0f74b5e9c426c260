"""The e-mail channel's case for the shared adapter contract (tests/channels/test_contract.py)."""

from __future__ import annotations

import contextlib

from channels.email.adapter import SIGNATURE_HEADER, sign
from channels.email.settings import EmailSettings
from hotline.messages import Identity, OutboundMessage
from tests.channels.contract_case import ContractCase, Req
from tests.channels.email.conftest import fixture
from tests.channels.email.smtp_sink import SmtpSink

SECRET = "gateway-secret-for-tests"


def inbound(raw: bytes, secret: str = SECRET) -> Req:
    return Req("POST", "/channels/email/inbound", raw,
               {SIGNATURE_HEADER: sign(secret, raw), "Content-Type": "message/rfc822"})


class EmailCase(ContractCase):
    name = "email"

    async def make_settings(self, stack: contextlib.AsyncExitStack) -> EmailSettings:
        sink = await SmtpSink().start()
        stack.push_async_callback(sink.stop)
        return EmailSettings(webhook_secret=SECRET, smtp_host="127.0.0.1", smtp_port=sink.port)

    def bad_signature_request(self) -> Req:
        return inbound(fixture("gbk_attachment.eml"), secret="wrong")

    def unknown_event_request(self) -> Req:
        return inbound(fixture("bounce_dsn.eml"))

    def valid_request(self) -> Req:
        return inbound(fixture("gbk_attachment.eml"))

    def outbound(self) -> OutboundMessage:
        return OutboundMessage(channel="email", recipient=Identity(kind="email", value="zhangzhe1988@qq.com"),
                               text="您的诉求已受理。", ticket_number="2026112300001")


CASE = EmailCase()
