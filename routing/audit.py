"""How good were the router's suggestions? An audit over the tickets of a period.

Every ticket keeps the suggestion it got at intake (``tickets.routing``: model version, lead unit,
confidence, top 3, rule). Comparing it with where the ticket was finally dispatched (the lead unit
of its last ``dispatch`` event) tells, per model version and per confidence band, how often the
suggestion was right, how often auto-dispatched tickets came back, and what each possible
auto-dispatch threshold would have covered and how precise it would have been: the figures a
dispatch supervisor needs before changing ``HOTLINE_ROUTING_AUTO_THRESHOLD``.

A suggestion is *right* when the ticket's current lead unit is the suggested one; a ticket not yet
dispatched (still new or rejected) is counted as routed but not judged.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.tables import ticket_events, tickets, units

BANDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
SYSTEM_ACTOR = "system"


@dataclass
class Tally:
    tickets: int = 0
    dispatched: int = 0
    unit_correct: int = 0
    top3_hits: int = 0
    auto_dispatched: int = 0
    auto_correct: int = 0
    returned: int = 0
    auto_returned: int = 0

    def add(self, row: "Judged") -> None:
        self.tickets += 1
        if row.final_unit is None:
            return
        self.dispatched += 1
        self.unit_correct += row.correct
        self.top3_hits += row.final_unit in row.top3
        self.returned += row.returned
        if row.auto:
            self.auto_dispatched += 1
            self.auto_correct += row.correct
            self.auto_returned += row.returned

    def as_json(self) -> dict:
        return {**self.__dict__,
                "unit_accuracy": _rate(self.unit_correct, self.dispatched),
                "top3_accuracy": _rate(self.top3_hits, self.dispatched),
                "auto_precision": _rate(self.auto_correct, self.auto_dispatched),
                "return_rate": _rate(self.returned, self.dispatched)}


@dataclass
class Judged:
    version: str
    suggested: str | None
    confidence: float
    eligible: bool  # a rule matched, no emergency, not out of scope: auto-dispatch was possible
    top3: tuple[str, ...]
    auto: bool
    final_unit: str | None
    returned: bool

    @property
    def correct(self) -> bool:
        return self.final_unit is not None and self.final_unit == self.suggested


@dataclass
class Audit:
    versions: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    bands: list[Tally] = field(default_factory=lambda: [Tally() for _ in BANDS[:-1]])
    total: Tally = field(default_factory=Tally)
    # (threshold index) -> [eligible dispatched tickets at or above it, of which right]
    what_if: list[list[int]] = field(default_factory=lambda: [[0, 0] for _ in THRESHOLDS])
    confusions: Counter = field(default_factory=Counter)

    def add(self, row: Judged) -> None:
        self.total.add(row)
        self.versions[row.version].add(row)
        for i, (lo, hi) in enumerate(zip(BANDS, BANDS[1:])):
            if lo <= row.confidence < hi:
                self.bands[i].add(row)
        if row.final_unit is None:
            return
        if row.eligible:
            for i, threshold in enumerate(THRESHOLDS):
                if row.confidence >= threshold:
                    self.what_if[i][0] += 1
                    self.what_if[i][1] += row.correct
        if row.suggested and not row.correct:
            self.confusions[(row.suggested, row.final_unit)] += 1


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _judge(row) -> Judged:
    top3 = tuple(str(t.get("unit")) for t in (row.top3 or []) if isinstance(t, dict))
    return Judged(
        version=row.version, suggested=row.suggested, confidence=float(row.confidence or 0.0),
        eligible=bool(row.rule is not None and row.emergency is None and row.out_of_scope is None and row.suggested),
        top3=top3, auto=row.first_actor == SYSTEM_ACTOR, final_unit=row.final_unit,
        returned=bool(row.returns))


def _query(since: dt.datetime, until: dt.datetime) -> sa.Select:
    ev = ticket_events
    # Tickets created without a router keep a JSON null (not SQL NULL): no model version, nothing to judge.
    in_period = sa.and_(tickets.c.created_at >= since, tickets.c.created_at < until,
                        tickets.c.routing["model_version"].as_string().is_not(None))
    dispatches = (sa.select(ev.c.ticket_id, sa.func.min(ev.c.id).label("first_id"), sa.func.max(ev.c.id).label("last_id"))
                  .where(ev.c.action == "dispatch").group_by(ev.c.ticket_id).subquery("d"))
    returns = (sa.select(ev.c.ticket_id, sa.func.count().label("n"))
               .where(ev.c.action == "return").group_by(ev.c.ticket_id).subquery("r"))
    first, last = ev.alias("first_dispatch"), ev.alias("last_dispatch")
    routing = tickets.c.routing
    return (sa.select(
        routing["model_version"].as_string().label("version"),
        routing["lead_unit"].as_string().label("suggested"),
        routing["confidence"].as_float().label("confidence"),
        routing["rule"].as_string().label("rule"),
        routing[("emergency", "number")].as_string().label("emergency"),
        routing[("out_of_scope", "code")].as_string().label("out_of_scope"),
        routing["top3"].label("top3"),
        first.c.actor.label("first_actor"),
        last.c.data["lead_unit"].as_string().label("final_unit"),
        returns.c.n.label("returns"))
        .select_from(tickets
                     .outerjoin(dispatches, dispatches.c.ticket_id == tickets.c.id)
                     .outerjoin(first, first.c.id == dispatches.c.first_id)
                     .outerjoin(last, last.c.id == dispatches.c.last_id)
                     .outerjoin(returns, returns.c.ticket_id == tickets.c.id))
        .where(in_period).order_by(tickets.c.id))


async def routing_audit(engine: AsyncEngine, since: dt.datetime, until: dt.datetime, *,
                        threshold: float | None = None) -> dict:
    """The audit of tickets created in [since, until) as JSON-ready figures (see the module doc)."""
    audit = Audit()
    async with engine.connect() as conn:
        result = await conn.stream(_query(since, until).execution_options(yield_per=2000))
        async for row in result:
            audit.add(_judge(row))
        names = dict((await conn.execute(sa.select(units.c.code, units.c.name))).all())
    dispatched = audit.total.dispatched
    return {
        "since": since.isoformat(), "until": until.isoformat(), "threshold": threshold,
        **audit.total.as_json(),
        "versions": [{"model_version": v, **t.as_json()} for v, t in sorted(audit.versions.items())],
        "bands": [{"from": lo, "to": min(hi, 1.0), **t.as_json()}
                  for lo, hi, t in zip(BANDS, BANDS[1:], audit.bands)],
        "thresholds": [{"threshold": t, "tickets": n, "coverage": _rate(n, dispatched), "precision": _rate(ok, n)}
                       for t, (n, ok) in zip(THRESHOLDS, audit.what_if)],
        "confusions": [{"suggested": s, "suggested_name": names.get(s, s), "final": f,
                        "final_name": names.get(f, f), "count": n}
                       for (s, f), n in audit.confusions.most_common(10)],
    }

