"""The inbound SMTP listener (aiosmtpd) against real aiosmtplib sessions on 127.0.0.1."""

from __future__ import annotations

import aiosmtplib
import pytest

from channels.email.settings import EmailSettings
from tests.channels.dovecot import free_port
from tests.channels.email.conftest import fixture
from tests.channels.email.helpers import FlakyService, make_adapter, make_service, rows, ticket_count, tickets


def listener_settings() -> EmailSettings:
    return EmailSettings(listen_host="127.0.0.1", listen_port=free_port(),
                         mayor_address="mayor@hotline.example.gov.cn")


async def relay(settings: EmailSettings, raw: bytes, to: str = "mayor@hotline.example.gov.cn"):
    return await aiosmtplib.send(raw, sender="zhangzhe1988@qq.com", recipients=[to], hostname="127.0.0.1",
                                 port=settings.listen_port, timeout=30)


async def test_relay_delivers_a_gbk_mail_as_a_ticket(engine, clock, tmp_path):
    service = make_service(engine, clock, tmp_path)
    settings = listener_settings()
    adapter = make_adapter(service, settings)
    await adapter.start()
    try:
        _, reply = await relay(settings, fixture("gbk_attachment.eml"))
        assert "ticket 2026112300001" in reply
        [row] = await rows(engine, tickets)
        assert row["intake_line"] == "mayor" and "春波小区" in row["text"]
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await relay(settings, fixture("gbk_attachment.eml"), to="someone@else.example")
        _, reply = await relay(settings, fixture("bounce_dsn.eml"))
        assert "ignored" in reply
        with pytest.raises(aiosmtplib.SMTPDataError) as err:
            await relay(settings, b"Subject: no sender\r\n\r\nbody\r\n")
        assert err.value.code == 550
        assert await ticket_count(engine) == 1
    finally:
        await adapter.stop()


async def test_temporary_failure_answers_451_and_the_retry_succeeds(engine, clock, tmp_path):
    service = FlakyService(make_service(engine, clock, tmp_path), failures=1)
    settings = listener_settings()
    adapter = make_adapter(service, settings)
    await adapter.start()
    try:
        with pytest.raises(aiosmtplib.SMTPDataError) as err:
            await relay(settings, fixture("html_only_utf8.eml"), to="12345@hotline.example.gov.cn")
        assert err.value.code == 451
        assert await ticket_count(engine) == 0
        await relay(settings, fixture("html_only_utf8.eml"), to="12345@hotline.example.gov.cn")
        assert await ticket_count(engine) == 1
    finally:
        await adapter.stop()
