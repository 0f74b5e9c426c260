"""The routing rule table: (category, request type, area, intake line, keywords) -> units.

Rules are checked in order and the first match wins. A rule's ``lead_unit``
may be ``@street`` or ``@district``: the unit of the area found in the text
(a street office or district government); when the text names no such area
the rule does not match and the next rule is tried, so general rules can
follow specific ones like nested routers.

Several values in one cell: ``category``, ``request_type``, ``area``, ``intake_line`` and ``keywords`` are
separated by ``|`` (``公积金|住房公积金``: any one), ``co_units`` by ``;`` (``|`` is read too); in JSON a list
means its items. An import (``strict``) refuses an empty item (``公积金||``, or a cell of ``|`` alone, which
would name no keyword) and the separators people type by habit (``，`` ``,`` ``、`` ``；`` ``;``, and
``,`` ``，`` ``、`` ``；`` in ``co_units``), naming the column's separator: they are never guessed at.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

from hotline.lifecycle import REQUEST_TYPES
from hotline.messages import INTAKE_LINES
from hotline.textnorm import normalise

DEFAULT_RULES = Path(__file__).with_name("data") / "rules.csv"
FIELDS = ["id", "category", "request_type", "area", "intake_line", "keywords", "lead_unit", "co_units", "enabled", "note"]
AREA_UNITS = ("@street", "@district")
AREA_LEVELS = ("district", "street", "community")  # the area keys a rule's ``area`` is matched against
# How the ``enabled`` column may be spelled (compared lower-case); anything else is refused. Empty: enabled.
# The columns that hold several values, and the separator they are written with (``co_units`` also reads ``|``).
# A JSON list for one of them means its items, joined with this separator.
LIST_COLUMNS = {"category": "|", "request_type": "|", "area": "|", "intake_line": "|", "keywords": "|",
                "co_units": ";"}
COLUMN_LABELS = {"id": "规则编号", "category": "分类", "request_type": "诉求类型", "area": "区域",
                 "intake_line": "热线号码", "keywords": "关键词", "lead_unit": "主办单位", "co_units": "协办单位",
                 "enabled": "启用", "note": "备注"}
# Separators people write by habit (Excel, Chinese punctuation): refused in list cells, never guessed at, since a
# keyword "公积金、住房公积金" would otherwise be one long keyword that never matches.
OTHER_SEPARATORS = ("，", ",", "、", "；", ";")
ENABLED_WORDS = {**dict.fromkeys(("1", "true", "yes", "y", "on", "是", "启用"), True),
                 **dict.fromkeys(("0", "false", "no", "n", "off", "否", "停用", "禁用"), False)}


class RuleError(ValueError):
    """A rule table that cannot be used; the message is for the admin (Chinese)."""


@dataclass(frozen=True)
class Vocabulary:
    """The values the router can match a rule against; a rule naming anything else could never match."""
    categories: frozenset[str]  # taxonomy codes
    areas: frozenset[str]       # names and codes of the gazetteer's districts, streets and communities
    request_types: tuple[str, ...] = REQUEST_TYPES
    intake_lines: tuple[str, ...] = INTAKE_LINES

    @classmethod
    def of(cls, taxonomy, gazetteer) -> "Vocabulary":
        """What the router's taxonomy and gazetteer (``RoutingService.taxonomy``/``.gazetteer``) can produce."""
        areas = {v for e in gazetteer.entries if e.level in AREA_LEVELS for v in (e.name, e.code) if v}
        return cls(categories=frozenset(taxonomy.by_code), areas=frozenset(areas))

    def check(self, n: int, row: dict[str, str]) -> None:
        """A RuleError naming row ``n`` and the first value no ticket can have."""
        def parts(name: str) -> list[str]:
            return [s.strip() for s in row.get(name, "").split("|") if s.strip()]

        checks = (
            ("category", self.categories, "未知的分类代码 {}"),
            ("request_type", self.request_types, f"未知的诉求类型 {{}}（可用：{'、'.join(self.request_types)}）"),
            ("area", self.areas, "未知的区域 {}（须是地名表中区、街道或社区的名称或代码）"),
            ("intake_line", self.intake_lines, f"未知的热线号码 {{}}（可用：{'、'.join(self.intake_lines)}）"),
        )
        for column, known, message in checks:
            for value in parts(column):
                if value not in known:
                    raise RuleError(f"第 {n} 行：" + message.format(value))


