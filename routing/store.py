"""Persistence: the rule table in the database and versioned model files on disk.

Model files live in ``<data_dir>/models/<version>.pkl``; the file ``ACTIVE``
there names the one in use. Without it the shipped default model is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from routing.rules import Rule, RuleError, RuleTable
from routing.tables import routing_models, routing_rules
from routing.taxonomy import Taxonomy

DEFAULT_MODEL = Path(__file__).with_name("data") / "default_model.pkl"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# -- model files ---------------------------------------------------------
def models_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models"


def active_pointer(data_dir: Path) -> Path:
    return models_dir(data_dir) / "ACTIVE"


def active_model_path(data_dir: Path | None) -> Path:
    """The model file to load: the one ACTIVE names (even if it is gone: loading it then fails and is reported),
    else the shipped default."""
    if data_dir is not None:
        pointer = active_pointer(data_dir)
        if pointer.exists():
            name = pointer.read_text(encoding="utf-8").strip()
            if name:
                return models_dir(data_dir) / name
    return DEFAULT_MODEL


class ModelFileError(ValueError):
    """A model file that may not be activated (message in Chinese, for the CLI and the API)."""


def activate_file(data_dir: Path, model_path: Path) -> None:
    """Point ACTIVE at a model file inside ``<data_dir>/models`` (atomic replace) once it loads."""
    from routing.classifier import RoutingModel  # sklearn only where models are handled

    folder = models_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    model_path = Path(model_path).resolve()
    if model_path.parent != folder.resolve():
        raise ModelFileError(f"模型文件必须位于模型目录 {folder} 中：{model_path}")
    try:
        RoutingModel.load(model_path)  # a file the service cannot load must never become the active one
    except Exception as exc:
        raise ModelFileError(f"模型文件无法加载（不存在、已损坏或格式不对），未启用：{model_path}") from exc
    tmp = folder / "ACTIVE.tmp"
    tmp.write_text(model_path.name, encoding="utf-8")
    tmp.replace(active_pointer(data_dir))


# -- rules ---------------------------------------------------------------
async def load_rules(conn: AsyncConnection) -> RuleTable | None:
    rows = (await conn.execute(sa.select(routing_rules).order_by(routing_rules.c.position))).mappings().all()
    if not rows:
        return None
    return RuleTable.from_rows({**r, "enabled": "1" if r["enabled"] else "0"} for r in rows)


MAX_RULE_ID = 2**31 - 1  # an integer column
RULE_LABELS = {"category": "分类", "request_type": "诉求类型", "area": "区域", "intake_line": "热线号码",
               "lead_unit": "主办单位", "co_units": "协办单位", "note": "备注"}


def check_rule_sizes(table: RuleTable) -> None:
    """Values the rule table's columns cannot hold (PostgreSQL refuses them) as a RuleError for the admin."""
    for r in table.rules:
        if not -MAX_RULE_ID <= r.id <= MAX_RULE_ID:
            raise RuleError(f"规则编号 {r.id} 超出范围（最大 {MAX_RULE_ID}）")
        row = r.to_row()
        for name, label in RULE_LABELS.items():
            limit = routing_rules.c[name].type.length
            if limit and len(row[name]) > limit:
                raise RuleError(f"规则 {r.id}：{label}（{name}）过长，最多 {limit} 个字符，现有 {len(row[name])} 个")


async def replace_rules(conn: AsyncConnection, table: RuleTable, *, actor: str = "system") -> None:
    """Replace the whole rule table (one transaction: the caller's). An empty table is refused: the next load
    would fill it from the shipped default (see ``rules_or_seed``), not keep it empty."""
    if not table.rules:
        raise RuleError("规则表中没有任何规则，未导入（空表会在下次加载时被内置示例规则替换）；"
                        "若要停用全部规则，请导入一条 enabled 为 0 的规则")
    check_rule_sizes(table)
    now = utcnow()
    await conn.execute(sa.delete(routing_rules))
    if table.rules:
        await conn.execute(sa.insert(routing_rules), [
            {"id": r.id, "position": i, "category": r.category, "request_type": r.request_type, "area": r.area,
             "intake_line": r.intake_line, "keywords": r.keywords, "lead_unit": r.lead_unit,
             "co_units": ";".join(r.co_units), "enabled": r.enabled, "note": r.note,
             "updated_by": actor, "updated_at": now}
            for i, r in enumerate(table.rules)])


