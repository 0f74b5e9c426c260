"""Import articles (CSV or JSONL), upserting by the file's id column; export is :mod:`knowledge.exporter`.

The body can come from one column (HTML allowed, sanitised) or be composed of
several, as service guides (办事指南) usually are: ``--body-col
"accept_standard,办理地点=handle_location,所需材料=material_intro"`` gives one
labelled paragraph per non-empty column, and JSON lists become bullet lists.

Rows are checked as the API checks an article (:mod:`knowledge.article_input`; the unit must exist,
named by code or by full name): a bad row is reported with its row number (a CSV row as a spreadsheet
numbers it, the header being row 1; a JSONL row by its line) and the others imported. A category is
named by code or by name; one the taxonomy lacks is left empty with a warning, so the article is not lost.

Only the fields whose column is given are set: an existing article keeps the others, as the API's PUT
does; a new article gets none. Status: without a status column, new articles are published (drafts with
``publish=False``) and an existing article is left in its status unless the row changes it; with one, each
row's article is moved to the status the row names (:func:`knowledge.import_status.plan`).

Cells (:mod:`knowledge.import_cells`): a CSV cell holding a JSON array of strings is a list, as in JSONL;
placeholders (``empty_values``, default 无, 暂无, /, -, —) are empty; a keyword over 50 characters is
dropped with a warning (the row is imported). A unit the unit table lacks (``unknown_unit``): ``"fail"``
reports the row as not imported, ``"empty"`` imports it without a unit (an existing article keeps its
unit) with a warning; either way :attr:`ImportReport.missing_units` lists each missing unit once with
its rows, and units are made by ``hotline units import``, not here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge import import_cells as cells
from knowledge.article_input import MAX_KEYWORD_CHARS, ArticleInput, edited, parse_input
from knowledge.articles import ArticleService, InvalidInput, _public, _select
from knowledge.errors import Conflict, KbError
from knowledge.evaluate import InputError, numbered_rows, require_columns
from knowledge.exporter import export_file  # noqa: F401  (kept importable from here)
from knowledge.import_status import NEW, plan
from knowledge.sanitize import clean_html
from knowledge.tables import kb_articles


@dataclass
class Columns:
    id: str
    title: str
    body: str  # "col" or "col1,标签=col2,..." (see the module docstring)
    category: str | None = None
    unit: str | None = None  # the unit's code or its full name
    keywords: str | None = None
    status: str | None = None  # a status code (published) or label (已发布); blank: the file does not say
    valid_from: str | None = None
    valid_to: str | None = None
    review_due_at: str | None = None

    def body_parts(self) -> list[tuple[str, str]]:
        """(label, column) pairs; the label is "" when none was given."""
        parts = []
        for item in (p.strip() for p in self.body.split(",")):
            label, _, column = item.rpartition("=")
            if column.strip():
                parts.append((label.strip(), column.strip()))
        return parts

    def named(self) -> list[str]:
        return [c for c in (self.id, self.title, self.category, self.unit, self.keywords, self.status,
                            self.valid_from, self.valid_to, self.review_due_at) if c]


UNKNOWN_UNIT_MODES = ("fail", "empty")


def unit_missing(name: str) -> str:
    """A row's failure for a unit the unit table lacks (``unknown_unit="fail"``)."""
    return f"单位 {name} 不存在"


def unit_left_empty(name: str) -> str:
    """A row's warning for a unit the unit table lacks (``unknown_unit="empty"``)."""
    return f"单位 {name} 不存在，未设置责任单位"


def category_left_empty(name: str) -> str:
    """A row's warning for a category the taxonomy lacks: the row is imported without a category."""
    return f"分类 {name} 不在分类表中，已留空"


