"""The category taxonomy (codes, names, levels) from the core's categories.csv."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import hotline

DEFAULT_CATEGORIES = Path(hotline.__file__).with_name("demo_data") / "categories.csv"


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    parent: str | None
    level: int


class Taxonomy:
    def __init__(self, categories: list[Category]) -> None:
        self.by_code = {c.code: c for c in categories}
        self.by_name: dict[str, Category] = {}
        for c in sorted(categories, key=lambda c: c.level):  # first-level names win on clashes
            self.by_name.setdefault(c.name, c)

    @classmethod
    def from_csv(cls, path: str | Path = DEFAULT_CATEGORIES) -> "Taxonomy":
        rows = list(csv.DictReader(open(path, encoding="utf-8-sig", newline="")))
        parents = {r["code"]: (r.get("parent_code") or None) for r in rows}

        def level(code: str) -> int:
            n = 1
            while parents.get(code):
                code, n = parents[code], n + 1
            return n

        return cls([Category(r["code"], r["name"], parents[r["code"]], level(r["code"])) for r in rows])

    def resolve(self, label: str) -> Category | None:
        """A model label (a code or a name) as a category of this taxonomy."""
        return self.by_code.get(label) or self.by_name.get(label)

    def top(self, category: Category) -> Category:
        while category.parent and category.parent in self.by_code:
            category = self.by_code[category.parent]
        return category

    def level1_code(self, label: str) -> str | None:
        """The first-level code of a model or data label (a code or a name at any level), None if unknown."""
        cat = self.resolve(label)
        return self.top(cat).code if cat else None