async def rules_or_seed(conn: AsyncConnection) -> RuleTable:
    """The stored rule table; an empty table is first filled from the shipped default."""
    table = await load_rules(conn)
    if table is None:
        table = RuleTable.default()
        await replace_rules(conn, table, actor="system")
    return table


async def unit_codes(conn: AsyncConnection) -> set[str]:
    from hotline.tables import units

    return set((await conn.execute(sa.select(units.c.code))).scalars())


async def rule_units(conn: AsyncConnection) -> set[str]:
    """The unit codes a rule table may name: member units, not the hotline platform itself (a dispatch to it is
    refused, so a rule naming it would claim auto-dispatch and leave the ticket where it was). None yet is an
    error (a rule could only name units that do not exist)."""
    from hotline.tables import units

    codes = set((await conn.execute(sa.select(units.c.code).where(units.c.kind != "platform"))).scalars())
    if not codes:
        raise RuleError("还没有任何承办单位，规则无法指向单位：请先导入承办单位"
                        "（hotline units import 或 POST /api/v1/units/import）")
    return codes


# -- categories ------------------------------------------------------------
async def category_rows(conn: AsyncConnection) -> list[tuple[str, str, str | None]]:
    """The stored taxonomy (``categories`` table) as ``(code, name, parent_code)`` rows, by code."""
    from hotline.tables import categories

    parent = categories.alias("parent")
    rows = await conn.execute(
        sa.select(categories.c.code, categories.c.name, parent.c.code)
        .select_from(categories.outerjoin(parent, categories.c.parent_id == parent.c.id))
        .order_by(categories.c.code))
    return [(code, name, parent_code) for code, name, parent_code in rows]


def taxonomy_from_rows(rows: list[tuple[str, str, str | None]]) -> Taxonomy:
    """The stored taxonomy; the shipped ``categories.csv`` while the table is empty."""
    return Taxonomy.from_rows(rows, source="database") if rows else Taxonomy.from_csv()


def categories_stamp(rows: list[tuple[str, str, str | None]]) -> str:
    """A digest of the stored taxonomy: it changes with any added, renamed or moved category. (The table has no
    change time or version to compare, and it is small: a few thousand rows at most.)"""
    digest = hashlib.sha256()
    for row in rows:
        digest.update("\x1f".join(v or "" for v in row).encode("utf-8") + b"\x1e")
    return digest.hexdigest()


async def load_taxonomy(conn: AsyncConnection) -> Taxonomy:
    """What the router checks category codes against and names them by: the ``categories`` table, or the
    shipped ``categories.csv`` while it is empty."""
    return taxonomy_from_rows(await category_rows(conn))


# -- model registry --------------------------------------------------------
async def register_model(conn: AsyncConnection, *, version: str, path: Path, metrics: dict,
                         compared_with: dict | None, active: bool) -> None:
    now = utcnow()
    if active:
        await conn.execute(sa.update(routing_models).values(active=False))
    await conn.execute(sa.insert(routing_models).values(
        version=version, path=str(path), metrics=metrics, compared_with=compared_with, active=active,
        created_at=now, activated_at=now if active else None))


def rule_dicts(table: RuleTable) -> list[dict]:
    return [r.to_row() | {"id": r.id, "enabled": r.enabled, "co_units": r.co_units} for r in table.rules]


__all__ = ["Rule", "RuleTable", "DEFAULT_MODEL", "ModelFileError", "active_model_path", "activate_file",
           "load_rules", "replace_rules", "rules_or_seed", "register_model", "models_dir", "rule_dicts", "unit_codes",
           "category_rows", "categories_stamp", "load_taxonomy", "taxonomy_from_rows"]
