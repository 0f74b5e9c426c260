"""Place awareness for search: which regions a query and an article are about.

Government questions are mostly about one place ("山东省优化审批流程有哪些措施"),
and an article about another province is wrong however many words it shares.
Search therefore (1) weighs place words in a query more than other words and
(2) re-ranks the best candidates: an article about one of the query's regions
goes up, an article about other regions only goes down, an article naming no
place is left alone (national policy applies everywhere).

Place names come from jieba's dictionary (words tagged ``ns`` that end in a
division suffix: 市, 区, 县, 州 ...) plus the province-level names below, so
this works with no data files. A gazetteer (the city's own, or China's
divisions folder, see :mod:`routing.gazetteer`) adds the hierarchy: then
"济南市" is also about "山东", and "海淀区" about "北京".
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass

import jieba

# Province-level divisions: full name and the short forms used in text.
PROVINCES: tuple[tuple[str, ...], ...] = (
    ("北京市", "北京"), ("天津市", "天津"), ("上海市", "上海"), ("重庆市", "重庆"),
    ("河北省", "河北"), ("山西省", "山西"), ("辽宁省", "辽宁"), ("吉林省", "吉林"), ("黑龙江省", "黑龙江"),
    ("江苏省", "江苏"), ("浙江省", "浙江"), ("安徽省", "安徽"), ("福建省", "福建"), ("江西省", "江西"),
    ("山东省", "山东"), ("河南省", "河南"), ("湖北省", "湖北"), ("湖南省", "湖南"), ("广东省", "广东"),
    ("海南省", "海南"), ("四川省", "四川"), ("贵州省", "贵州"), ("云南省", "云南"), ("陕西省", "陕西"),
    ("甘肃省", "甘肃"), ("青海省", "青海"), ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"), ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"), ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"), ("澳门特别行政区", "澳门"),
)
# Suffixes of division names, longest first; stripping one gives the short form (济南市 -> 济南).
SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "地区", "新区", "省", "市", "区", "县", "州", "盟", "旗")
SHORTENED = ("省", "市", "自治州", "地区", "盟")  # only these are commonly dropped in text
# Dictionary words that end like a division but name none (自治县, 大中城市, 科教兴市 ...).
GENERIC_STEMS = frozenset({"自治", "大中城", "中小城", "特大城", "大城", "科教兴", "城", "市"})
# Words that place something relative to the speaker or in general, not in one region: "从外省转过来" is about
# no province in particular (jieba's dictionary has 外省市, 各省市, 周边地区, 沿海地区 ... as place names). None of
# them is a place name, and a dictionary name starting with one (外省市, 沿海各省, 周边城市) is none either.
RELATIVE_PLACES = frozenset({
    "外省", "外地", "外市", "外县", "外区", "本市", "本省", "本县", "本区", "本地", "本地区", "当地", "异地", "省外",
    "市外", "县外", "区外", "省内", "市内", "县内", "区内", "国外", "境外", "海外", "国内", "境内", "内地", "全国",
    "全省", "全市", "全县", "全区", "各省", "各市", "各县", "各区", "各地", "他省", "外埠", "跨省", "跨市",
    "周边", "沿海", "内陆", "偏远", "边远", "落后", "丘陵", "高原", "外岛", "外海", "内海", "中立", "戒严",
})

QUERY_PLACE_WEIGHT = 4.0  # a place word in a query counts this many times a plain word
RERANK_DEPTH = 100        # how many of the best candidates the region re-rank looks at
SAME_REGION_BOOST = 1.3
OTHER_REGION_PENALTY = 0.7


def short_form(name: str) -> str | None:
    for suffix in SHORTENED:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def is_relative(name: str) -> bool:
    """Whether ``name`` is or starts with a relative place word (:data:`RELATIVE_PLACES`)."""
    return any(name.startswith(word) for word in RELATIVE_PLACES)


def _jieba_places() -> Iterable[str]:
    """Division names in jieba's dictionary: words tagged ``ns`` ending in a division suffix."""
    path = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "ns" and len(parts[0]) >= 3:
                suffix = next((x for x in SUFFIXES if parts[0].endswith(x)), None)
                stem = parts[0][: -len(suffix)] if suffix else ""
                if len(stem) >= 2 and stem not in GENERIC_STEMS and not is_relative(parts[0]):
                    yield parts[0]


