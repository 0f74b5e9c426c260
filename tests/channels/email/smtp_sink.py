"""A real aiosmtpd SMTP server on 127.0.0.1 that records what it receives (for outbound tests)."""

from __future__ import annotations

import asyncio
import email
from email.policy import default as default_policy

from aiosmtpd.smtp import SMTP


class SmtpSink:
    def __init__(self) -> None:
        self.envelopes: list = []
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.envelopes.append(envelope)
        return "250 OK queued"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.original_content or e.content, policy=default_policy)
                for e in self.envelopes]

    async def start(self) -> "SmtpSink":
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: SMTP(self, hostname="sink.test"), "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