def parse_enabled(n: int, value: str) -> bool:
    """Row ``n``'s ``enabled`` cell: empty is enabled; an unknown spelling is a RuleError, never a guess."""
    value = value.strip().lower()
    if not value:
        return True
    if value not in ENABLED_WORDS:
        raise RuleError(f"第 {n} 行：无法识别的启用值 {value}（启用：{'、'.join(k for k, v in ENABLED_WORDS.items() if v)}；"
                        f"停用：{'、'.join(k for k, v in ENABLED_WORDS.items() if not v)}）")
    return ENABLED_WORDS[value]


def check_header(names: list[str]) -> None:
    """A CSV header may name only rule columns, each once (a misspelt column would be dropped silently)."""
    seen = set()
    for i, raw in enumerate(names, start=1):
        name = (raw or "").strip()
        if name and name not in FIELDS:
            raise RuleError(f"第 1 行（表头）：未知字段 {name}（可用：{'、'.join(FIELDS)}）")
        if name and name in seen:
            raise RuleError(f"第 1 行（表头）：字段 {name} 重复")
        seen.add(name)


def cell_problem(n: int, row: dict) -> str | None:
    """A value in a CSV cell past the header (DictReader's ``None`` key) or under a column without a name."""
    extra = [v for v in row.get(None) or [] if isinstance(v, str) and v.strip()]
    if extra:
        return f"第 {n} 行：单元格比表头多（多出：{'、'.join(extra)}）"
    if any(str(v or "").strip() for k, v in row.items() if k is not None and not str(k).strip()):
        return f"第 {n} 行：有值的单元格所在列没有列名"
    return None


def cell_text(n: int, column: str, value) -> str:
    """One cell as text: a JSON list in a list column is its items joined with the column's separator; a list
    anywhere else, or an object, is a RuleError (it would be stored as its Python spelling)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        if column not in LIST_COLUMNS:
            raise RuleError(f"第 {n} 行：{COLUMN_LABELS.get(column, column)}（{column}）只能填一个值，不能是列表")
        if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
            raise RuleError(f"第 {n} 行：{COLUMN_LABELS[column]}（{column}）的列表只能包含文字或数字")
        return LIST_COLUMNS[column].join(str(v).strip() for v in value)
    if isinstance(value, dict):
        raise RuleError(f"第 {n} 行：{COLUMN_LABELS.get(column, column)}（{column}）的值不能是对象")
    return "" if value is None else str(value)


def check_lists(n: int, row: dict[str, str]) -> None:
    """Row ``n``'s list cells: no empty item (``公积金||``, or ``|`` alone: keywords without a keyword would match
    every text) and no other separator than the column's own (``公积金、住房公积金`` is not two keywords)."""
    for column, sep in LIST_COLUMNS.items():
        value = row.get(column, "")
        if not value:
            continue
        label = f"{COLUMN_LABELS[column]}（{column}）"
        allowed = ("|", ";") if column == "co_units" else (sep,)
        others = [c for c in OTHER_SEPARATORS if c not in allowed and c in value]
        if others:
            raise RuleError(f"第 {n} 行：{label}“{value}”含有{'、'.join(f'“{c}”' for c in others)}；"
                            f"多个值只能用 {sep} 分隔（如 甲{sep}乙）")
        items = value.replace("|", ";").split(";") if column == "co_units" else value.split(sep)
        if any(not item.strip() for item in items):
            raise RuleError(f"第 {n} 行：{label}“{value}”中有空项（多个值用 {sep} 分隔，分隔符前后都要有值；"
                            f"不限{COLUMN_LABELS[column]}请整格留空）")


@dataclass
class Rule:
    id: int
    lead_unit: str
    category: str = ""       # code prefix: "C02" matches C0201, C020101 ...
    request_type: str = ""   # "投诉|举报"; empty = any
    area: str = ""           # district/street/community code or name; empty = any
    intake_line: str = ""    # "12345|12315"; empty = any
    keywords: str = ""       # "燃气|天然气": any one must occur in the text
    co_units: list[str] = field(default_factory=list)
    enabled: bool = True
    note: str = ""

    def _any(self, spec: str) -> list[str]:
        return [s.strip() for s in spec.split("|") if s.strip()]

    @cached_property
    def _keywords(self) -> list[str]:
        """The keywords as the text they are matched against: normalised (電梯 = 电梯) and lower-case."""
        return [normalise(k).lower() for k in self._any(self.keywords)]

    def matches(self, *, category: str | None, request_type: str | None, area: dict | None,
                intake_line: str, text: str) -> bool:
        if not self.enabled:
            return False
        if self.category and not (category and any(category.startswith(c) for c in self._any(self.category))):
            return False
        if self.request_type and request_type not in self._any(self.request_type):
            return False
        if self.intake_line and intake_line not in self._any(self.intake_line):
            return False
        if self.keywords.strip() and not any(k in text.lower() for k in self._keywords):
            return False  # a keywords cell of separators only ("|") names no keyword: it matches nothing, not all
        if self.area:
            values = set() if not area else {v for k, v in area.items()
                                             if k.split("_")[0] in ("district", "street", "community") and v}
            if not values & set(self._any(self.area)):
                return False
        return self.resolve_lead(area) is not None

    def resolve_lead(self, area: dict | None) -> str | None:
        if self.lead_unit in AREA_UNITS:
            return (area or {}).get(self.lead_unit[1:] + "_code")
        return self.lead_unit

    def to_row(self) -> dict[str, str]:
        row = asdict(self)
        row["co_units"] = ";".join(self.co_units)
        row["enabled"] = "1" if self.enabled else "0"
        return {k: str(row[k]) for k in FIELDS}


