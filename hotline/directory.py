"""Member units (a hierarchy with contacts) and the category taxonomy.

Both import from CSV all-or-nothing: any bad row aborts the import with the
row number, and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.tables import categories, units

UNIT_KINDS = ("platform", "department", "district", "street", "utility", "emergency")
UNIT_COLUMNS = ("code", "name", "kind", "parent_code")


class ImportError_(ValueError):
    """A CSV row that cannot be imported; the message names the row."""


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: str
    parent_code: str | None
    contacts: list[dict]
    notify_channels: list[str]


def parse_units_csv(text: str) -> list[UnitRow]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in UNIT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_(f"缺少列：{', '.join(missing)}")
    rows: list[UnitRow] = []
    seen: set[str] = set()
    for line, rec in enumerate(reader, start=2):
        code = (rec.get("code") or "").strip()
        name = (rec.get("name") or "").strip()
        kind = (rec.get("kind") or "").strip()
        if not code or not name:
            raise ImportError_(f"第 {line} 行：code 和 name 不能为空")
        if kind not in UNIT_KINDS:
            raise ImportError_(f"第 {line} 行：未知单位类型 {kind!r}（可用：{'、'.join(UNIT_KINDS)}）")
        if code in seen:
            raise ImportError_(f"第 {line} 行：单位编码 {code} 重复")
        seen.add(code)
        contact = {k: (rec.get(f"contact_{k}") or "").strip() for k in ("name", "phone", "email")}
        channels = [c.strip() for c in (rec.get("notify_channels") or "").replace(",", ";").split(";") if c.strip()]
        rows.append(UnitRow(code, name, kind, (rec.get("parent_code") or "").strip() or None,
                            [contact] if any(contact.values()) else [], channels))
    return rows


async def import_units(conn: AsyncConnection, rows: list[UnitRow], now: dt.datetime) -> dict[str, int]:
    """Insert or update units by code; parents may come later in the file or already exist."""
    existing = {r.code: r.id for r in await conn.execute(sa.select(units.c.code, units.c.id))}
    known = set(existing) | {r.code for r in rows}
    for row in rows:
        if row.parent_code and row.parent_code not in known:
            raise ImportError_(f"单位 {row.code} 的上级单位 {row.parent_code} 不存在")
        if row.parent_code == row.code:
            raise ImportError_(f"单位 {row.code} 不能以自己为上级")
    created = updated = 0
    for row in rows:
        values = dict(name=row.name, kind=row.kind, contacts=row.contacts, notify_channels=row.notify_channels)
        if row.code in existing:
            await conn.execute(sa.update(units).where(units.c.code == row.code).values(**values))
            updated += 1
        else:
            existing[row.code] = (await conn.execute(
                sa.insert(units).values(code=row.code, active=True, created_at=now, **values).returning(units.c.id)
            )).scalar_one()
            created += 1
    for row in rows:
        parent_id = existing[row.parent_code] if row.parent_code else None
        await conn.execute(sa.update(units).where(units.c.code == row.code).values(parent_id=parent_id))
    return {"created": created, "updated": updated}


async def import_categories(conn: AsyncConnection, text: str) -> int:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    ids = {r.code: (r.id, r.level) for r in await conn.execute(sa.select(categories.c.code, categories.c.id,
                                                                         categories.c.level))}
    count = 0
    for line, rec in enumerate(reader, start=2):
        code, name = rec["code"].strip(), rec["name"].strip()
        parent = (rec.get("parent_code") or "").strip() or None
        if parent and parent not in ids:
            raise ImportError_(f"第 {line} 行：上级分类 {parent} 不存在（上级须在前）")
        parent_id, level = (ids[parent][0], ids[parent][1] + 1) if parent else (None, 1)
        if code in ids:
            await conn.execute(sa.update(categories).where(categories.c.code == code)
                               .values(name=name, parent_id=parent_id, level=level))
        else:
            new_id = (await conn.execute(sa.insert(categories).values(
                code=code, name=name, parent_id=parent_id, level=level).returning(categories.c.id))).scalar_one()
            ids[code] = (new_id, level)
        count += 1
    return count


async def unit_by_code(conn: AsyncConnection, code: str):
    return (await conn.execute(sa.select(units).where(units.c.code == code))).first()


async def category_by_code(conn: AsyncConnection, code: str):
    return (await conn.execute(sa.select(categories).where(categories.c.code == code))).first()


async def list_units(conn: AsyncConnection) -> list[dict]:
    parent = units.alias("parent")
    rows = await conn.execute(
        sa.select(units, parent.c.code.label("parent_code"))
        .select_from(units.outerjoin(parent, units.c.parent_id == parent.c.id)).order_by(units.c.id)
    )
    return [dict(r._mapping) for r in rows]


async def list_categories(conn: AsyncConnection) -> list[dict]:
    parent = categories.alias("parent")
    rows = await conn.execute(
        sa.select(categories, parent.c.code.label("parent_code"))
        .select_from(categories.outerjoin(parent, categories.c.parent_id == parent.c.id))
        .order_by(categories.c.code)
    )
    return [dict(r._mapping) for r in rows]
