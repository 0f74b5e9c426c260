"""Member units (a hierarchy with contacts) and the category taxonomy.

Both import from CSV all-or-nothing: any bad row aborts the import with the
row number, and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.identity import InvalidPhone, is_email, normalize_phone
from hotline.jobs.notify import CONTACT_FIELD
from hotline.tables import categories, units

UNIT_KINDS = ("platform", "department", "district", "street", "utility", "emergency")
UNIT_COLUMNS = ("code", "name", "kind", "parent_code")
CONTACT_COLUMNS = ("name", "phone", "email")
# Unit notices go to a contact field per channel; only channels whose field the CSV can fill can reach anyone.
NOTIFY_CHANNELS = tuple(ch for ch, field in CONTACT_FIELD.items() if field in CONTACT_COLUMNS)
CHANNEL_SEPARATORS = re.compile(r"[;,|]")


class ImportError_(ValueError):
    """A CSV row that cannot be imported; the message names the row."""


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    kind: str
    parent_code: str | None
    contacts: list[dict] | None  # None: the file has no contact columns, the stored contacts stay
    notify_channels: list[str] | None  # None: no notify_channels column, the stored channels stay


def parse_units_csv(text: str) -> list[UnitRow]:
    """Rows of a units CSV; ``notify_channels`` may be separated by ``;``, ``,`` or ``|``."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in UNIT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_(f"缺少列：{', '.join(missing)}")
    columns = set(reader.fieldnames or [])
    has_contacts = any(f"contact_{k}" in columns for k in CONTACT_COLUMNS)
    has_channels = "notify_channels" in columns
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
        contact = {k: (rec.get(f"contact_{k}") or "").strip() for k in CONTACT_COLUMNS}
        _check_contact(line, contact)
        channels = [c.strip() for c in CHANNEL_SEPARATORS.split(rec.get("notify_channels") or "") if c.strip()]
        for channel in channels:
            if channel not in NOTIFY_CHANNELS:
                raise ImportError_(f"第 {line} 行：不支持的通知渠道 {channel!r}"
                                   f"（可用：{'、'.join(NOTIFY_CHANNELS)}）")
        rows.append(UnitRow(code, name, kind, (rec.get("parent_code") or "").strip() or None,
                            ([contact] if any(contact.values()) else []) if has_contacts else None,
                            channels if has_channels else None))
    return rows


def _check_contact(line: int, contact: dict[str, str]) -> None:
    if contact["phone"]:
        try:
            normalize_phone(contact["phone"])
        except InvalidPhone:
            raise ImportError_(f"第 {line} 行：无法识别的联系电话 {contact['phone']!r}") from None
    if contact["email"] and not is_email(contact["email"]):
        raise ImportError_(f"第 {line} 行：联系邮箱格式不正确 {contact['email']!r}")


async def import_units(conn: AsyncConnection, rows: list[UnitRow], now: dt.datetime) -> dict[str, int]:
    """Insert or update units by code; parents may come later in the file or already exist."""
    stored = (await conn.execute(sa.select(units.c.code, units.c.id, units.c.parent_id))).all()
    existing, _ = _check_hierarchy(stored, rows, "单位")
    created = updated = 0
    for row in rows:
        values = dict(name=row.name, kind=row.kind)
        if row.contacts is not None:
            values["contacts"] = row.contacts
        if row.notify_channels is not None:
            values["notify_channels"] = row.notify_channels
        if row.code in existing:
            await conn.execute(sa.update(units).where(units.c.code == row.code).values(**values))
            updated += 1
        else:
            values.setdefault("contacts", [])
            values.setdefault("notify_channels", [])
            existing[row.code] = (await conn.execute(
                sa.insert(units).values(code=row.code, active=True, created_at=now, **values).returning(units.c.id)
            )).scalar_one()
            created += 1
    for row in rows:
        parent_id = existing[row.parent_code] if row.parent_code else None
        await conn.execute(sa.update(units).where(units.c.code == row.code).values(parent_id=parent_id))
    return {"created": created, "updated": updated}


