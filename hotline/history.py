"""Import a city's past tickets (``hotline tickets import``): each row becomes one ticket in its final state.

What a row becomes:

* A ticket with channel ``import`` (only the API restricts channels to the live ones), numbered by the
  normal scheme on the day it was created (``hotline.numbering``: the per-day counter makes a 2019 ticket a
  2019 number, never one a live ticket of that day has or will get), the citizen's text as its incoming
  message, and ``extra["imported"] = {"source", "id", "file", "row"}``.
* State ``closed``: with a reply, the reply is the lead unit's outgoing message and ``replied_at`` /
  ``closed_at`` come from the reply time column. A ticket the old system never answered is ``closed`` too
  (without reply, ``replied_at`` and, unless the file gives a time, ``closed_at``): every open state is live
  work (``new``/``accepted`` sit in the dispatch queue, ``dispatched``/``signed`` run deadlines and urges,
  ``replied`` waits for a callback), and the lifecycle's other final states each claim something that did
  not happen (``answered``: answered from the knowledge base; ``rejected``: one of the seven reasons).
  (Reopening needs a callback's 不满意, so a citizen raising the matter again gets a new ticket.)
* The lead unit (by code or name) as an active ``ticket_units`` row, so the unit sees its history; the
  category by code or name. A unit or category not in this database leaves the field empty, and the
  report lists each with its rows (``unknown_units``, ``missing_categories``); the ticket's
  ``extra["imported"]`` keeps the name the file gave.
* Request type from the type column; blank or no column: 求助, the system's own default
  (:data:`hotline.lifecycle.DEFAULT_REQUEST_TYPE`).

Nothing meant for live tickets happens: no outbox rows (so no notices, SMS or WeChat sends), no deadlines,
no routing suggestion, no in-transaction listeners. One ``import`` event per ticket records the import.
``updated_at`` is the import time, so the search index job's cursor picks the tickets up.

Idempotent: a row's key is its source and id (or, without an id column, a hash of title, text and
creation time), stored as the external id of the incoming message, which ``(channel, external_id)`` keeps
unique. Rows are written in batches, one transaction each: after a crash a re-run skips what was
committed (``skipped_existing``) and imports the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline import history_read as read
from hotline.db import insert_ignore
from hotline.identity import clip
from hotline.lifecycle import DEFAULT_REQUEST_TYPE
from hotline.numbering import next_ticket_number
from hotline.tables import categories, ticket_events, ticket_messages, ticket_units, tickets, units
from knowledge import import_cells as cells
from knowledge.evaluate import require_columns
from knowledge.importer import by_rows

CHANNEL = "import"
ACTOR = "import"
BATCH = 200
MAX_SOURCE_CHARS = 50


class RowError(ValueError):
    """A row that cannot be imported; the message is Chinese and user-facing."""


@dataclass
class Columns:
    text: list[str]
    title: str | None = None
    id: str | None = None
    created: str | None = None
    reply: str | None = None
    replied: str | None = None
    unit: str | None = None
    category: str | None = None
    type: str | None = None
    district: str | None = None

    def named(self) -> list[str]:
        return [*self.text, *(c for c in (self.title, self.id, self.created, self.reply, self.replied,
                                          self.unit, self.category, self.type, self.district) if c)]


@dataclass
class HistoryReport:
    rows: int = 0
    imported: int = 0
    skipped_existing: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    unknown_units: dict[str, list[int]] = field(default_factory=dict)
    missing_categories: dict[str, list[int]] = field(default_factory=dict)
    dry_run: bool = False

    def as_json(self) -> dict:
        return {"rows": self.rows, "imported": self.imported, "skipped_existing": self.skipped_existing,
                "errors": [{"row": n, "error": e} for n, e in self.errors],
                "unknown_units": [{"unit": name, "rows": len(rows), "first_row": rows[0]}
                                  for name, rows in by_rows(self.unknown_units)],
                "missing_categories": [{"category": name, "rows": len(rows), "first_row": rows[0]}
                                       for name, rows in by_rows(self.missing_categories)],
                "dry_run": self.dry_run}


@dataclass
class Row:
    number: int
    key: str  # the incoming message's external id: source and the row's id
    external_id: str
    title: str
    text: str
    created_at: dt.datetime
    reply: str | None
    replied_at: dt.datetime | None
    request_type: str
    district: str | None
    unit: tuple[int, str] | None  # (id, name)
    unit_named: str | None  # as the file names it
    category_id: int | None
    category_named: str | None


@dataclass
class _Lookups:
    units: dict[str, tuple[int, str]]  # code or name -> (id, name)
    categories: dict[str, int]  # code or unique name -> id

    @classmethod
    async def load(cls, engine: AsyncEngine) -> _Lookups:
        unit_codes, category_codes = await cells.unit_codes(engine), await cells.category_codes(engine)
        async with engine.connect() as conn:
            by_code = {r.code: (r.id, r.name) for r in await conn.execute(sa.select(units.c.id, units.c.code,
                                                                                   units.c.name))}
            cat_ids = dict((await conn.execute(sa.select(categories.c.code, categories.c.id))).all())
        return cls({k: by_code[c] for k, c in unit_codes.items()}, {k: cat_ids[c] for k, c in category_codes.items()})


def row_key(source: str, external_id: str) -> str:
    key = f"{source}:{external_id}"
    return key if len(key) <= 200 else f"{source}:sha256:{hashlib.sha256(external_id.encode()).hexdigest()}"


def parse_row(row: dict, number: int, cols: Columns, lookups: _Lookups, *, source: str, tz: str,
              now: dt.datetime, max_text_chars: int, blank: cells.Blank) -> Row:
    """A file row as a :class:`Row`; RowError naming what is wrong."""
    text = "\n".join(t for t in (cells.text(row.get(c)).strip() for c in cols.text) if t)
    if not text:
        raise RowError("诉求内容为空")
    if len(text) > max_text_chars:
        raise RowError(f"诉求内容超过 {max_text_chars} 字")
    title = cells.text(row.get(cols.title)).strip() if cols.title else ""
    created_at = _time(row, cols.created, "受理时间", tz, now) if cols.created else now
    if cols.created and created_at is None:
        raise RowError("受理时间为空")
    reply = cells.first(row.get(cols.reply), blank) if cols.reply else None
    replied_at = _time(row, cols.replied, "答复时间", tz, now) if cols.replied else None
    if replied_at is not None and replied_at < created_at:
        raise RowError(f"答复时间早于受理时间（{_local(replied_at, tz)} < {_local(created_at, tz)}）")
    try:
        request_type = read.request_type(cells.first(row.get(cols.type), blank) if cols.type else None,
                                         DEFAULT_REQUEST_TYPE)
    except ValueError as exc:
        raise RowError(str(exc)) from None
    if cols.id:
        external_id = cells.text(row.get(cols.id)).strip()
        if not external_id:
            raise RowError("缺少编号")
    else:
        digest = hashlib.sha256("\x1f".join([title, text, created_at.isoformat() if cols.created else ""])
                                .encode()).hexdigest()
        external_id = f"sha256:{digest}"
    unit_named = cells.first(row.get(cols.unit), blank) if cols.unit else None
    category_named = cells.first(row.get(cols.category), blank) if cols.category else None
    district = cells.first(row.get(cols.district), blank) if cols.district else None
    return Row(number, row_key(source, external_id), external_id, clip(title or text, 30 if not title else 200),
               text, created_at, reply, replied_at, request_type, clip(district, 100) if district else None,
               lookups.units.get(unit_named) if unit_named else None, unit_named,
               lookups.categories.get(category_named) if category_named else None, category_named)


def _time(row: dict, column: str, what: str, tz: str, now: dt.datetime) -> dt.datetime | None:
    value = cells.text(row.get(column)).strip()
    if not value:
        return None
    try:
        when = read.parse_time(value, tz)
    except ValueError:
        raise RowError(f"{what} {value} 不是合法的日期时间（{read.DATE_EXAMPLES}）") from None
    if when > now:
        raise RowError(f"{what} {value} 晚于当前时间")
    return when


def _local(when: dt.datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


async def import_history(engine: AsyncEngine, path, cols: Columns, *, source: str, now: dt.datetime,
                         intake_line: str = "12345", tz: str = "Asia/Shanghai", max_text_chars: int = 20_000,
                         dry_run: bool = False, file_name: str | None = None,
                         progress: Callable[[int], None] | None = None, batch: int = BATCH) -> HistoryReport:
    """Import ``path`` (see the module docstring); ``dry_run`` checks every row, and which are already
    imported, without writing. InputError (before anything is written) for a file that cannot be read or
    lacks a named column."""
    path = Path(path)
    _, encoding = read.scan(path)
    lookups = await _Lookups.load(engine)
    report = HistoryReport(dry_run=dry_run)
    blank = cells.Blank()
    seen: dict[str, int] = {}  # key -> the row that had it first
    pending: list[Row] = []
    checked = False
    info = {"source": source, "file": file_name or path.name, "intake_line": intake_line}
    for number, raw in read.numbered_rows(path, encoding):
        if not checked:
            require_columns(raw, cols.named(), path)  # InputError: nothing was written yet
            checked = True
        report.rows += 1
        try:
            if not isinstance(raw, dict):
                raise RowError("不是 JSON 对象")
            row = parse_row(raw, number, cols, lookups, source=source, tz=tz, now=now,
                            max_text_chars=max_text_chars, blank=blank)
            if row.key in seen:
                raise RowError(f"与第 {seen[row.key]} 行重复（编号 {row.external_id}）" if cols.id
                               else f"与第 {seen[row.key]} 行内容和受理时间相同")
            seen[row.key] = number
            pending.append(row)
        except RowError as exc:
            report.errors.append((number, str(exc)))
        if len(pending) >= batch:
            await _flush(engine, pending, report, info, now, tz)
            pending = []
        if progress:
            progress(report.rows)
    if pending:
        await _flush(engine, pending, report, info, now, tz)
    return report


async def _flush(engine: AsyncEngine, rows: list[Row], report: HistoryReport, info: dict, now: dt.datetime,
                 tz: str) -> None:
    """Write one batch in one transaction (only check it with ``report.dry_run``)."""
    async with engine.connect() as conn:
        existing = set((await conn.execute(sa.select(ticket_messages.c.external_id).where(
            ticket_messages.c.channel == CHANNEL,
            ticket_messages.c.external_id.in_([r.key for r in rows])))).scalars())
    new = [r for r in rows if r.key not in existing]
    report.skipped_existing += len(rows) - len(new)
    if not report.dry_run and new:
        async with engine.begin() as conn:
            written = [r for r in new if await _write(conn, r, info, now, tz)]
        report.skipped_existing += len(new) - len(written)  # imported meanwhile by another run
        new = written
    report.imported += len(new)
    for r in new:
        if r.unit_named and r.unit is None:
            report.unknown_units.setdefault(r.unit_named, []).append(r.number)
        if r.category_named and r.category_id is None:
            report.missing_categories.setdefault(r.category_named, []).append(r.number)


async def _write(conn, r: Row, info: dict, now: dt.datetime, tz: str) -> bool:
    """One ticket with its messages, unit and event; False when another run imported the row first."""
    imported = {"source": info["source"], "id": r.external_id, "file": info["file"], "row": r.number}
    if r.unit_named and r.unit is None:  # kept as the file named them, for whoever fixes them later
        imported["unit"] = r.unit_named
    if r.category_named and r.category_id is None:
        imported["category"] = r.category_named
    message_id = (await conn.execute(insert_ignore(conn, ticket_messages).values(
        direction="in", channel=CHANNEL, external_id=r.key, author=None, text=r.text, attachments=[],
        meta={"imported": imported}, created_at=r.created_at,
    ).on_conflict_do_nothing().returning(ticket_messages.c.id))).scalar()
    if message_id is None:
        return False
    number = await next_ticket_number(conn, r.created_at, tz)
    replied_at = r.replied_at if r.reply else None
    ticket_id = (await conn.execute(sa.insert(tickets).values(
        number=number, channel=CHANNEL, intake_line=info["intake_line"], request_type=r.request_type,
        category_id=r.category_id, district=r.district, title=r.title, text=r.text, state="closed",
        lead_unit_id=r.unit[0] if r.unit else None, reopen_count=0, urge_count=0, publishable=False,
        replied_at=replied_at, closed_at=r.replied_at, routing=None, extra={"imported": imported}, version=1,
        created_at=r.created_at, updated_at=now,
    ).returning(tickets.c.id))).scalar_one()
    await conn.execute(sa.update(ticket_messages).where(ticket_messages.c.id == message_id)
                       .values(ticket_id=ticket_id))
    if r.unit:
        await conn.execute(sa.insert(ticket_units).values(ticket_id=ticket_id, unit_id=r.unit[0], role="lead",
                                                          active=True, dispatched_at=r.created_at))
    if r.reply:
        await conn.execute(sa.insert(ticket_messages).values(
            ticket_id=ticket_id, direction="out", channel=CHANNEL, author=r.unit[1] if r.unit else r.unit_named,
            text=r.reply, attachments=[], meta={"imported": imported}, created_at=r.replied_at or r.created_at))
    note = f"历史工单导入（来源 {info['source']}，原编号 {r.external_id}）" if not r.external_id.startswith(
        "sha256:") else f"历史工单导入（来源 {info['source']}，{info['file']} 第 {r.number} 行）"
    await conn.execute(sa.insert(ticket_events).values(
        ticket_id=ticket_id, action="import", from_state=None, to_state="closed", actor=ACTOR, note=note,
        data=imported, at=now))
    return True