def by_rows(named: dict[str, list[int]]) -> list[tuple[str, list[int]]]:
    """(name, rows) pairs, the name most rows gave first."""
    return sorted(named.items(), key=lambda item: (-len(item[1]), item[1][0]))


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (row number, what was left out)
    missing_units: dict[str, list[int]] = field(default_factory=dict)  # unit named by the file -> its rows
    # category named by the file but not in the taxonomy -> the imported rows left without one
    missing_categories: dict[str, list[int]] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "failed": [{"row": n, "error": e} for n, e in self.failed],
                "warnings": [{"row": n, "warning": w} for n, w in self.warnings],
                "missing_units": [{"unit": name, "rows": len(rows), "first_row": rows[0]}
                                  for name, rows in self.missing_units_by_rows()],
                "missing_categories": [{"category": name, "rows": len(rows), "first_row": rows[0]}
                                       for name, rows in self.missing_categories_by_rows()]}

    def missing_units_by_rows(self) -> list[tuple[str, list[int]]]:
        """Missing units, the one named by most rows first."""
        return by_rows(self.missing_units)

    def missing_categories_by_rows(self) -> list[tuple[str, list[int]]]:
        return by_rows(self.missing_categories)

    def missing_unit_rows(self) -> int:
        return sum(len(rows) for rows in self.missing_units.values())

    def unsummarised(self) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        """(failures, warnings) other than the missing units' (which :attr:`missing_units` sums up)."""
        said = {(n, unit_missing(name)) for name, rows in self.missing_units.items() for n in rows}
        said |= {(n, unit_left_empty(name)) for name, rows in self.missing_units.items() for n in rows}
        said |= {(n, category_left_empty(name)) for name, rows in self.missing_categories.items() for n in rows}
        return [f for f in self.failed if f not in said], [w for w in self.warnings if w not in said]


def count_rows(path) -> int:
    """The number of data rows; InputError for a missing, unreadable or empty file."""
    require_content(path)
    count = sum(1 for _ in numbered_rows(path))
    if not count:
        raise InputError(f"{Path(path).name} 没有数据行")
    return count


def require_content(path) -> None:
    path = Path(path)
    if path.is_file():
        with path.open("rb") as fh:
            head = fh.read(4096)
        if not head.removeprefix(b"\xef\xbb\xbf").strip() and path.stat().st_size <= 4096:
            raise InputError(f"文件为空：{path.name}")


@dataclass
class _Run:
    service: ArticleService
    user: object
    cols: Columns
    publish: bool
    report: ImportReport
    unit_codes: dict[str, str]
    category_codes: dict[str, str]
    blank: cells.Blank = field(default_factory=cells.Blank)
    unknown_unit: str = "fail"
    list_columns: frozenset[str] = frozenset()  # CSV columns whose JSON-array cells are lists


async def import_file(service: ArticleService, user, path, cols: Columns, *, publish: bool = True,
                      progress: Callable[[int], None] | None = None,
                      empty_values: Iterable[str] = cells.DEFAULT_EMPTY_VALUES,
                      unknown_unit: str = "fail") -> ImportReport:
    """Import ``path``; ``progress(n)`` after each of its n rows. ``publish=False`` (``--draft``): new
    articles stay drafts and an edit of a published or expired article goes back to review.
    ``empty_values``: cell values meaning "nothing" (``()`` for none); ``unknown_unit``: ``"fail"`` or
    ``"empty"`` for a row naming a unit the unit table lacks (see the module docstring)."""
    if not cols.body_parts():
        raise InputError("正文列不能为空")
    if cols.status and not publish:
        raise InputError("导入为草稿（--draft）时不能同时指定状态列（--status-col）")
    if unknown_unit not in UNKNOWN_UNIT_MODES:
        raise InputError(f"未知单位的处理方式只能是 {' 或 '.join(UNKNOWN_UNIT_MODES)}")
    require_content(path)
    wanted = cols.named() + [column for _, column in cols.body_parts()]
    is_csv = Path(path).suffix.lower() not in (".jsonl", ".ndjson")  # as knowledge.evaluate.numbered_rows reads it
    list_columns = frozenset([column for _, column in cols.body_parts()]
                             + [c for c in (cols.category, cols.unit, cols.keywords) if c]) if is_csv else frozenset()
    run = _Run(service, user, cols, publish, ImportReport(),
               await cells.unit_codes(service.engine) if cols.unit else {},
               await cells.category_codes(service.engine) if cols.category else {},
               cells.Blank(empty_values), unknown_unit, list_columns)
    checked = False
    seen: dict[str, int] = {}  # id -> the row that had it first
    done = 0
    for number, row in numbered_rows(path):
        if not checked and isinstance(row, dict):
            require_columns(row, wanted, path)
            checked = True
        warned = len(run.report.warnings)
        try:
            if not isinstance(row, dict):
                raise InvalidInput("不是 JSON 对象")
            external_id = cells.text(row.get(cols.id)).strip()
            if external_id in seen:  # a second row would silently overwrite the first
                raise InvalidInput(f"编号 {external_id} 与第 {seen[external_id]} 行重复")
            if external_id:
                seen[external_id] = number
            if run.list_columns:
                row = {k: cells.json_list(v) if k in run.list_columns else v for k, v in row.items()}
            await _import_row(run, row, number)
        except KbError as exc:  # bad data, an archived article, no permission ...: this row only
            run.report.failed.append((number, exc.message))
            del run.report.warnings[warned:]  # what was left out of a row not imported does not matter
            _forget_category_row(run.report, number)
        done += 1
        if progress:
            progress(done)
    if not done:
        raise InputError(f"{Path(path).name} 没有数据行")
    return run.report


