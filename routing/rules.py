"""The routing rule table: (category, request type, area, intake line, keywords) -> units.

Rules are checked in order and the first match wins. A rule's ``lead_unit``
may be ``@street`` or ``@district``: the unit of the area found in the text
(a street office or district government); when the text names no such area
the rule does not match and the next rule is tried, so general rules can
follow specific ones like nested routers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
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


def checked_cells(reader: csv.DictReader) -> Iterable[dict]:
    """The rows of a CSV rule table; a value in a cell past the header or under a column without a name is refused."""
    for n, row in enumerate(reader, start=2):
        extra = [v for v in row.get(None) or [] if v.strip()]
        if extra:
            raise RuleError(f"第 {n} 行：单元格比表头多（多出：{'、'.join(extra)}）")
        if any((v or "").strip() for k, v in row.items() if k is not None and not k.strip()):
            raise RuleError(f"第 {n} 行：有值的单元格所在列没有列名")
        yield row


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
        if self._keywords and not any(k in text.lower() for k in self._keywords):
            return False
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

    def match(self, *, category: str | None, request_type: str | None = None, area: dict | None = None,
              intake_line: str = "12345", text: str = "") -> RuleMatch | None:
        for rule in self.rules:
            if rule.matches(category=category, request_type=request_type, area=area,
                            intake_line=intake_line, text=text):
                lead = rule.resolve_lead(area)
                co = [(area or {}).get(u[1:] + "_code") if u in AREA_UNITS else u for u in rule.co_units]
                return RuleMatch(rule, lead, list(dict.fromkeys(u for u in co if u and u != lead)))
        return None

    # -- CSV ------------------------------------------------------------
    @classmethod
    def from_rows(cls, rows: Iterable[dict], known_units: set[str] | None = None,
                  vocabulary: Vocabulary | None = None, *, start: int = 2) -> "RuleTable":
        """Rules from dicts; ``known_units``/``vocabulary`` (None: not checked) refuse values that cannot match.

        Errors name row ``start`` for the first row: 2 for a CSV file (its header is line 1), 1 for a JSON list.
        """
        rules, seen = [], set()
        rows = [{str(k).strip(): ("" if v is None else str(v)).strip() for k, v in row.items() if k} for row in rows]
        explicit = {row["id"] for row in rows if row.get("id", "").isdigit()}
        next_free = max(map(int, explicit), default=0) + 1  # rows without an id are numbered after every given one
        for n, row in enumerate(rows, start=start):
            try:
                rid = int(row.get("id") or 0)
            except ValueError:
                raise RuleError(f"第 {n} 行：规则编号必须是整数") from None
            if rid < 0:
                raise RuleError(f"第 {n} 行：规则编号必须是正整数（留空则自动编号）")
            if not rid:
                rid, next_free = next_free, next_free + 1
            if rid in seen:
                raise RuleError(f"第 {n} 行：规则编号 {rid} 重复")
            lead = row.get("lead_unit", "")
            if not lead:
                raise RuleError(f"第 {n} 行：缺少主办单位（lead_unit）")
            co = [u.strip() for u in row.get("co_units", "").replace("|", ";").split(";") if u.strip()]
            if known_units is not None:
                for unit in [lead, *co]:
                    if unit not in AREA_UNITS and unit not in known_units:
                        raise RuleError(f"第 {n} 行：未知的单位代码 {unit}（须是承办单位，热线平台本身不能承办）")
            if vocabulary is not None:
                vocabulary.check(n, row)
            seen.add(rid)
            rules.append(Rule(id=rid, lead_unit=lead, category=row.get("category", ""),
                              request_type=row.get("request_type", ""), area=row.get("area", ""),
                              intake_line=row.get("intake_line", ""), keywords=row.get("keywords", ""),
                              co_units=co, enabled=parse_enabled(n, row.get("enabled", "")),
                              note=row.get("note", "")))
        return cls(rules)

    @classmethod
    def from_csv_text(cls, text: str, known_units: set[str] | None = None,
                      vocabulary: Vocabulary | None = None) -> "RuleTable":
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        if not reader.fieldnames or "lead_unit" not in reader.fieldnames:
            raise RuleError("规则表必须是带表头的 CSV，且包含 lead_unit 列")
        check_header(reader.fieldnames)
        return cls.from_rows(checked_cells(reader), known_units, vocabulary)

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
