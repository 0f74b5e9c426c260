"""Reading one cell of an import file: body composition, category, unit, keywords, status, dates, ids.

Shared by :mod:`knowledge.importer` (reading) and :mod:`knowledge.exporter` (writing the same forms).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter

import sqlalchemy as sa

from hotline.tables import categories, units
from knowledge.articles import STATUS_LABELS, STATUSES
from knowledge.dates import CHINA
from knowledge.errors import InvalidInput

KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")
# The id the export writes for an article without an external id: "#" and its number in this database.
DB_ID = re.compile(r"#(\d{1,18})")
DATE_FIELDS = ("valid_from", "valid_to", "review_due_at")
STATUS_NAMES = {**{s: s for s in STATUSES}, **{label: s for s, label in STATUS_LABELS.items()}}


def text(value) -> str:
    return "" if value is None else str(value)


def first(value) -> str | None:
    """A scalar cell, or the first item of a JSON list (theme_category: ["交通出行", ...])."""
    if isinstance(value, list):
        value = next((v for v in value if text(v).strip()), None)
    return text(value).strip() or None


def compose_body(row: dict, parts: list[tuple[str, str]]) -> str:
    """The body from one column (may be HTML, sanitised on save) or from labelled columns and lists."""
    if len(parts) == 1 and not parts[0][0] and not isinstance(row.get(parts[0][1]), list):
        return text(row.get(parts[0][1]))
    out = []
    for label, column in parts:
        value = row.get(column)
        items = [text(v).strip() for v in value] if isinstance(value, list) else [text(value).strip()]
        items = [i for i in items if i]
        if not items:
            continue
        if label and items[0].startswith((label + "：", label + ":")):  # "办理地点：…" already says it
            items[0] = items[0][len(label) + 1:].strip()
        head = f"<strong>{html.escape(label)}：</strong>" if label else ""
        if isinstance(value, list):
            out.append(f"<p>{head}</p><ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
        else:
            out.append(f"<p>{head}{html.escape(items[0]).replace(chr(10), '<br>')}</p>")
    return "".join(out)


async def category_codes(engine) -> dict[str, str]:
    """Category code -> itself, and name -> code for names only one category has (a file may name 治安
    rather than C1001)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(categories.c.name, categories.c.code))).all()
    counts = Counter(name for name, _ in rows)
    return {**{name: code for name, code in rows if counts[name] == 1}, **{code: code for _, code in rows}}


async def unit_codes(engine) -> dict[str, str]:
    """Unit name -> code, so a file may name units as people write them (广东省教育厅)."""
    async with engine.connect() as conn:
        return {name: code for name, code in (await conn.execute(sa.select(units.c.name, units.c.code))).all()}


def keywords(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [k for k in KEYWORD_SPLIT.split(str(value or "")) if k]


def status(value) -> str | None:
    """A status cell: a code (published) or its label (已发布); None when blank (the file does not say)."""
    name = text(value).strip()
    if not name:
        return None
    if name not in STATUS_NAMES:
        raise InvalidInput(f"状态 {name} 不合法（可用：{'、'.join(STATUS_LABELS.values())}，"
                           f"或 {'、'.join(STATUSES)}）")
    return STATUS_NAMES[name]


def date_cell(value) -> str | None:
    """A date cell as the article input takes it (checked there); blank clears the date."""
    return text(value).strip() or None


def db_id(external_id: str) -> int | None:
    """The database id an id written by the export names ("#333"), else None."""
    match = DB_ID.fullmatch(external_id)
    return int(match[1]) if match else None


def export_id(article: dict) -> str:
    return article["external_id"] or f"#{article['id']}"


def export_date(value) -> str:
    """A stored date in China time (ISO, with its zone), "" for none."""
    if not value:
        return ""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(CHINA).isoformat()
