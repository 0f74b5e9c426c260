"""The mailbox channel's case for the shared adapter contract: letters forwarded by a partner portal."""

from __future__ import annotations

import contextlib
import json
import time

from channels.mailbox.adapter import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from channels.mailbox.settings import MailboxSettings
from hotline.messages import Identity, OutboundMessage
from tests.channels.contract_case import ContractCase, Req
from tests.channels.mailbox.helpers import load

PARTNER_SECRET = "partner-secret"


def signed(event: dict, secret: str = PARTNER_SECRET, stamp: int | None = None) -> Req:
    body = json.dumps(event, ensure_ascii=False).encode()
    ts = str(int(time.time()) if stamp is None else stamp)
    return Req("POST", "/channels/mailbox/letters", body,
               {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(secret, ts, body), "Content-Type": "application/json"})


class MailboxCase(ContractCase):
    name = "mailbox"

    async def make_settings(self, stack: contextlib.AsyncExitStack) -> MailboxSettings:
        return MailboxSettings(partner_secret=PARTNER_SECRET)

    def bad_signature_request(self) -> Req:
        return signed(load("partner_letter.json"), secret="not-the-partner")

    def unknown_event_request(self) -> Req:
        return signed(load("partner_withdraw.json"))

    def valid_request(self) -> Req:
        return signed(load("partner_letter.json"))

    def outbound(self) -> OutboundMessage:
        # The reply is shown on the query page of the letter the valid request created.
        return OutboundMessage(channel="mailbox", recipient=Identity(kind="phone", value="+8613905712233"),
                               text="您的建议已转交市公安局交警支队研究办理。", ticket_number="2026112300001")


CASE = MailboxCase()
