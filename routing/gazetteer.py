"""Place-name gazetteer: find the deepest area a text mentions and a normalised address.

Entries form a tree (province > city > district > street > community >
place). Matching takes the non-overlapping names that cover most of the text
(云州市一医院 is 云州 + 市一医院, not 云州市 + 一医院); among the matches the deepest
entry wins, then the one with most support (its admin names mentioned too) and
most mentions. An ambiguous name (the same road in two districts) is resolved
by the other places the text mentions; when nothing tells them apart only the
admin areas they share are returned, never a guess.

Common nouns are never names: 小区, 社区, 新区, 城区, 街道, 村 ... (``is_generic``).
A real division with such a name (阳泉市城区) is matched only with its parent's
name in front (阳泉市城区), and a flat name list skips them.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from hotline.textnorm import normalise

LEVELS = {"province": 1, "city": 2, "district": 3, "street": 4, "community": 5, "place": 6}
DEMO_GAZETTEER = Path(__file__).with_name("data") / "gazetteer_yunzhou.csv"

# House numbers, buildings and units that follow a road or estate name. A guessed road name has no
# particles, 至/到, 小区 or 号线 in it and is no common noun (县城内道路, 单行线马路, 铁路, 公交线路, 摊贩临街: no road names).
DETAIL_RE = re.compile(
    r"^(?:(?:(?!小区|号线|[的了在和与是至到从及或])[\u4e00-\u9fa5]){1,8}(?:(?<![道马铁线])路(?![灯面])|(?<![临沿当满逛上])街(?!道)|大道|巷|弄))?"
    r"(?:[0-9０-９一二三四五六七八九十百]+(?:号院|号楼|号|栋|幢|单元|楼|室|组|期))*"
)
SUFFIX_LEVELS = [("社区", "community"), ("村", "community"), ("街道", "street"), ("镇", "street"), ("乡", "street"),
                 ("区", "district"), ("县", "district"), ("市", "city"), ("省", "province")]
# Common nouns that look like names (suffix 区, 村 ... or a place word on its own).
GENERIC_NAMES = frozenset("""
小区 社区 新区 园区 景区 城区 市区 郊区 辖区 片区 校区 山区 矿区 老区 灾区 街区 营区 库区 湖区 厂区 港区 学区 商圈
街道 街道办 街道办事处 居委会 村委 村委会 县城 城里 乡下 农村 乡村 新村 城镇 乡镇 集镇 小镇 城市 都市 省城 省会
城南 城北 城东 城西 城中 城关 农场 林场 苗圃 盐场 牛场 渔场 茶场 广场 公园 花园 医院 学校 车站 商场 市场 菜市场
马路 道路 公路 大道 小路 大街 小巷 路口 地铁 公交 公交车
""".split())
# One character before a suffix that makes a common noun: 小区, 新区, 本市, 全县, 该村, 东区, 乡镇 ...
GENERIC_STEMS = frozenset("小新老本全该我各此这那城市郊辖片园景校山矿灾街东西南北中上下前后内外大乡农集村都省县区营库湖港厂学商住")
ADMIN_SUFFIXES = ("社区", "街道", "区", "县", "市", "镇", "乡", "村", "省")
# A block of an estate, not a district: A区, 3区 (泉塘小区A区26栋).
ZONE_RE = re.compile(r"^[A-Za-z0-9一二三四五六七八九十]区$")
# Transit lines are no places (地铁3号线, 20路公交车): a flat name list skips them.
TRANSIT_RE = re.compile(r"(?:号线|线路|路公交车?|路巴士|路车)$")
# After an admin name, building numbers mean the name is an estate's block or phase: 奥城E4区1栋, 五矿万境K9县25栋.
PHASE_AFTER_RE = re.compile(r"\s*[0-9０-９一二三四五六七八九十]+\s*(?:栋|幢|座|号楼|单元|期)")
NOT_ESTATE_BEFORE = set("在住的于是到和与及从往向对、")
# Words that run across the end of a name: 市民广场舞 is 市民 + 广场舞, not 市民广场 + 舞.
WORDS_ACROSS_END = ("广场舞",)
CLAUSE_BREAK_RE = re.compile(r"[，,。；;！!？?\n]")


def is_generic(name: str) -> bool:
    """Whether ``name`` is a common noun rather than a name: 小区, 新区, 街道, 本市, A区 ... A name is longer than
    its suffix (区, 街道 ...) and its stem is more than a generic modifier (小, 新, 本, 全, 东 ...)."""
    if name in GENERIC_NAMES or ZONE_RE.match(name):
        return True
    for suffix in ADMIN_SUFFIXES:
        if name.endswith(suffix):
            stem = name[:-len(suffix)]
            return not stem or (len(stem) == 1 and stem in GENERIC_STEMS)
    return False


@dataclass
class Entry:
    name: str
    level: str
    code: str = ""
    parent: "Entry | None" = None
    aliases: list[str] = field(default_factory=list)

    def chain(self) -> list["Entry"]:
        out, node = [], self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]

    def ancestor(self, level: str) -> "Entry | None":
        return next((e for e in self.chain() if e.level == level), None)


@dataclass
class Match:
    entry: Entry
    start: int
    end: int


@dataclass
class _Candidate:
    """A span of the text that names ``alts`` (several when the name is ambiguous); ``entry`` the one meant, None
    when the text does not tell."""
    start: int
    end: int
    entry: Entry | None
    alts: list[Entry]

    @property
    def level(self) -> str:
        return self.entry.level if self.entry is not None else max((a.level for a in self.alts), key=LEVELS.get)

    @property
    def level_no(self) -> int:
        return LEVELS[self.level]

    def chain(self) -> list[Entry]:
        """The areas above the name: the entry's ancestors, or those all candidates share."""
        return self.entry.chain()[:-1] if self.entry is not None else _shared_ancestors(self.alts)


