"""Fixtures of the e-mail tests: a real dovecot (one per session, one user per test) and an SMTP sink."""

from __future__ import annotations

from pathlib import Path

import aioimaplib
import pytest

from channels.email.settings import EmailSettings
from tests.channels.dovecot import DovecotServer
from tests.channels.email.smtp_sink import SmtpSink

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def dovecot():
    server = DovecotServer().start()
    yield server
    server.stop()


class Mailbox:
    """A test's own IMAP account on the shared dovecot, driven by a separate real IMAP client."""

    def __init__(self, server: DovecotServer) -> None:
        self.server = server
        self.user, self.password = server.take_user()

    def settings(self, **overrides) -> EmailSettings:
        values = dict(imap_host="127.0.0.1", imap_port=self.server.port, imap_ssl=False,
                      imap_username=self.user, imap_password=self.password,
                      mayor_address="mayor@hotline.example.gov.cn", imap_poll_seconds=300)
        values.update(overrides)
        return EmailSettings(**values)

    async def _client(self) -> aioimaplib.IMAP4:
        client = aioimaplib.IMAP4(host="127.0.0.1", port=self.server.port, timeout=30)
        await client.wait_hello_from_server()
        assert (await client.login(self.user, self.password)).result == "OK"
        return client

    async def append(self, raw: bytes, folder: str = "INBOX") -> None:
        client = await self._client()
        try:
            assert (await client.append(raw, mailbox=folder)).result == "OK"
        finally:
            await client.logout()

    async def count(self, folder: str) -> int:
        client = await self._client()
        try:
            response = await client.select(folder)
            if response.result != "OK":
                return 0
            for line in response.lines:
                parts = bytes(line).split()
                if len(parts) == 2 and parts[1] == b"EXISTS":
                    return int(parts[0])
            return 0
        finally:
            await client.logout()


@pytest.fixture
def mailbox(dovecot) -> Mailbox:
    return Mailbox(dovecot)


@pytest.fixture
async def smtp_sink():
    sink = await SmtpSink().start()
    yield sink
    await sink.stop()
