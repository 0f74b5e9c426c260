"""Place-name gazetteer: find the deepest area a text mentions and a normalised address.

Entries form a tree (province > city > district > street > community >
place). Matching is longest-match-first over all names and aliases; among the
matches the deepest entry wins, and ambiguous names (the same road in two
districts) are resolved by the other places the text mentions.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from hotline.textnorm import normalise

LEVELS = {"province": 1, "city": 2, "district": 3, "street": 4, "community": 5, "place": 6}
DEMO_GAZETTEER = Path(__file__).with_name("data") / "gazetteer_yunzhou.csv"

# House numbers, buildings and units that follow a road or estate name.
DETAIL_RE = re.compile(
    r"^(?:(?:(?![的了在和与是])[\u4e00-\u9fa5]){1,8}(?:路(?![灯面])|街(?!道)|大道|巷|弄))?"
    r"(?:[0-9０-９一二三四五六七八九十百]+(?:号院|号楼|号|栋|幢|单元|楼|室|组|期))*"
)
SUFFIX_LEVELS = [("社区", "community"), ("村", "community"), ("街道", "street"), ("镇", "street"), ("乡", "street"),
                 ("区", "district"), ("县", "district"), ("市", "city"), ("省", "province")]


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


class Gazetteer:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._by_code: dict[str, Entry] = {}
        self._names: dict[str, list[Entry]] = {}
        self._by_prefix: dict[str, list[str]] = {}

    # -- building -----------------------------------------------------
    def add(self, name: str, level: str, code: str = "", parent: Entry | None = None,
            aliases: list[str] | tuple[str, ...] = ()) -> Entry:
        if level not in LEVELS:
            raise ValueError(f"未知的地名层级“{level}”（可用：{'、'.join(LEVELS)}）")
        entry = Entry(name, level, code, parent, [a for a in aliases if a])
        self.entries.append(entry)
        if code:
            self._by_code[code] = entry
        for n in dict.fromkeys([name, *entry.aliases, normalise(name), *map(normalise, entry.aliases)]):
            if len(n) < 2:
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
        """A plain list of names, one per line; the level is guessed from the suffix (区, 街道, 社区 ...)."""
        gaz = into or cls()
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            name = line.split(" ")[0].strip()
            if len(name) < 2 or name in gaz._names:
                continue
            level = next((lvl for suf, lvl in SUFFIX_LEVELS if name.endswith(suf)), "place")
            gaz.add(name, level)
        return gaz

    # -- matching -----------------------------------------------------
    def matches(self, text: str) -> list[Match]:
        """Longest non-overlapping name matches, left to right."""
        found, i, n = [], 0, len(text)
        while i < n - 1:
            hit = next((name for name in self._by_prefix.get(text[i:i + 2], ()) if text.startswith(name, i)), None)
            if hit is None:
                i += 1
                continue
            for entry in self._names[hit]:
                found.append(Match(entry, i, i + len(hit)))
            i += len(hit)
        return found

    def extract(self, text: str) -> dict | None:
        """The deepest area mentioned: district/street/community names, codes, a normalised address and span.

        ``address`` is the admin chain's names followed by the matched place and the details that directly
        follow it (house numbers, buildings, estates); the citizen's other words are never part of it.
        ``span`` [start, end) are positions in ``text``: from the mention of the chain's first admin name
        (the one nearest the place) to the end of those details.
        """
        found = self.matches(text)
        if not found:
            return None
        mentioned = {id(m.entry) for m in found}
        named_levels = {m.entry.level for m in found if m.entry.level != "place"}

        def contradicts(m: Match) -> bool:
            """A name in another district (street ...) than the one the citizen named at that level: 人民路 of
            云湖区 in 「西江区桃源大道与人民路路口」."""
            return any(e.level in named_levels and id(e) not in mentioned for e in m.entry.chain()[:-1])

        def score(m: Match) -> tuple:
            support = sum(1 for e in m.entry.chain()[:-1] if id(e) in mentioned)
            return (LEVELS[m.entry.level], support, -m.start)

        best = max([m for m in found if not contradicts(m)] or found, key=score)
        chain = best.entry.chain()
        # Flat name lists have no hierarchy: take missing levels from other parentless matches.
        filled: dict[str, Entry] = {}
        for level in ("province", "city", "district", "street", "community"):
            if best.entry.ancestor(level) is None:
                m = next((m for m in found if m.entry.level == level and m.entry.parent is None), None)
                if m is not None:
                    filled[level] = m.entry
        admin = sorted([e for e in chain if e.level != "place"] + list(filled.values()),
                       key=lambda e: LEVELS[e.level])
        admin_ids = {id(e) for e in admin}
        end = self._follow(text, best.end, found)[-1]
        # The detail starts at the place, or earlier at a known place or admin name from which house numbers and
        # places lead up to it without a gap (湖滨路12号翠湖花园); after an admin-level best, only what follows it.
        detail_start = best.end
        if best.entry.level == "place":
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
        out = {"level": best.entry.level, "address": address, "span": [start, end]}
        for level in ("province", "city", "district", "street", "community"):
            e = best.entry.ancestor(level) or filled.get(level)
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
    """The demo city's gazetteer plus those the routing settings (``routing.settings.RoutingSettings``)
    name. Kept here, free of the classifier's imports, so that search can use it cheaply."""
    gaz = Gazetteer.demo()
    if settings.gazetteer_csv:
        Gazetteer.from_csv(settings.gazetteer_csv, into=gaz)
    if settings.admin_divisions_dir:
        Gazetteer.from_admin_divisions(settings.admin_divisions_dir, into=gaz)
    if settings.place_names_txt:
        Gazetteer.from_name_list(settings.place_names_txt, into=gaz)
    return gaz
