"""What a member unit's user may see of tickets found through search and agent assist.

The core's rule (:mod:`hotline.views`): a unit user sees only the tickets dispatched to the unit,
with citizens' mobile numbers masked (138****5678). Search documents carry a ticket's lead unit
only, so a unit user's ticket search asks the index for the unit's own tickets, then keeps those
the unit is still actively assigned to (the index can lag behind a re-dispatch) and masks phone
numbers in the title, highlight and extras. Tickets the unit co-handles (its active ``co`` rows in
``ticket_units``, the newest :data:`CO_HANDLED_LIMIT`) are searched among those documents only.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from hotline.identity import mask_phones_in_text
from hotline.tables import ticket_units, units
from knowledge.search.base import KINDS, SearchFilters, SearchHit, SearchResult


CO_HANDLED_LIMIT = 1000


def is_unit_user(user) -> bool:
    return getattr(user, "role", None) == "unit"


async def unit_code(engine, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(units.c.code).where(units.c.id == unit_id))).scalar()


async def visible_hits(engine, unit_id: int | None, hits: list[SearchHit]) -> list[SearchHit]:
    """Drop ticket hits the unit is not actively assigned to and mask phones in the rest."""
    ids = {int(h.ref_id) for h in hits if h.kind == "ticket"}
    allowed: set[int] = set()
    if ids and unit_id is not None:
        async with engine.connect() as conn:
            allowed = set((await conn.execute(sa.select(ticket_units.c.ticket_id).where(
                ticket_units.c.ticket_id.in_(sorted(ids)), ticket_units.c.unit_id == unit_id,
                ticket_units.c.active.is_(True)))).scalars())
    return [_masked(h) if h.kind == "ticket" else h for h in hits
            if h.kind != "ticket" or int(h.ref_id) in allowed]


async def co_handled_ids(engine, unit_id: int) -> tuple[str, ...]:
    """Tickets the unit actively co-handles but does not lead (the newest first, bounded)."""
    async with engine.connect() as conn:
        ids = (await conn.execute(sa.select(ticket_units.c.ticket_id).where(
            ticket_units.c.unit_id == unit_id, ticket_units.c.role == "co", ticket_units.c.active.is_(True))
            .order_by(ticket_units.c.ticket_id.desc()).limit(CO_HANDLED_LIMIT))).scalars()
        return tuple(str(i) for i in ids)


def _masked(hit: SearchHit) -> SearchHit:
    extra = {k: mask_phones_in_text(v) if isinstance(v, str) else v for k, v in hit.extra.items()}
    return dataclasses.replace(hit, title=mask_phones_in_text(hit.title), highlight=mask_phones_in_text(hit.highlight),
                               extra=extra)


async def unit_search(index, engine, user, text: str, filters: SearchFilters, limit: int) -> SearchResult:
    """Search as a unit user: articles as asked, tickets only the unit's own (see the module doc)."""
    kinds = filters.kinds or KINDS
    results: list[SearchResult] = []
    if "article" in kinds:
        results.append(await index.search(text, dataclasses.replace(filters, kinds=("article",)), limit=limit))
    code = await unit_code(engine, getattr(user, "unit_id", None))
    if "ticket" in kinds and code is not None and filters.unit in (None, code):
        searches = [dataclasses.replace(filters, kinds=("ticket",), unit=code)]
        if co_handled := await co_handled_ids(engine, user.unit_id):
            searches.append(dataclasses.replace(filters, kinds=("ticket",), unit=None, ref_ids=co_handled))
        for ticket_filters in searches:
            found = await index.search(text, ticket_filters, limit=limit)
            hits = await visible_hits(engine, user.unit_id, found.hits)
            results.append(SearchResult(hits, max(0, found.total - (len(found.hits) - len(hits)))))
    best: dict[str, SearchHit] = {}
    for hit in (h for r in results for h in r.hits):  # a ticket re-dispatched meanwhile may come back twice
        if hit.key not in best or hit.score > best[hit.key].score:
            best[hit.key] = hit
    hits = sorted(best.values(), key=lambda h: -h.score)[:limit]
    total = sum(r.total for r in results) - (sum(len(r.hits) for r in results) - len(best))
    return SearchResult(hits, total)