def _shared_ancestors(alts: list[Entry]) -> list[Entry]:
    """The ancestors all of ``alts`` have, top down."""
    out = []
    for level_entries in zip(*(a.chain()[:-1] for a in alts)):
        if any(e is not level_entries[0] for e in level_entries):
            break
        out.append(level_entries[0])
    return out


class Gazetteer:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._by_code: dict[str, Entry] = {}
        self._names: dict[str, list[Entry]] = {}
        self._by_prefix: dict[str, list[str]] = {}

    # -- building -----------------------------------------------------
    def add(self, name: str, level: str, code: str = "", parent: Entry | None = None,
            aliases: list[str] | tuple[str, ...] = ()) -> Entry:
        """An entry; a generic name (``is_generic``: 城区, 郊区 ...) is matched only after its parent's names
        (阳泉市城区), and generic aliases are dropped."""
        if level not in LEVELS:
            raise ValueError(f"未知的地名层级“{level}”（可用：{'、'.join(LEVELS)}）")
        entry = Entry(name, level, code, parent, [a for a in aliases if a])
        self.entries.append(entry)
        if code:
            self._by_code[code] = entry
        names = [name, *entry.aliases]
        if is_generic(name) and parent is not None:
            names += [p + name for p in (parent.name, *parent.aliases)]
        for n in dict.fromkeys([*names, *map(normalise, names)]):
            if len(n) < 2 or is_generic(n):
                continue
            if n not in self._names:
                self._names[n] = []
                bucket = self._by_prefix.setdefault(n[:2], [])
                bucket.append(n)
                bucket.sort(key=len, reverse=True)
            self._names[n].append(entry)
        return entry

    def by_code(self, code: str) -> Entry | None:
        return self._by_code.get(code)

    def names(self) -> list[str]:
        """Every name and alias (feed them to the segmenter as a user dictionary)."""
        return list(self._names)

    @classmethod
    def from_csv(cls, path: str | Path, into: "Gazetteer | None" = None) -> "Gazetteer":
        """CSV with columns code,name,level,parent_code,aliases (aliases separated by ';')."""
        gaz = into or cls()
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                if row.get("level") not in LEVELS:
                    raise ValueError(f"地名表 {path} 第 {reader.line_num} 行：未知的地名层级“{row.get('level') or ''}”"
                                     f"（可用：{'、'.join(LEVELS)}）")
                parent = gaz.by_code(row.get("parent_code") or "")
                gaz.add(row["name"], row["level"], row["code"], parent, (row.get("aliases") or "").split(";"))
        return gaz

    @classmethod
    def demo(cls) -> "Gazetteer":
        return cls.from_csv(DEMO_GAZETTEER)

    @classmethod
    def from_admin_divisions(cls, folder: str | Path, into: "Gazetteer | None" = None) -> "Gazetteer":
        """China's divisions (provinces/cities/areas/streets.csv with NBS codes)."""
        gaz, folder = into or cls(), Path(folder)

        def rows(name: str):
            with open(folder / name, encoding="utf-8-sig", newline="") as fh:
                yield from csv.DictReader(fh)

        for r in rows("provinces.csv"):
            gaz.add(r["name"], "province", r["code"])
        for r in rows("cities.csv"):
            if r["name"] != "市辖区":
                gaz.add(r["name"], "city", r["code"], gaz.by_code(r["provinceCode"]))
        for r in rows("areas.csv"):
            parent = gaz.by_code(r["cityCode"]) or gaz.by_code(r["provinceCode"])
            gaz.add(r["name"], "district", r["code"], parent)
        for r in rows("streets.csv"):
            gaz.add(r["name"], "street", r["code"], gaz.by_code(r["areaCode"]))
        return gaz

    @classmethod
    def from_name_list(cls, path: str | Path, into: "Gazetteer | None" = None) -> "Gazetteer":
        """A plain list of names, one per line. The level is guessed from the suffix (区, 街道, 社区 ...) unless the
        line names it after the name (``浏阳市 district``: a county-level city); other words on the line (a jieba
        frequency or tag such as ``ns``) are ignored. Generic words (小区, 新区 ...) and transit lines (地铁3号线,
        20路公交车) are skipped: they are no places."""
        gaz = into or cls()
        for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
            words = line.split()
            name = words[0].strip() if words else ""
            if len(name) < 2 or name in gaz._names or is_generic(name) or TRANSIT_RE.search(name):
                continue
            level = next((w for w in words[1:] if w in LEVELS), None)
            level = level or next((lvl for suf, lvl in SUFFIX_LEVELS if name.endswith(suf)), "place")
            gaz.add(name, level)
        return gaz

    # -- matching -----------------------------------------------------
    def matches(self, text: str) -> list[Match]:
        """Non-overlapping name matches, left to right: those that cover most of the text, the fewest names on a
        tie (云州市一医院: 云州 + 市一医院; 云州软件园: one name, not 云州 + 软件园)."""
        n = len(text)
        names_at: list[list[str]] = [[] for _ in range(n + 1)]
        for i in range(n - 1):
            names_at[i] = [name for name in self._by_prefix.get(text[i:i + 2], ())
                           if text.startswith(name, i) and self._fits(text, name, i)]
        best: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (characters covered, -names) from i to the end
        take: list[str | None] = [None] * (n + 1)
        for i in range(n - 1, -1, -1):
            best[i] = best[i + 1]
            for name in names_at[i]:  # longest first: it wins a tie
                cover, count = best[i + len(name)]
                option = (cover + len(name), count - 1)
                if take[i] is None or option > best[i]:
                    best[i], take[i] = option, name
            if take[i] is not None and best[i + 1] > best[i]:
                best[i], take[i] = best[i + 1], None
        found, i = [], 0
        while i < n:
            name = take[i]
            if name is None:
                i += 1
                continue
            found += [Match(entry, i, i + len(name)) for entry in self._names[name]]
            i += len(name)
        return found

    def _fits(self, text: str, name: str, i: int) -> bool:
        """Whether ``name`` at ``i`` is a name here: not the start of a word running on (市民广场舞), and an admin name
        is not an estate's block or phase (北辰三角洲奥城E4区1栋: a name before it, building numbers after it)."""
        end = i + len(name)
        if any(text.startswith(w, end - k) for w in WORDS_ACROSS_END for k in range(1, min(len(w), len(name) + 1))):
            return False
        if (PHASE_AFTER_RE.match(text, end) and i > 0 and "\u4e00" <= text[i - 1] <= "\u9fa5"
                and text[i - 1] not in NOT_ESTATE_BEFORE and all(e.level != "place" for e in self._names[name])):
            return False
        return True

    def extract(self, text: str) -> dict | None:
        """The deepest area mentioned: district/street/community names, codes, a normalised address and span.

        ``address`` is the admin chain's names followed by the matched place and the details that directly
        follow it (house numbers, buildings, estates); the citizen's other words are never part of it.
        ``span`` [start, end) are positions in ``text``: from the mention of the chain's first admin name
        (the one nearest the place) to the end of those details. ``level`` is the level of the name found; when
        that name is ambiguous and nothing in the text tells which is meant (人民路 in two districts), only the
        areas its candidates share are filled in (the city) and the rest are None.
        """
        found = self.matches(text)
        if not found:
            return None
        mentioned = {id(m.entry) for m in found}
        named = [m for m in found if m.entry.level != "place"]
        named_levels = {m.entry.level for m in named}
        spans: dict[tuple[int, int], list[Entry]] = {}
        for m in found:
            spans.setdefault((m.start, m.end), []).append(m.entry)

        def resolve(alts: list[Entry], span: tuple[int, int]) -> Entry | None:
            """The candidate other unambiguous names in the text lie in or name (清水路 for 人民路 of 清水街道)."""
            shared = {id(e) for e in _shared_ancestors(alts)}

            def support(x: Entry) -> int:
                own = {id(e) for e in x.chain()[:-1]} - shared
                return sum(1 for sp, es in spans.items() if sp != span and len(es) == 1
                           and any(id(e) in own for e in es[0].chain()))

            ranked = sorted(((support(x), k) for k, x in enumerate(alts)), reverse=True)
            if ranked[0][0] > 0 and ranked[0][0] > ranked[1][0]:
                return alts[ranked[0][1]]
            return None

        cands = []
        for (s, e), alts in spans.items():
            entry = alts[0] if len(alts) == 1 else resolve(alts, (s, e))
            cands.append(_Candidate(s, e, entry, alts))

        def unmet(entry: Entry) -> set[str]:
            """Levels the citizen named at which ``entry`` lies in an area they did not name."""
            return {a.level for a in entry.chain()[:-1] if a.level in named_levels and id(a) not in mentioned}

        def contradicts(c: "_Candidate") -> bool:
            """A name in another district (street ...) than the one the citizen named at that level: 人民路 of
            云湖区 in 「西江区桃源大道与人民路路口」. An ambiguous name is out whenever another area is named. An
            unambiguous one is out by an area of another city (another gazetteer's tree) named anywhere, but by an
            area of its own city only when that is named just before it in the same clause (「西江区凤凰路」), not
            elsewhere (「我家住南湖新村，但在高新区上班」: a district mention does not override a place)."""
            if c.entry is None:
                return all(unmet(a) for a in c.alts)
            levels = unmet(c.entry)
            if not levels or len(c.alts) > 1:
                return bool(levels)
            root = c.entry.chain()[0]
            return any(m.entry.level in levels and (
                m.entry.chain()[0] is not root
                or m.end <= c.start and not CLAUSE_BREAK_RE.search(text, m.end, c.start)) for m in named)

        def score(c: "_Candidate") -> tuple:
            """Deepest, then known (not ambiguous), then most supported by its admin names in the text; among
            places the most mentioned (湖滨路的车都开到凤凰路去了，凤凰路堵死了), else the first named (a title
            names the area first)."""
            support = sum(1 for e in c.chain() if id(e) in mentioned)
            mentions = 0
            if c.level == "place":
                same = [id(a) for a in c.alts]
                mentions = sum(1 for d in cands if (d.entry is c.entry if c.entry is not None else
                                                    d.entry is None and [id(a) for a in d.alts] == same))
            return (c.level_no, c.entry is not None, support, mentions, -c.start)

        best = max([c for c in cands if not contradicts(c)] or cands, key=score)
        chain = best.chain() + ([best.entry] if best.entry is not None else [])
        # Flat name lists have no hierarchy: take missing levels from other parentless matches, the first in the text
        # (on the taidi2020 messages, taking only one adjacent to the area dropped far more right cities than wrong).
        filled: dict[str, Entry] = {}
        for level in ("province", "city", "district", "street", "community"):
            if not any(e.level == level for e in chain) and (best.entry is not None or LEVELS[level] < best.level_no):
                m = next((m for m in found if m.entry.level == level and m.entry.parent is None), None)
                if m is not None:
                    filled[level] = m.entry
        admin = sorted([e for e in chain if e.level != "place"] + list(filled.values()),
                       key=lambda e: LEVELS[e.level])
        admin_ids = {id(e) for e in admin}
        place_like = best.entry is None or best.entry.level == "place"
        follow_from = best.end
        if not place_like and text.startswith("的", best.end) and any(
                m.start == best.end + 1 and m.entry.level == "place" for m in found):
            follow_from = best.end + 1  # 东山区的人民路: the place after 的 (one the district named is not in)
        end = self._follow(text, follow_from, found)[-1]
        # The detail starts at the place, or earlier at a known place or admin name from which house numbers and
        # places lead up to it without a gap (湖滨路12号翠湖花园); after an admin-level best, only what follows it.
        detail_start = follow_from
        if place_like:
            starts = sorted({m.end for m in found if id(m.entry) in admin_ids and m.end <= best.start}
                            | {m.start for m in found if m.entry.level == "place" and m.start < best.start})
            detail_start = next((p for p in starts if best.start in self._follow(text, p, found)), best.start)
        # Drop the admin names where they were matched (not by string replacement, which would leave the tail of a
        # longer alias such as "湖滨街道办" or cut a city alias out of a place name like "云州软件园").
        cuts = sorted({(m.start, m.end) for m in found
                       if detail_start <= m.start and m.end <= end and id(m.entry) in admin_ids})
        pieces, pos = [], detail_start
        for s, e in cuts:
            pieces.append(text[pos:s])
            pos = e
        pieces.append(text[pos:end])
        detail = re.sub(r"\s+", "", "".join(pieces))
        address = "".join(e.name for e in admin) + detail
        # The mention of each admin name nearest the detail (the last one before it, else the first after it).
        nearest = []
        for e in admin:
            seen = [m for m in found if m.entry is e]
            before = [m for m in seen if m.start <= detail_start]
            if seen:
                nearest.append(max(before, key=lambda m: m.start) if before else min(seen, key=lambda m: m.start))
        start = min([m.start for m in nearest] + [min(best.start, detail_start)])
        out = {"level": best.level, "address": address, "span": [start, end]}
        for level in ("province", "city", "district", "street", "community"):
            e = next((x for x in chain if x.level == level), None) or filled.get(level)
            out[level] = e.name if e else None
            out[f"{level}_code"] = e.code if e and e.code else None
        return out

    @staticmethod
    def _follow(text: str, pos: int, found: list[Match]) -> list[int]:
        """The positions reached from ``pos`` over known places and the house numbers or unknown road names between
        them (DETAIL_RE, once after each place); a guessed road name may not run over the start of a known name."""
        steps = [pos]

        def place_at(p: int) -> Match | None:
            return next((m for m in found if m.start == p and m.entry.level == "place"), None)

        while True:
            if (place := place_at(pos)) is not None:
                pos = place.end
                steps.append(pos)
                continue
            k = DETAIL_RE.match(text[pos:pos + 30]).end()
            if not k or any(pos < m.start < pos + k for m in found):
                return steps
            pos += k
            steps.append(pos)
            if place_at(pos) is None:  # details go on only into another known place
                return steps


def build_gazetteer(settings) -> Gazetteer:
    """The demo city's gazetteer (unless ``HOTLINE_ROUTING_DEMO_GAZETTEER`` is false) plus those the routing
    settings (``routing.settings.RoutingSettings``) name. Kept here, free of the classifier's imports, so that
    search can use it cheaply."""
    gaz = Gazetteer.demo() if getattr(settings, "demo_gazetteer", True) else Gazetteer()
    if settings.gazetteer_csv:
        Gazetteer.from_csv(settings.gazetteer_csv, into=gaz)
    if settings.admin_divisions_dir:
        Gazetteer.from_admin_divisions(settings.admin_divisions_dir, into=gaz)
    if settings.place_names_txt:
        Gazetteer.from_name_list(settings.place_names_txt, into=gaz)
    return gaz