@dataclass(frozen=True)
class RuleMatch:
    rule: Rule
    lead_unit: str
    co_units: list[str]


class RuleTable:
    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules = list(rules)
        self.lines: dict[int, int] = {}  # rule id -> the row it was read from (from_rows), for messages
        self.refused: set[int] = set()   # ids of rows left out for a problem (from_rows with ``problems``)

    def match(self, *, category: str | None, request_type: str | None = None, area: dict | None = None,
              intake_line: str = "12345", text: str = "") -> RuleMatch | None:
        for rule in self.rules:
            if rule.matches(category=category, request_type=request_type, area=area,
                            intake_line=intake_line, text=text):
                lead = rule.resolve_lead(area)
                co = [(area or {}).get(u[1:] + "_code") if u in AREA_UNITS else u for u in rule.co_units]
                return RuleMatch(rule, lead, list(dict.fromkeys(u for u in co if u and u != lead)))
        return None

    def warnings(self) -> list[str]:
        """Chinese warnings about a table that is valid but probably not meant: an enabled rule without any
        condition (it matches every ticket) above other enabled rules, which it shadows."""
        out = []
        for i, rule in enumerate(self.rules):
            if not rule.enabled or rule.lead_unit in AREA_UNITS or any(
                    getattr(rule, c).strip() for c in ("category", "request_type", "area", "intake_line", "keywords")):
                continue  # an @street/@district rule falls through when no area is found
            shadowed = sum(1 for r in self.rules[i + 1:] if r.enabled)
            if shadowed:
                where = f"第 {self.lines[rule.id]} 行（规则 {rule.id}）" if rule.id in self.lines else f"规则 {rule.id}"
                out.append(f"{where}没有任何条件，会匹配所有诉求，排在它后面的 {shadowed} 条规则永远不会生效"
                           "（兜底规则请放在最后）")
        return out

    # -- CSV ------------------------------------------------------------
    @classmethod
    def from_rows(cls, rows: Iterable[dict], known_units: set[str] | None = None,
                  vocabulary: Vocabulary | None = None, *, start: int = 2, strict: bool = False,
                  problems: list[str] | None = None) -> "RuleTable":
        """Rules from dicts; ``known_units``/``vocabulary`` (None: not checked) refuse values that cannot match.

        Errors name row ``start`` for the first row: 2 for a CSV file (its header is line 1), 1 for a JSON list.
        Cells may be JSON values: a list in a list column (``LIST_COLUMNS``) is its items. ``strict`` (imports)
        also refuses list cells with an empty item or a separator other than the column's (``check_lists``).
        The first problem is raised as a RuleError; with a ``problems`` list every row's first problem is
        appended there instead and the row left out of the table (a dry run shows them all).
        """
        def report(message: str) -> None:
            if problems is None:
                raise RuleError(message)
            problems.append(message)

        rows = list(rows)
        table, seen = cls(), set()
        ids = [next((v for k, v in r.items() if k is not None and str(k).strip() == "id"), None) for r in rows]
        explicit = {str(v).strip() for v in ids if isinstance(v, (str, int)) and not isinstance(v, bool)
                    and str(v).strip().isdigit()}
        next_free = max(map(int, explicit), default=0) + 1  # rows without an id are numbered after every given one
        for n, source in enumerate(rows, start=start):
            try:
                if problem := cell_problem(n, source):
                    raise RuleError(problem)
                row = {str(k).strip(): cell_text(n, str(k).strip(), v).strip() for k, v in source.items() if k}
                rid = int(row.get("id") or 0)
            except ValueError as exc:
                report(str(exc) if isinstance(exc, RuleError) else f"第 {n} 行：规则编号必须是整数")
                continue
            try:
                if rid < 0:
                    raise RuleError(f"第 {n} 行：规则编号必须是正整数（留空则自动编号）")
                if not rid:
                    rid, next_free = next_free, next_free + 1
                if rid in seen:
                    raise RuleError(f"第 {n} 行：规则编号 {rid} 重复")
                lead = row.get("lead_unit", "")
                if not lead:
                    raise RuleError(f"第 {n} 行：缺少主办单位（lead_unit）")
                if strict:
                    check_lists(n, row)
                co = [u.strip() for u in row.get("co_units", "").replace("|", ";").split(";") if u.strip()]
                if known_units is not None:
                    for unit in [lead, *co]:
                        if unit not in AREA_UNITS and unit not in known_units:
                            raise RuleError(f"第 {n} 行：未知的单位代码 {unit}（须是承办单位，热线平台本身不能承办）")
                if vocabulary is not None:
                    vocabulary.check(n, row)
                rule = Rule(id=rid, lead_unit=lead, category=row.get("category", ""),
                            request_type=row.get("request_type", ""), area=row.get("area", ""),
                            intake_line=row.get("intake_line", ""), keywords=row.get("keywords", ""),
                            co_units=co, enabled=parse_enabled(n, row.get("enabled", "")),
                            note=row.get("note", ""))
            except RuleError as exc:
                seen.add(rid)  # a later row with the same id is still a duplicate
                table.refused.add(rid)
                report(str(exc))
                continue
            seen.add(rid)
            table.rules.append(rule)
            table.lines[rid] = n
        return table

    @classmethod
    def from_csv_text(cls, text: str, known_units: set[str] | None = None,
                      vocabulary: Vocabulary | None = None, *, strict: bool = False,
                      problems: list[str] | None = None) -> "RuleTable":
        """Rules from CSV text (``from_rows``); a header that cannot be read is always raised."""
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        if not reader.fieldnames or "lead_unit" not in reader.fieldnames:
            raise RuleError("规则表必须是带表头的 CSV，且包含 lead_unit 列")
        check_header(reader.fieldnames)
        return cls.from_rows(reader, known_units, vocabulary, strict=strict, problems=problems)

    @classmethod
    def default(cls) -> "RuleTable":
        return cls.from_csv_text(DEFAULT_RULES.read_text(encoding="utf-8"))

    def to_csv_text(self) -> str:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for rule in self.rules:
            writer.writerow(rule.to_row())
        return buf.getvalue()


