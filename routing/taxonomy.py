"""The category taxonomy (codes, names, levels).

The router uses the categories stored in the database (``categories`` table, ``hotline categories import``;
see ``routing.store.load_taxonomy``); the core's shipped ``categories.csv`` is the fallback while that table
is empty, and what the commands without a database (``routing train``/``evaluate``) check labels against.
"""

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
    def __init__(self, categories: list[Category], *, source: str = "categories.csv") -> None:
        self.source = source  # "database" (the categories table) or "categories.csv" (the shipped fallback)
        self.by_code = {c.code: c for c in categories}
        self.by_name: dict[str, Category] = {}
        for c in sorted(categories, key=lambda c: c.level):  # first-level names win on clashes
            self.by_name.setdefault(c.name, c)

    @classmethod
    def from_csv(cls, path: str | Path = DEFAULT_CATEGORIES) -> "Taxonomy":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = [(r["code"], r["name"], r.get("parent_code") or None) for r in csv.DictReader(fh)]
        return cls.from_rows(rows, source="categories.csv")

    @classmethod
    def from_rows(cls, rows, *, source: str = "database") -> "Taxonomy":
        """From ``(code, name, parent_code)`` rows (parent_code None for a first-level category); a category's
        level is its depth, as ``hotline.directory.import_categories`` stores it."""
        rows = list(rows)
        parents = {code: parent or None for code, _, parent in rows}

        def level(code: str) -> int:
            n, seen = 1, {code}
            while parents.get(code) and parents[code] not in seen:  # a cycle (never imported) cannot hang us
                code, n = parents[code], n + 1
                seen.add(code)
            return n

        return cls([Category(code, name, parents[code], level(code)) for code, name, _ in rows], source=source)

    def __len__(self) -> int:
        return len(self.by_code)

    def unknown(self, labels) -> list[str]:
        """The labels (a model's classes, training labels) that are not a code or name of this taxonomy."""
        return sorted({label for label in labels if self.resolve(label) is None})

    def resolve(self, label: str) -> Category | None:
        """A model label (a code or a name) as a category of this taxonomy."""
        return self.by_code.get(label) or self.by_name.get(label)

    def top(self, category: Category) -> Category:
        seen = {category.code}
        while category.parent and category.parent in self.by_code and category.parent not in seen:
            category = self.by_code[category.parent]
            seen.add(category.code)
        return category

    def level1_code(self, label: str) -> str | None:
        """The first-level code of a model or data label (a code or a name at any level), None if unknown."""
        cat = self.resolve(label)
        return self.top(cat).code if cat else None