def _row_data(run: _Run, row: dict, number: int) -> dict:
    """The article fields the row sets: only those whose column was given."""
    cols = run.cols
    data = {"external_id": cells.text(row.get(cols.id)).strip(), "title": cells.text(row.get(cols.title)).strip(),
            "body": cells.compose_body(row, cols.body_parts(), run.blank)}
    if cols.category:
        data["category"] = _category(cells.first(row.get(cols.category), run.blank), run, number)
    if cols.unit:  # blank: none for a new article, kept by an existing one
        data["unit"] = _unit(cells.first(row.get(cols.unit), run.blank), run, number)
    if cols.keywords:
        data["keywords"] = _keywords(cells.keywords(row.get(cols.keywords), run.blank), run, number)
    for name in cells.DATE_FIELDS:
        if getattr(cols, name):
            data[name] = cells.date_cell(row.get(getattr(cols, name)))
    return data


async def _import_row(run: _Run, row: dict, number: int) -> None:
    data = _row_data(run, row, number)
    if not data["external_id"]:
        raise InvalidInput("缺少编号")
    target = cells.status(row.get(run.cols.status)) if run.cols.status else None
    current = await _find(run.service.engine, data["external_id"])
    if current is None:
        await _create(run, parse_input(data), target or ("published" if run.publish else "draft"))
        run.report.created += 1
        return
    item = parse_input(edited(current, {k: v for k, v in data.items() if k != "external_id"}))
    changed = _differs(current, item)
    status = current["status"]
    if target is not None:
        moves = plan(status, target, changed=changed)
    elif status == "archived":  # the file does not say: an archived article stays as it is
        moves = plan(status, status, changed=changed)
    elif run.publish and (status in ("draft", "in_review") or (status == "expired" and changed)):
        moves = ["publish"]  # published as new articles are (an expired one only when the row changes it)
    else:
        moves = []
    if not changed and not moves:
        run.report.unchanged += 1
        return
    _check_publishable(item, moves, run.service.clock.now())
    if moves[:1] in (["restore"], ["expire"]):  # not edited while archived; not saved as published past its end
        await _move(run, current["id"], moves[:1])
        moves = moves[1:]
    if changed:  # --draft: a published article's edit waits as a pending revision; an expired one goes to review
        await run.service.update(run.user, current["id"], item, to_review=not run.publish)
    await _move(run, current["id"], moves)
    run.report.updated += 1


async def _create(run: _Run, item: ArticleInput, target: str) -> None:
    moves = NEW[target]
    _check_publishable(item, moves if target != "expired" else [], run.service.clock.now())
    if target == "expired":  # only a published article expires: published without its end date first
        article = await run.service.create(run.user, item.model_copy(update={"valid_to": None}))
        await _move(run, article["id"], moves)
        if item.valid_to:
            await run.service.update(run.user, article["id"], item)
        return
    article = await run.service.create(run.user, item)
    await _move(run, article["id"], moves)


async def _move(run: _Run, article_id: int, actions: list[str]) -> None:
    for action in actions:
        await run.service.transition(run.user, article_id, action, "批量导入")


