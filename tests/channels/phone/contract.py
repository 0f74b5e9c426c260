"""The phone adapter's answers to the shared contract test."""

from __future__ import annotations

import contextlib
from pathlib import Path

import sqlalchemy as sa

from channels.phone.settings import PhoneSettings
from channels.tables import call_records
from hotline.messages import Identity, OutboundMessage
from tests.channels.contract_case import ContractCase, Req

FIXTURES = Path(__file__).with_name("fixtures")
TOKEN = "cti-3b9f0c1e7d"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class PhoneCase(ContractCase):
    name = "phone"
    send_ok = False  # the phone carries no text; send() answers with a clear SendResult error

    async def make_settings(self, stack: contextlib.AsyncExitStack) -> PhoneSettings:
        return PhoneSettings(token=TOKEN)

    def bad_signature_request(self) -> Req:
        return Req("POST", "/channels/phone/not-the-token", form("cti_newcall.form"), FORM)

    def unknown_event_request(self) -> Req:
        return Req("POST", f"/channels/phone/{TOKEN}", form("cti_unknown.form"), FORM)

    def valid_request(self) -> Req:
        return Req("POST", f"/channels/phone/{TOKEN}", form("cti_newcall.form"), FORM)

    async def check_valid(self, engine) -> None:
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(call_records))).one()
        assert (row.call_id, row.from_number, row.intake_line) == ("4991155921769858278-1", "+8613800138000", "12345")

    def outbound(self) -> OutboundMessage:
        return OutboundMessage(channel="phone", recipient=Identity(kind="phone", value="+8613800138000"), text="x")


CASE = PhoneCase()
