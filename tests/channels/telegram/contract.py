"""The Telegram channel's case for the shared adapter contract."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from channels.telegram.adapter import SECRET_HEADER
from channels.telegram.settings import TelegramSettings
from hotline.messages import Identity, OutboundMessage
from tests.channels.contract_case import ContractCase, Req
from tests.channels.telegram.bot_api import BotApiStandIn

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
PATH_SECRET = "p4th-s3cret"
HEADER_SECRET = "h3ader-s3cret"


def update(name: str, *, path: str = PATH_SECRET, header: str | None = HEADER_SECRET) -> Req:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers[SECRET_HEADER] = header
    return Req("POST", f"/channels/telegram/{path}", (FIXTURES / name).read_bytes(), headers)


class TelegramCase(ContractCase):
    name = "telegram"

    async def make_settings(self, stack: contextlib.AsyncExitStack) -> TelegramSettings:
        self.api = await BotApiStandIn(TOKEN).start()
        stack.push_async_callback(self.api.stop)
        return TelegramSettings(token=TOKEN, path_secret=PATH_SECRET, secret_token=HEADER_SECRET,
                                api_base_url=self.api.base_url)

    def bad_signature_request(self) -> Req:
        return update("message_text.json", header="forged")

    def unknown_event_request(self) -> Req:
        return update("my_chat_member.json")

    def valid_request(self) -> Req:
        return update("message_text.json")

    def outbound(self) -> OutboundMessage:
        return OutboundMessage(channel="telegram", recipient=Identity(kind="telegram", value="5123456789"),
                               text="您的诉求已办结，请查看答复。", ticket_number="2026112300001")

    async def check_valid(self, engine) -> None:
        await super().check_valid(engine)
        [answer] = self.api.sent()
        assert answer["chat_id"] == "5123456789" and "2026112300001" in answer["text"]


CASE = TelegramCase()


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())
