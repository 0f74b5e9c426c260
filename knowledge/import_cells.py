"""Reading one cell of an import file: body composition, category, unit, keywords, status, dates, ids.

Shared by :mod:`knowledge.importer` (reading) and :mod:`knowledge.exporter` (writing the same forms).

Cells as files carry them:

* A list is a list: a JSONL list, or a CSV cell holding a well-formed JSON array of strings
  (``["提价申报申请报告","营业执照"]``, as many systems export list fields; :func:`json_list`).
* Placeholders (:data:`DEFAULT_EMPTY_VALUES`: 无, 暂无, /, -, —; a trailing 。 or . ignored) are empty:
  a labelled body part is left out, a list item, keyword, category or unit dropped (:func:`Blank`).
* A keywords text cell is split by :func:`keywords` on one kind of separator (see there); a list is
  never split further.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import Counter

import sqlalchemy as sa

from hotline.tables import categories, units
from knowledge.articles import STATUS_LABELS, STATUSES
from knowledge.dates import CHINA
from knowledge.errors import InvalidInput

# A keywords cell is split on the first kind of separator it holds (see keywords()).
KEYWORD_SEPARATORS = (re.compile(r"[,，;；|｜\r\n]+"), re.compile(r"、+"), re.compile(r"\s+"))
# Cells that only say there is nothing (service guides fill many fields with 无).
DEFAULT_EMPTY_VALUES = ("无", "暂无", "/", "-", "—")
# The id the export writes for an article without an external id: "#" and its number in this database.
DB_ID = re.compile(r"#(\d{1,18})")
DATE_FIELDS = ("valid_from", "valid_to", "review_due_at")
STATUS_NAMES = {**{s: s for s in STATUSES}, **{label: s for s, label in STATUS_LABELS.items()}}


# Excel writes a control character in a cell as _xHHHH_ (OOXML's escape: 各位领导好_x000D_ is a line break); tools
# that export such workbooks to CSV often leave the escape in the text.
EXCEL_ESCAPE = re.compile(r"_x(00[01][0-9A-Fa-f])_")


def text(value) -> str:
    if value is None:
        return ""
    value = str(value)
    if "_x" not in value:
        return value
    value = EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value.replace("\r\n", "\n").replace("\r", "\n")


class Blank:
    """Which cell values mean "nothing" (``--empty-values``): compared whole, spaces and a trailing 。 or .
    ignored, so 「无」 and 「无。」 are empty while 「无线下办理窗口」 and 「无条件受理」 are text."""

    def __init__(self, values=DEFAULT_EMPTY_VALUES):
        self.values = frozenset(self._key(v) for v in values if self._key(v))

    @staticmethod
    def _key(value) -> str:
        return text(value).strip().rstrip("。.").strip() or text(value).strip()

    def __call__(self, value) -> bool:
        """Whether the cell (or one item of a list) says nothing."""
        return not text(value).strip() or self._key(value) in self.values


NO_PLACEHOLDERS = Blank(())


def parse_empty_values(spec: str | None) -> tuple[str, ...]:
    """``--empty-values "无,暂无,/"``: values separated by commas (, or ，); "" for none."""
    return tuple(v.strip() for v in re.split(r"[,，]", spec or "") if v.strip())


def json_list(value):
    """A CSV cell holding a well-formed JSON array of strings, or of strings and numbers, as the list it is
    (numbers as their text: ``[2023, "社保"]`` gives 2023 and 社保); any other value as it was: an array of
    numbers alone (``[1, 2]``) is as likely a body's text as a list."""
    items = _scalar_array(value) if isinstance(value, str) else None
    if items is None or (items and all(not isinstance(i, str) for i in items)):
        return value
    return [i if isinstance(i, str) else json.dumps(i) for i in items]


def _scalar_array(cell: str) -> list | None:
    """The items of a cell holding a well-formed JSON array of strings and numbers only; else None."""
    cell = cell.strip()
    if not (cell.startswith("[") and cell.endswith("]")):
        return None
    try:
        items = json.loads(cell)
    except ValueError:
        return None
    scalars = isinstance(items, list) and all(isinstance(i, (str, int, float)) and not isinstance(i, bool)
                                              for i in items)
    return items if scalars else None


def _number_list(cell: str) -> list[str] | None:
    """A cell holding a JSON array of numbers (keywords ``[2023, 2024]``), as their texts."""
    items = _scalar_array(cell)
    return [json.dumps(i) for i in items] if items is not None else None


def first(value, blank: Blank = NO_PLACEHOLDERS) -> str | None:
    """A scalar cell, or the first item of a JSON list (theme_category: ["交通出行", ...]); None when it
    says nothing."""
    if isinstance(value, list):
        value = next((v for v in value if not blank(v)), None)
    return None if blank(value) else text(value).strip()


def compose_body(row: dict, parts: list[tuple[str, str]], blank: Blank = NO_PLACEHOLDERS) -> str:
    """The body from one column (may be HTML, sanitised on save) or from labelled columns and lists; a
    part that says nothing (blank, or a placeholder such as 无, also after its label: 办理地点：无) is left out."""
    if len(parts) == 1 and not parts[0][0] and not isinstance(row.get(parts[0][1]), list):
        value = text(row.get(parts[0][1]))
        return "" if blank(value) else value
    out = []
    for label, column in parts:
        value = row.get(column)
        items = [text(v).strip() for v in value] if isinstance(value, list) else [text(value).strip()]
        if label and items and items[0].startswith((label + "：", label + ":")):  # "办理地点：…" already says it
            items[0] = items[0][len(label) + 1:].strip()
        items = [i for i in items if not blank(i)]
        if not items:
            continue
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
    """Unit code -> itself, and name -> code, so a file may name units as people write them (广东省教育厅)."""
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(units.c.name, units.c.code))).all()
    return {**{name: code for name, code in rows}, **{code: code for _, code in rows}}


def keywords(value, blank: Blank = NO_PLACEHOLDERS) -> list[str]:
    """A keywords cell as a list. A list (JSONL, or a CSV cell holding a JSON array) is taken as it is,
    never split further. A text cell is split on the first kind of separator it holds:
    line breaks, semicolons, commas or vertical bars (；;，,|); else the enumeration comma 、; else spaces.
    So ``社保卡、挂失`` gives two keywords, while ``中小学地方课程教材初审、审定、复查；教材`` keeps the
    name whole. Placeholders (无) are dropped."""
    if isinstance(value, list):
        items = [text(v).strip() for v in value]
    else:
        cell = text(value).strip()
        numbers = _number_list(cell)
        if numbers is not None:  # [2023, 2024]: not "[2023" and "2024]"
            return [k for k in numbers if not blank(k)]
        splitter = next((sep for sep in KEYWORD_SEPARATORS if sep.search(cell)), KEYWORD_SEPARATORS[-1])
        items = [k.strip() for k in splitter.split(cell)]
    return [k for k in items if not blank(k)]


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