def _check_hierarchy(stored, rows, what: str) -> tuple[dict[str, int], dict[str, str | None]]:
    """The stored rows' ids by code and every code's parent code after the import, once every parent the file names exists (in the file, maybe later, or
    stored), none is the row itself and no cycle forms; else :class:`ImportError_`."""
    existing = {r.code: r.id for r in stored}
    code_of = {r.id: r.code for r in stored}
    known = set(existing) | {r.code for r in rows}
    parents = {r.code: code_of.get(r.parent_id) for r in stored} | {r.code: r.parent_code for r in rows}
    for row in rows:
        if row.parent_code and row.parent_code not in known:
            raise ImportError_(f"{what} {row.code} 的上级{what} {row.parent_code} 不存在")
        if row.parent_code == row.code:
            raise ImportError_(f"{what} {row.code} 不能以自己为上级")
        _check_no_cycle(row.code, parents, what)
    return existing, parents


def _check_no_cycle(code: str, parents: dict[str, str | None], what: str = "单位") -> None:
    """A unit may not end up above itself (云湖区 under 湖滨街道 under 云湖区): urges go to the parent;
    nor a category (its level is its depth)."""
    seen, current = {code}, parents.get(code)
    while current:
        if current in seen:
            raise ImportError_(f"{what} {code} 的上级关系形成循环（{current}）")
        seen.add(current)
        current = parents.get(current)


CATEGORY_COLUMNS = ("code", "name", "parent_code")
CODE_CHARS, NAME_CHARS = categories.c.code.type.length, categories.c.name.type.length


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name: str
    parent_code: str | None


def parse_categories_csv(text: str) -> list[CategoryRow]:
    """Rows of a category taxonomy CSV (``code,name,parent_code``; an empty parent_code is a first-level
    category); a parent may come later in the file or already be stored."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CATEGORY_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_(f"缺少列：{', '.join(missing)}")
    rows: list[CategoryRow] = []
    seen: set[str] = set()
    for line, rec in enumerate(reader, start=2):
        code = (rec.get("code") or "").strip()
        name = (rec.get("name") or "").strip()
        parent = (rec.get("parent_code") or "").strip() or None
        if not code or not name:
            raise ImportError_(f"第 {line} 行：code 和 name 不能为空")
        if len(code) > CODE_CHARS or len(name) > NAME_CHARS:
            raise ImportError_(f"第 {line} 行：分类编码最多 {CODE_CHARS} 个字符，名称最多 {NAME_CHARS} 个字符")
        if code in seen:
            raise ImportError_(f"第 {line} 行：分类编码 {code} 重复")
        if parent == code:
            raise ImportError_(f"第 {line} 行：分类 {code} 不能以自己为上级")
        seen.add(code)
        rows.append(CategoryRow(code, name, parent))
    return rows


async def import_categories(conn: AsyncConnection, rows: list[CategoryRow] | str) -> dict[str, int]:
    """Insert or update categories by code (``rows`` or the CSV's text); parents may come later in the file
    or already exist. Each category's level is its depth (1 for a first-level one), also for stored
    categories under one the file moves."""
    if isinstance(rows, str):
        rows = parse_categories_csv(rows)
    stored = (await conn.execute(sa.select(categories.c.code, categories.c.id, categories.c.parent_id,
                                           categories.c.level))).all()
    existing, parents = _check_hierarchy(stored, rows, "分类")
    created = updated = 0
    for row in rows:
        if row.code in existing:
            await conn.execute(sa.update(categories).where(categories.c.code == row.code).values(name=row.name))
            updated += 1
        else:
            existing[row.code] = (await conn.execute(sa.insert(categories).values(
                code=row.code, name=row.name, level=1).returning(categories.c.id))).scalar_one()
            created += 1
    for row in rows:
        parent_id = existing[row.parent_code] if row.parent_code else None
        await conn.execute(sa.update(categories).where(categories.c.code == row.code).values(parent_id=parent_id))
    old_level = {r.code: r.level for r in stored}
    for code in existing:
        level = _depth(code, parents)
        if old_level.get(code) != level:
            await conn.execute(sa.update(categories).where(categories.c.code == code).values(level=level))
    return {"created": created, "updated": updated}


def _depth(code: str, parents: dict[str, str | None]) -> int:
    level = 1
    while parents.get(code):
        code, level = parents[code], level + 1
    return level


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
