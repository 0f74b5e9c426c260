"""Ticket numbers: local date + a five-digit daily sequence, e.g. 2026112200001.

The counter row is bumped with one atomic upsert, so concurrent creations in
any number of processes never share a number.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db import insert_ignore
from hotline.tables import ticket_counters


async def next_ticket_number(conn: AsyncConnection, now: dt.datetime, tz: str = "Asia/Shanghai") -> str:
    day = now.astimezone(ZoneInfo(tz)).strftime("%Y%m%d")
    stmt = insert_ignore(conn, ticket_counters).values(day=day, last=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ticket_counters.c.day], set_={"last": ticket_counters.c.last + 1}
    ).returning(ticket_counters.c.last)
    seq = (await conn.execute(stmt)).scalar_one()
    return f"{day}{seq:05d}"
