"""Retraining from the ticket history and dispatcher corrections, compared with the current model."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from routing.classifier import Progress, RoutingModel, metrics
from routing.tables import routing_corrections
from routing.taxonomy import Taxonomy


@dataclass
class Example:
    text: str
    category: str
    request_type: str | None = None


async def load_history(engine: AsyncEngine) -> list[Example]:
    """Tickets with a final category, with dispatcher corrections taking precedence per ticket."""
    from hotline.tables import categories, tickets

    by_ticket: dict[int, Example] = {}
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(tickets.c.id, tickets.c.title, tickets.c.text, tickets.c.request_type, categories.c.code)
            .join(categories, categories.c.id == tickets.c.category_id)
            .where(tickets.c.lead_unit_id.is_not(None)))
        for tid, title, text, rtype, code in rows:
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
        cat = taxonomy.resolve(label)
        return taxonomy.top(cat).code if cat else label

    out = metrics([level1(e.category) for e in held_out], [level1(p) for p in predicted])
    out["exact_accuracy"] = round(sum(p == e.category for p, e in zip(predicted, held_out)) / len(held_out), 4)
    out["model_version"] = model.version
    return out


def retrain(history: list[Example], current: RoutingModel, taxonomy: Taxonomy, *, seed_examples: list[Example] = (),
            holdout: float = 0.2, progress: Progress | None = None) -> tuple[RoutingModel, dict]:
    train, test = split(history, holdout)
    if not test:
        raise ValueError("held-out slice is empty")
    train = train + list(seed_examples)
    new = RoutingModel.train([e.text for e in train], [e.category for e in train],
                             [e.request_type or "" for e in train], user_words=current.user_words,
                             progress=progress,
                             meta={"source": "retrain", "history_rows": len(history)})
    report = {"train_rows": len(train), "held_out_rows": len(test),
              "new": compare(new, test, taxonomy), "current": compare(current, test, taxonomy)}
    report["not_worse"] = report["new"]["macro_f1"] >= report["current"]["macro_f1"]
    return new, report
