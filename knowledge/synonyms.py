"""User-editable synonym groups (社保/社会保险, 公积金/住房公积金 ...).

Synonyms are applied at query time by every backend: a query word that
belongs to a group is expanded with the other members, so editing a group
takes effect without reindexing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from hotline.textnorm import normalise

DEFAULT_FILE = Path(__file__).parent / "data" / "default_synonyms.txt"


def read_groups(path: Path) -> tuple[tuple[str, ...], ...]:
    """Groups from a text file: one per line, members separated by commas; ``#`` starts a comment."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(tuple(m.strip() for m in re.split(r"[,，、]", line) if m.strip()) for line in lines if line)


DEFAULT_GROUPS = read_groups(DEFAULT_FILE)

_SPLIT = re.compile(r"[,，、;；/\s]+")  # commas, 顿号, semicolons, slashes, spaces


def parse_group(value: str | Iterable[str]) -> tuple[str, ...]:
    """'社保, 社会保险' (or 、 ; / or spaces between) or a list -> ('社保', '社会保险'); members lower-cased,
    deduplicated. Lenient, for stored and default groups; what an editor saves is checked first by
    :func:`knowledge.synonyms_store.checked_group` (no spaces inside a member, no single characters)."""
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
