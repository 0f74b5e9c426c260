"""Retraining from the ticket history and dispatcher corrections, compared with the current model."""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from routing.classifier import Progress, RoutingModel, metrics
from routing.tables import routing_corrections
from routing.taxonomy import Taxonomy


# The smallest held-out slice a comparison may activate a model on (``hotline routing retrain --activate``; ``--force``
# overrides). Below about 30 rows one ticket moves accuracy by more than 3 points and macro-F1 by more (2 rows gave
# 0.3333 against 0.3333), so "not worse" says nothing; with a single first-level class macro-F1 measures no
# distinction at all. Counted on the first level, as the comparison is.
MIN_HELD_OUT_ROWS = 30
MIN_HELD_OUT_CLASSES = 2


class NotEnoughData(ValueError):
    """Too little history to hold out an evaluation slice (message in Chinese, for the CLI)."""


@dataclass
class Example:
    text: str
    category: str
    request_type: str | None = None


async def load_history(engine: AsyncEngine) -> list[Example]:
    """Labels a person set or confirmed, with dispatcher corrections taking precedence per ticket.

    A ticket's category is the router's own suggestion unless a person changed it, so training and
    evaluating on every ticket would favour the current model. A dispatched ticket counts only when
    - its category differs from the router's suggestion stored with it (``tickets.routing``; a ticket
      without a suggestion was categorised by a person), or
    - a person dispatched it: a ``dispatch`` event in ``ticket_events`` whose actor is not ``system``
      (automatic dispatch is recorded as ``system``); the dispatcher saw the category and kept or changed it.
    Every ``routing_corrections`` row is a person's decision and always counts.
    """
    from hotline.tables import categories, ticket_events, tickets
    from hotline.users import SYSTEM

    by_ticket: dict[int, Example] = {}
    async with engine.connect() as conn:
        by_person = set((await conn.execute(sa.select(ticket_events.c.ticket_id).distinct().where(
            ticket_events.c.action == "dispatch", ticket_events.c.actor != SYSTEM.username))).scalars())
        rows = await conn.execute(
            sa.select(tickets.c.id, tickets.c.title, tickets.c.text, tickets.c.request_type, tickets.c.routing,
                      categories.c.code)
            .join(categories, categories.c.id == tickets.c.category_id)
            .where(tickets.c.lead_unit_id.is_not(None)))
        for tid, title, text, rtype, routing, code in rows:
            if tid in by_person or (routing or {}).get("category") != code:
                by_ticket[tid] = Example("。".join(t for t in (title, text) if t), code, rtype)
        rows = await conn.execute(sa.select(routing_corrections).order_by(routing_corrections.c.id))
        for r in rows.mappings():
            if r["category"]:
                by_ticket[r["ticket_id"]] = Example(r["text"], r["category"], r["request_type"])
    return list(by_ticket.values())


def split(examples: list[Example], holdout: float, seed: int = 0) -> tuple[list[Example], list[Example]]:
    """Stratified split; labels with a single example stay in the training part."""
    groups: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        groups[e.category].append(e)
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted(groups):
        items = groups[label][:]
        rng.shuffle(items)
        k = int(round(len(items) * holdout)) if len(items) > 1 else 0
        test += items[:k]
        train += items[k:]
    return train, test


def compare(model: RoutingModel, held_out: list[Example], taxonomy: Taxonomy) -> dict:
    """Figures on the held-out slice, at the first category level (labels may be at different depths)."""
    docs = model.prepare([e.text for e in held_out])
    predicted = model.predict_labels(docs)

    def level1(label: str) -> str:
        return taxonomy.level1_code(label) or label

    out = metrics([level1(e.category) for e in held_out], [level1(p) for p in predicted])
    out["exact_accuracy"] = round(sum(p == e.category for p, e in zip(predicted, held_out)) / len(held_out), 4)
    out["model_version"] = model.version
    return out


def retrain(history: list[Example], current: RoutingModel, taxonomy: Taxonomy, *, seed_examples: list[Example] = (),
            holdout: float = 0.2, progress: Progress | None = None) -> tuple[RoutingModel, dict]:
    train, test = split(history, holdout)
    if not test:
        # split() holds out round(n * holdout) of a label with n examples: some label needs `need` of them.
        need = next(n for n in itertools.count(2) if round(n * holdout) >= 1)
        sizes = Counter(e.category for e in history)
        raise NotEnoughData(
            f"历史数据不足，留出评估集为空：共 {len(history)} 条、{len(sizes)} 个分类，每个分类最多 "
            f"{max(sizes.values(), default=0)} 条；按留出比例 {holdout}，至少要有一个分类有 {need} 条"
            f"（建议每个分类都不少于 {need} 条，即至少 {need * max(len(sizes), 2)} 条）")
    train = train + list(seed_examples)
    new = RoutingModel.train([e.text for e in train], [e.category for e in train],
                             [e.request_type or "" for e in train], user_words=current.user_words,
                             progress=progress,
                             meta={"source": "retrain", "history_rows": len(history)})
    report = {"train_rows": len(train), "held_out_rows": len(test),
              "new": compare(new, test, taxonomy), "current": compare(current, test, taxonomy)}
    report["not_worse"] = report["new"]["macro_f1"] >= report["current"]["macro_f1"]
    report |= held_out_size(test, taxonomy)
    return new, report


def held_out_size(held_out: list[Example], taxonomy: Taxonomy) -> dict:
    """Whether the held-out slice is large enough to decide an activation on (``MIN_HELD_OUT_ROWS`` rows and
    ``MIN_HELD_OUT_CLASSES`` first-level classes), with the figures for the report."""
    classes = len({taxonomy.level1_code(e.category) or e.category for e in held_out})
    return {"held_out_classes": classes,
            "held_out_sufficient": len(held_out) >= MIN_HELD_OUT_ROWS and classes >= MIN_HELD_OUT_CLASSES,
            "min_held_out": {"rows": MIN_HELD_OUT_ROWS, "classes": MIN_HELD_OUT_CLASSES}}
