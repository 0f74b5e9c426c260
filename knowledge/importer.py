"""Import and export articles (CSV or JSONL), upserting by the file's id column."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.articles import ArticleService, InvalidInput, _public, _select
from knowledge.errors import KbError
from knowledge.evaluate import InputError, read_rows, require_columns
from knowledge.tables import kb_articles

KEYWORD_SPLIT = re.compile(r"[,，、;；\s]+")


@dataclass
class Columns:
    id: str
    title: str
    body: str
    category: str | None = None
    unit: str | None = None
    keywords: str | None = None


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)

    def as_json(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "failed": [{"row": n, "error": e} for n, e in self.failed]}


def count_rows(path) -> int:
    return sum(1 for _ in read_rows(path))


async def import_file(service: ArticleService, user, path, cols: Columns, *, publish: bool = True,
                      progress: Callable[[int], None] | None = None) -> ImportReport:
    report = ImportReport()
    wanted = [c for c in (cols.id, cols.title, cols.body, cols.category, cols.unit, cols.keywords) if c]
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
            await _import_row(service, user, row, cols, publish, report)
        except KbError as exc:  # bad data, an archived article, no permission ...: this row only
            report.failed.append((number, exc.message))
        if progress:
            progress(number)
    return report


async def _import_row(service, user, row: dict, cols: Columns, publish: bool, report: ImportReport) -> None:
    external_id = _text(row.get(cols.id)).strip()
    if not external_id:
        raise InvalidInput("缺少编号")
    data = {
        "external_id": external_id, "title": _text(row.get(cols.title)).strip(), "body": _text(row.get(cols.body)),
        "category": (row.get(cols.category) or None) if cols.category else None,
        "unit": (row.get(cols.unit) or None) if cols.unit else None,
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