# -- imports: what would change -------------------------------------------------
EMPTY_TABLE = ("规则表中没有任何规则，未导入（空表会在下次加载时被内置示例规则替换）；"
               "若要停用全部规则，请导入一条 enabled 为 0 的规则")  # as store.replace_rules says it


def changes(current: RuleTable, new: RuleTable) -> dict:
    """Rule ids added, removed and changed (any column) from ``current`` to ``new``, the number unchanged, and
    whether the rules both tables hold are in another order (first match wins, so order matters). A rule of a row
    ``new`` left out for a problem is not counted as removed."""
    old = {r.id: r.to_row() for r in current.rules}
    rows = {r.id: r.to_row() for r in new.rules}
    both_old, both_new = [i for i in old if i in rows], [i for i in rows if i in old]
    changed = [i for i in both_new if rows[i] != old[i]]
    return {"added": [i for i in rows if i not in old],
            "removed": [i for i in old if i not in rows and i not in new.refused],
            "changed": changed, "unchanged": len(both_new) - len(changed), "reordered": both_old != both_new}


def import_report(table: RuleTable, current: RuleTable, problems: list[str] | None = None, *, dry_run: bool,
                  check: Callable[[RuleTable], None] | None = None) -> dict:
    """What an import of ``table`` over ``current`` (the table in force) does, JSON-serialisable: ``valid``,
    ``rules`` (count), ``changes`` (see ``changes``; rows with problems are not counted), ``problems`` (each naming
    its row) and ``warnings`` (``RuleTable.warnings``). ``check`` (e.g. ``store.check_rule_sizes``) is run on
    every rule alone, so that a dry run lists each rule the store would refuse; an empty table is a problem."""
    problems = list(problems or [])
    if check is not None:
        for rule in table.rules:
            try:
                check(RuleTable([rule]))
            except RuleError as exc:
                problems.append(f"第 {table.lines[rule.id]} 行：{exc}" if rule.id in table.lines else str(exc))
    if not table.rules and not problems:
        problems.append(EMPTY_TABLE)
    return {"dry_run": dry_run, "valid": not problems, "rules": len(table.rules),
            "changes": changes(current, table), "problems": problems, "warnings": table.warnings()}
