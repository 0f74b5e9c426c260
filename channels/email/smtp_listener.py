"""Optional inbound SMTP listener (aiosmtpd) for a relay that forwards citizens' mail.

A mail is accepted (250) only after the core stored it; when processing fails
the relay gets a temporary 451 and retries, so nothing is lost. Unparseable mail
is refused permanently (550).
"""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import SMTP

from channels.base import MalformedPayload, UnknownEventType
from channels.email.inbound import ingest_raw
from channels.email.settings import EmailSettings
from hotline.actions import InvalidParams

log = logging.getLogger(__name__)


class HotlineHandler:
    def __init__(self, settings: EmailSettings, service) -> None:
        self.settings = settings
        self.service = service

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        if address.lower() not in self.settings.our_addresses():
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        raw = envelope.original_content or envelope.content
        try:
            result = await ingest_raw(bytes(raw), self.settings, self.service)
        except UnknownEventType as exc:  # bounce, read receipt, auto-reply: accepted, no ticket
            log.info("smtp: %s", exc.message)
            return "250 OK ignored"
        except (MalformedPayload, InvalidParams) as exc:
            log.warning("smtp: refused mail from %s: %s", envelope.mail_from, exc)
            return "550 5.6.0 message refused"
        except Exception:  # noqa: BLE001 - tell the relay to retry later
            log.exception("smtp: processing failed; relay will retry")
            return "451 4.3.0 temporary failure, try again later"
        return f"250 OK ticket {result.ticket_number or '-'}"


class SmtpListener:
    """aiosmtpd on ``listen_host:listen_port``, on the app's own loop (not aiosmtpd's Controller
    thread): the database engine the handler uses is bound to this loop."""

    def __init__(self, settings: EmailSettings, service) -> None:
        self.settings = settings
        self.handler = HotlineHandler(settings, service)
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        s = self.settings
        self.server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(self.handler, data_size_limit=s.max_message_bytes, decode_data=False,
                         hostname=s.message_id_domain),
            host=s.listen_host, port=s.listen_port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
