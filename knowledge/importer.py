"""Import and export articles (CSV or JSONL), upserting by the file's id column.

The body can come from one column (HTML allowed, sanitised) or be composed of
several, as service guides (办事指南) usually are: ``--body-col
"accept_standard,办理地点=handle_location,所需材料=material_intro"`` gives one
labelled paragraph per non-empty column, and JSON lists become bullet lists.

Rows are checked as the API checks an article (:mod:`knowledge.article_input`; the unit must exist,
named by code or by full name): a bad row is reported and the others imported. A category is named by
code or by name; one the taxonomy lacks is left empty with a warning, so the article is not lost.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from knowledge.articles import ArticleService, InvalidInput, _public, _select
from knowledge.errors import KbError
from knowledge.evaluate import InputError, read_rows, require_columns
from hotline.tables import categories, units
from knowledge.tables import kb_articles

KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass
class Columns:
    id: str
    title: str
    body: str  # "col" or "col1,标签=col2,..." (see the module docstring)
    category: str | None = None
    unit: str | None = None  # the unit's code or its full name
    keywords: str | None = None

    def body_parts(self) -> list[tuple[str, str]]:
        """(label, column) pairs; the label is "" when none was given."""
        parts = []
        for item in (p.strip() for p in self.body.split(",")):
            label, _, column = item.rpartition("=")
            if column.strip():
                parts.append((label.strip(), column.strip()))
        return parts


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (row number, what was left out)

    def as_json(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "failed": [{"row": n, "error": e} for n, e in self.failed],
                "warnings": [{"row": n, "warning": w} for n, w in self.warnings]}


def count_rows(path) -> int:
    return sum(1 for _ in read_rows(path))


async def import_file(service: ArticleService, user, path, cols: Columns, *, publish: bool = True,
                      progress: Callable[[int], None] | None = None) -> ImportReport:
    report = ImportReport()
    if not cols.body_parts():
        raise InputError("正文列不能为空")
    wanted = [c for c in (cols.id, cols.title, cols.category, cols.unit, cols.keywords) if c]
    wanted += [column for _, column in cols.body_parts()]
    unit_codes = await _unit_codes(service.engine) if cols.unit else {}
    category_codes = await _category_codes(service.engine) if cols.category else {}
    checked = False
    seen: dict[str, int] = {}  # id -> the row that had it first
    for number, row in enumerate(read_rows(path), 1):
        if not checked and isinstance(row, dict):
            require_columns(row, wanted, path)
            checked = True
        try:
            if not isinstance(row, dict):
                raise InvalidInput("不是 JSON 对象")
            external_id = _text(row.get(cols.id)).strip()
            if external_id in seen:  # a second row would silently overwrite the first
                raise InvalidInput(f"编号 {external_id} 与第 {seen[external_id]} 行重复")
            if external_id:
                seen[external_id] = number
            await _import_row(service, user, row, number, cols, publish, report, unit_codes, category_codes)
        except KbError as exc:  # bad data, an archived article, no permission ...: this row only
            report.failed.append((number, exc.message))
        if progress:
            progress(number)
    return report


async def _import_row(service, user, row: dict, number: int, cols: Columns, publish: bool, report: ImportReport,
                      unit_codes: dict[str, str], category_codes: dict[str, str]) -> None:
    external_id = _text(row.get(cols.id)).strip()
    if not external_id:
        raise InvalidInput("缺少编号")
    unit = _first(row.get(cols.unit)) if cols.unit else None
    category = _first(row.get(cols.category)) if cols.category else None
    data = {
        "external_id": external_id, "title": _text(row.get(cols.title)).strip(), "body": _body(row, cols),
        "category": _category(category, category_codes, number, report),
        "unit": unit_codes.get(unit, unit),
        "keywords": _keywords(row.get(cols.keywords)) if cols.keywords else [],
    }
    async with service.engine.connect() as conn:
        existing = (await conn.execute(_select().where(kb_articles.c.external_id == external_id))).mappings().first()
    if existing is None:
        article = await service.create(user, data)
        report.created += 1
    else:
        current = _public(existing)
        if (current["title"], current["body_html"], current["category"], current["unit_code"],
                current["keywords"]) == (data["title"], _clean(data["body"]), data["category"], data["unit"],
                                         data["keywords"]) and (current["status"] == "published" or not publish):
            report.unchanged += 1
            return
        # the file has no validity or review dates: keep the ones set in the console
        data.update({k: current[k] for k in ("valid_from", "valid_to", "review_due_at")})
        article = await service.update(user, current["id"], data)
        report.updated += 1
    if publish and article["status"] != "published":
        await service.transition(user, article["id"], "publish", "批量导入")


def _text(value) -> str:
    return "" if value is None else str(value)


def _first(value) -> str | None:
    """A scalar cell, or the first item of a JSON list (theme_category: ["交通出行", ...])."""
    if isinstance(value, list):
        value = next((v for v in value if _text(v).strip()), None)
    return _text(value).strip() or None


def _body(row: dict, cols: Columns) -> str:
    parts = cols.body_parts()
    if len(parts) == 1 and not parts[0][0] and not isinstance(row.get(parts[0][1]), list):
        return _text(row.get(parts[0][1]))  # one column: may be HTML, sanitised on save
    out = []
    for label, column in parts:
        value = row.get(column)
        items = [_text(v).strip() for v in value] if isinstance(value, list) else [_text(value).strip()]
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


async def _category_codes(engine) -> dict[str, str]:
    """Category code -> itself, and name -> code for names only one category has (a file may name 治安
    rather than C1001)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(categories.c.name, categories.c.code))).all()
    counts = Counter(name for name, _ in rows)
    return {**{name: code for name, code in rows if counts[name] == 1}, **{code: code for _, code in rows}}