def _check_publishable(item: ArticleInput, moves: list[str], now: dt.datetime) -> None:
    """Refuse the row before anything is written when it would publish an article past its validity."""
    if "publish" in moves and item.valid_to and item.valid_to < now:
        raise Conflict("失效日期已过，不能发布；请修改失效日期，或把状态写为“已过期”")


async def _find(engine, external_id: str) -> dict | None:
    """The article the row's id names: by external id, else ``#N`` (written by the export) as article N."""
    async with engine.connect() as conn:
        row = (await conn.execute(_select().where(kb_articles.c.external_id == external_id))).mappings().first()
        article_id = cells.db_id(external_id)
        if row is not None or article_id is None:
            return _public(row) if row is not None else None
        row = (await conn.execute(_select().where(kb_articles.c.id == article_id))).mappings().first()
    if row is None:
        raise InvalidInput(f"编号 {external_id} 指本库第 {article_id} 条知识，但本库没有这条知识"
                           "（# 加数字的编号由导出生成，只能导回导出它的知识库）")
    if row["external_id"] is not None:
        raise InvalidInput(f"编号 {external_id} 指本库第 {article_id} 条知识，但该知识的编号是 {row['external_id']}")
    return _public(row)


def _differs(current: dict, item: ArticleInput) -> bool:
    """Whether saving ``item`` would change the article (the unit stays when none is named)."""
    def when(value):
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value

    return (current["title"], current["body_html"], current["category"], current["unit_code"],
            list(current["keywords"] or []), *(when(current[k]) for k in cells.DATE_FIELDS)) != (
        item.title.strip(), clean_html(item.body), item.category, item.unit or current["unit_code"],
        item.keywords, *(getattr(item, k) for k in cells.DATE_FIELDS))


def _unit(value: str | None, run: _Run, number: int) -> str | None:
    """The unit's code; a unit the unit table lacks fails the row or, with ``unknown_unit="empty"``, is
    left out with a warning. Either way it is counted in the report's ``missing_units``."""
    if not value or value in run.unit_codes:
        return run.unit_codes.get(value) if value else None
    rows = run.report.missing_units.setdefault(value, [])
    if number not in rows:
        rows.append(number)
    if run.unknown_unit == "fail":
        raise InvalidInput(unit_missing(value))
    run.report.warnings.append((number, unit_left_empty(value)))
    return None


def _keywords(words: list[str], run: _Run, number: int) -> list[str]:
    """The row's keywords without those over the article's limit, each dropped with a warning (one long
    keyword, often a whole sentence, does not lose the article)."""
    kept = []
    for word in words:
        if len(word) > MAX_KEYWORD_CHARS:
            shown = word if len(word) <= 20 else word[:20] + "…"
            run.report.warnings.append((number, f"关键词“{shown}”共 {len(word)} 字，超过 {MAX_KEYWORD_CHARS} 字，已略去"))
        else:
            kept.append(word)
    return kept


def _category(value: str | None, run: _Run, number: int) -> str | None:
    """The category's code; a category the taxonomy lacks (a service guide's own themes, 户籍办理) is
    left out, with a warning, rather than losing the article."""
    if not value:
        return None
    if value not in run.category_codes:
        run.report.warnings.append((number, category_left_empty(value)))
        rows = run.report.missing_categories.setdefault(value, [])
        if number not in rows:
            rows.append(number)
        return None
    return run.category_codes[value]


def _forget_category_row(report: ImportReport, number: int) -> None:
    """A row that failed after its category was found missing: it left no article without a category."""
    for name, rows in list(report.missing_categories.items()):
        if number in rows:
            rows.remove(number)
            if not rows:
                del report.missing_categories[name]


async def seed_demo_articles(service) -> ImportReport:
    """Publish the demo city's knowledge base (first start of ``hotline serve``); the index job picks it up."""
    from hotline.users import SYSTEM
    from knowledge.data import DEMO_ARTICLES

    articles = ArticleService(service.engine, service.clock, index=None)
    user = type("DemoEditor", (), {"username": SYSTEM.username, "role": "admin", "unit_id": None})()
    return await import_file(articles, user, DEMO_ARTICLES, Columns("id", "title", "body", "category", "unit",
                                                                    "keywords"), publish=True)
