"""The WeChat adapter's answers to the shared contract test."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit, parse_qsl

from channels.wechat.settings import WechatSettings
from hotline.messages import Identity, OutboundMessage
from tests.channels.contract_case import ContractCase, Req
from tests.channels.wechat.fakes import APPID, APPSECRET, TOKEN, CitizenWechat, FakeWechatApi, fixture, text_xml

OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"


def _req(path_query: str, headers: dict, body: bytes) -> Req:
    parts = urlsplit(path_query)
    return Req("POST", parts.path, body, headers, dict(parse_qsl(parts.query)))


class WechatCase(ContractCase):
    name = "wechat"

    def __init__(self) -> None:
        self.citizen = CitizenWechat()

    async def make_settings(self, stack: contextlib.AsyncExitStack) -> WechatSettings:
        api = await FakeWechatApi().start(stack)
        # A plaintext-mode account (no EncodingAESKey): the requests below are plaintext.
        return WechatSettings(token=TOKEN, appid=APPID, appsecret=APPSECRET, api_base=api.url)

    def bad_signature_request(self) -> Req:
        return _req(*self.citizen.plain(text_xml("路灯坏了"), bad_signature=True))

    def unknown_event_request(self) -> Req:
        return _req(*self.citizen.plain(fixture("event_templatesendjobfinish.xml")))

    def check_ack(self, status: int, body: bytes) -> None:
        assert (status, body) == (200, b"success")

    def valid_request(self) -> Req:
        return _req(*self.citizen.plain(fixture("text.xml")))

    def outbound(self) -> OutboundMessage:
        # The valid request above opened the citizen's 48-hour window.
        return OutboundMessage(channel="wechat", recipient=Identity(kind="wechat", value=OPENID),
                               text="您的工单已派发至西湖区城管局办理。")


CASE = WechatCase()