def _category(value: str | None, codes: dict[str, str], number: int, report: ImportReport) -> str | None:
    """The category's code; a category the taxonomy lacks (a service guide's own themes, 户籍办理) is
    left out, with a warning, rather than losing the article."""
    if not value:
        return None
    if value not in codes:
        report.warnings.append((number, f"分类 {value} 不在分类表中，已留空"))
        return None
    return codes[value]


async def _unit_codes(engine) -> dict[str, str]:
    """Unit name -> code, so a file may name units as people write them (广东省教育厅)."""
    async with engine.connect() as conn:
        return {name: code for name, code in (await conn.execute(sa.select(units.c.name, units.c.code))).all()}


def _clean(body: str) -> str:
    from knowledge.sanitize import clean_html

    return clean_html(body)


def _keywords(value) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [k for k in KEYWORD_SPLIT.split(str(value or "")) if k]


async def export_file(engine, path, *, status: str | None = None) -> int:
    path = Path(path)
    query = _select().order_by(kb_articles.c.id)
    if status:
        query = query.where(kb_articles.c.status == status)
    async with engine.connect() as conn:
        rows = [_public(r) for r in (await conn.execute(query)).mappings().all()]
    fields = ["id", "title", "body", "category", "unit", "keywords", "status", "version", "updated_at"]

    def out(r):
        return {"id": r["external_id"] or str(r["id"]), "title": r["title"], "body": r["body_html"],
                "category": r["category"], "unit": r["unit_code"], "keywords": r["keywords"],
                "status": r["status"], "version": r["version"], "updated_at": r["updated_at"]}

    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(out(r), ensure_ascii=False) + "\n")
    elif path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            for r in rows:
                writer.writerow({**out(r), "keywords": "、".join(r["keywords"] or [])})
    else:
        raise InputError("导出文件须以 .csv 或 .jsonl 结尾")
    return len(rows)


async def seed_demo_articles(service) -> ImportReport:
    """Publish the demo city's knowledge base (first start of ``hotline serve``); the index job picks it up."""
    from hotline.users import SYSTEM
    from knowledge.data import DEMO_ARTICLES

    articles = ArticleService(service.engine, service.clock, index=None)
    user = type("DemoEditor", (), {"username": SYSTEM.username, "role": "admin", "unit_id": None})()
    return await import_file(articles, user, DEMO_ARTICLES, Columns("id", "title", "body", "category", "unit",
                                                                    "keywords"), publish=True)
