"""Export articles to CSV (UTF-8 with a BOM, so Excel opens it) or JSONL, in the form the import reads back.

``id`` is the article's external id, or ``#`` and its number in this database for an article made in the
console or through the API (the import recognises it); ``status`` is the status code; ``valid_from``,
``valid_to`` and ``review_due_at`` are ISO datetimes in China time. ``hotline kb import`` with the columns
listed in :data:`ROUND_TRIP` gives the same knowledge base back.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from knowledge.articles import STATUS_LABELS, STATUSES, _public, _select
from knowledge.evaluate import InputError
from knowledge.import_cells import export_date, export_id
from knowledge.tables import kb_articles

FIELDS = ["id", "title", "body", "category", "unit", "keywords", "status", "version", "updated_at",
          "valid_from", "valid_to", "review_due_at"]
# the import options that read an export back
ROUND_TRIP = ("--id-col id --title-col title --body-col body --category-col category --unit-col unit "
              "--keywords-col keywords --status-col status --valid-from-col valid_from --valid-to-col valid_to "
              "--review-due-col review_due_at")


def status_code(status: str) -> str:
    """A status filter named by code (published) or label (已发布); InputError for any other."""
    for code, label in STATUS_LABELS.items():
        if status in (code, label):
            return code
    raise InputError(f"未知的状态 {status}（可用：{'、'.join(STATUSES)}）")


async def export_file(engine, path, *, status: str | None = None) -> int:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise InputError("导出文件须以 .csv 或 .jsonl 结尾")
    query = _select().order_by(kb_articles.c.id)
    if status:
        query = query.where(kb_articles.c.status == status_code(status))
    async with engine.connect() as conn:
        rows = [_public(r) for r in (await conn.execute(query)).mappings().all()]

    def out(r):
        return {"id": export_id(r), "title": r["title"], "body": r["body_html"], "category": r["category"],
                "unit": r["unit_code"], "keywords": r["keywords"] or [], "status": r["status"],
                "version": r["version"], "updated_at": r["updated_at"],
                **{name: export_date(r[name]) or None for name in ("valid_from", "valid_to", "review_due_at")}}

    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS)
            writer.writeheader()
            for r in rows:
                writer.writerow({**out(r), "keywords": keyword_cell(r["keywords"] or [])})
    else:
        with path.open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(out(r), ensure_ascii=False) + "\n")
    return len(rows)


def keyword_cell(keywords: list[str]) -> str:
    """Keywords as one CSV cell that ``kb import`` splits back into the same list: joined with 、, or with
    ； when a keyword holds a 、 itself (中小学地方课程教材初审、审定、复查)."""
    return ("；" if any("、" in k for k in keywords) else "、").join(keywords)
