"""User-editable synonym groups (社保/社会保险, 公积金/住房公积金 ...).

Synonyms are applied at query time by every backend: a query word that
belongs to a group is expanded with the other members, so editing a group
takes effect without reindexing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hotline.textnorm import normalise

DEFAULT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("社保", "社会保险", "社会保障"),
    ("公积金", "住房公积金"),
    ("医保", "医疗保险", "基本医疗保险"),
    ("户口", "户籍"),
    ("身份证", "居民身份证"),
    ("停车", "泊车"),
    ("燃气", "天然气", "煤气"),
    ("供水", "自来水"),
    ("入学", "上学", "就读"),
    ("退休金", "养老金"),
    ("居住证", "暂住证"),
    ("违章", "违法停车"),
    ("噪音", "噪声"),
)

_SPLIT = re.compile(r"[,，、/\s]+")


def parse_group(value: str | Iterable[str]) -> tuple[str, ...]:
    """'社保, 社会保险' or a list -> ('社保', '社会保险'); members lower-cased, deduplicated."""
    items = _SPLIT.split(value) if isinstance(value, str) else list(value)
    seen: list[str] = []
    for item in items:
        item = normalise(item.strip()).lower()
        if item and item not in seen:
            seen.append(item)
    return tuple(seen)


class SynonymSet:
    """Groups of equivalent terms; ``expand`` maps a token list to (token, weight) pairs."""

    def __init__(self, groups: Iterable[Iterable[str] | str] = DEFAULT_GROUPS) -> None:
        self.groups: list[tuple[str, ...]] = []
        self._index: dict[str, tuple[str, ...]] = {}
        for group in groups:
            members = parse_group(group)
            if len(members) < 2:
                continue
            self.groups.append(members)
            for term in members:
                # A term in several groups has the members of all of them (no group hides another).
                self._index[term] = tuple(dict.fromkeys((*self._index.get(term, ()), *members)))

    def terms(self) -> list[str]:
        return list(self._index)

    def group_of(self, term: str) -> tuple[str, ...]:
        return self._index.get(term, ())

    def expand(self, tokens: Iterable[str]) -> list[str]:
        """The tokens plus the other members of every group a token belongs to (each once)."""
        out = list(tokens)
        present = set(out)
        for tok in list(out):
            for other in self.group_of(tok):
                if other not in present:
                    present.add(other)
                    out.append(other)
        return out
