"""Small helpers shared by the e-mail tests."""

from __future__ import annotations

import sqlalchemy as sa

from channels.base import ChannelDeps
from channels.email.adapter import EmailAdapter
from hotline.config import Settings
from hotline.service import TicketService
from hotline.tables import attachments, ticket_messages, tickets


def make_service(engine, clock, tmp_path) -> TicketService:
    return TicketService(engine, clock=clock, settings=Settings(data_dir=tmp_path / "data"))


def make_adapter(service, settings) -> EmailAdapter:
    return EmailAdapter(ChannelDeps(settings=service.settings, service=service, http=None), settings)


class FlakyService:
    """A real TicketService whose ingest fails the first ``failures`` times (a crash halfway)."""

    def __init__(self, real: TicketService, failures: int = 1) -> None:
        self.real = real
        self.failures = failures

    def __getattr__(self, name):
        return getattr(self.real, name)

    async def ingest(self, message):
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("database connection lost")
        return await self.real.ingest(message)


async def rows(engine, table, *where):
    async with engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(sa.select(table).where(*where).order_by(table.c.id))]


async def ticket_count(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar_one()


__all__ = ["attachments", "ticket_messages", "tickets", "rows", "ticket_count", "make_service", "make_adapter",
           "FlakyService"]