class Places:
    """Place name -> the region it names and the regions it lies in (with a gazetteer, its ancestors).

    Regions are keyed by their short name ("山东", "济南", "海淀区").
    """

    def __init__(self) -> None:
        self.regions_of: dict[str, frozenset[str]] = {}
        self.own_of: dict[str, frozenset[str]] = {}

    def add(self, name: str, own: str, ancestors: Iterable[str] = ()) -> None:
        regions = frozenset({own, *ancestors})
        for key in (name, short_form(name)):
            if key and len(key) >= 2 and key not in RELATIVE_PLACES:
                self.regions_of[key] = self.regions_of.get(key, frozenset()) | regions
                self.own_of[key] = self.own_of.get(key, frozenset()) | {own}

    @classmethod
    def default(cls) -> "Places":
        places = cls()
        for full, *short in PROVINCES:
            for name in (full, *short):
                places.add(name, short[0])
        for name in _jieba_places():
            if name not in places.regions_of:
                places.add(name, short_form(name) or name)
        return places

    def copy(self) -> "Places":
        other = Places()
        other.regions_of, other.own_of = dict(self.regions_of), dict(self.own_of)
        return other

    def add_gazetteer(self, gazetteer) -> "Places":
        """Names of a :class:`routing.gazetteer.Gazetteer` down to districts, each about itself and its ancestors;
        not those that are also common nouns (:func:`routing.gazetteer.is_generic`)."""
        from routing.gazetteer import is_generic

        for entry in gazetteer.entries:
            if entry.level not in ("province", "city", "district"):
                continue
            chain = [short_form(e.name) or e.name for e in entry.chain()]
            for name in (entry.name, *entry.aliases):
                if not is_generic(name):  # 城区, 郊区 (divisions of several cities): no region of a query
                    self.add(name, chain[-1], chain[:-1])
        return self

    def words(self) -> list[str]:
        """Every place name (the tokenizer keeps them whole)."""
        return list(self.regions_of)

    def regions(self, tokens: Iterable[str]) -> frozenset[str]:
        """Every region the tokens name or lie in (what a document is about)."""
        return self._collect(self.regions_of, tokens)

    def query_regions(self, tokens: Iterable[str]) -> "QueryRegions":
        tokens = list(tokens)
        return QueryRegions(self._collect(self.own_of, tokens), self._collect(self.regions_of, tokens))

    @staticmethod
    def _collect(table: dict[str, frozenset[str]], tokens: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for tok in tokens:
            found = table.get(tok)
            if found:
                out |= found
        return frozenset(out)

    def is_place(self, token: str) -> bool:
        return token in self.regions_of


@functools.cache
def default_places() -> Places:
    """The data-free default, built once per process and shared read-only (copy() before adding to it)."""
    return Places.default()


def configured_places() -> Places:
    """The default names plus the demo city's gazetteer and any gazetteer the routing settings
    (``HOTLINE_ROUTING_GAZETTEER_CSV``, ``..._ADMIN_DIVISIONS_DIR``, ``..._PLACE_NAMES_TXT``) name."""
    from routing.gazetteer import build_gazetteer
    from routing.settings import RoutingSettings

    return default_places().copy().add_gazetteer(build_gazetteer(RoutingSettings()))


@dataclass(frozen=True)
class QueryRegions:
    named: frozenset[str]   # the regions the query names ("海淀区")
    within: frozenset[str]  # those and the regions they lie in ("海淀区", "北京")

    def __bool__(self) -> bool:
        return bool(self.named)


def rerank_factor(query: QueryRegions, doc_regions: frozenset[str]) -> float:
    """What a candidate's score is multiplied by: up when it is about a region the query names,
    unchanged when it only shares a wider region (or names no place), down when it is about other places."""
    if not query or not doc_regions:
        return 1.0
    if query.named & doc_regions:
        return SAME_REGION_BOOST
    return 1.0 if query.within & doc_regions else OTHER_REGION_PENALTY
