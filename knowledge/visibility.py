"""What a member unit's user may see of tickets found through search and agent assist.

The core's rule (:mod:`hotline.views`): a unit user sees only the tickets dispatched to the unit,
with citizens' mobile numbers masked (138****5678). Search documents carry a ticket's lead unit
only, so a unit user's ticket search asks the index for the unit's own tickets, then keeps those
the unit is still actively assigned to (the index can lag behind a re-dispatch) and masks phone
numbers in the title, highlight and extras (on the plain text; the highlight's marks then go into the
masked text). Tickets the unit co-handles (its active ``co`` rows in ``ticket_units``, the newest
:data:`CO_HANDLED_LIMIT`) are searched among those documents only.

Articles (:func:`knowledge.articles.can_view`): platform editors search every article; other staff
published ones, and a unit user also its own unit's unpublished ones when it asks for such a status.
Without a ``status`` filter, non-editors search published articles only. The index's status can lag
behind the database (an edit while the search engine was down), so article hits are checked there too.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from hotline.identity import mask_phones_in_text
from hotline.lifecycle import STATE_LABELS
from hotline.tables import ticket_units, units
from knowledge.articles import STATUSES as ARTICLE_STATUSES
from knowledge.articles import in_force, is_editor, visible_to
from knowledge.search.base import KINDS, SearchFilters, SearchHit, SearchResult, masked_hit
from knowledge.tables import kb_articles


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


def _article_statuses(filters: SearchFilters) -> tuple[str, ...]:
    """The article statuses a search asks for: those named in ``status`` (which may name only ticket
    states: then none), published ones when it names no status."""
    if not filters.status:
        return ("published",)
    return tuple(s for s in filters.status if s in ARTICLE_STATUSES)


async def visible_article_hits(engine, user, result: SearchResult) -> SearchResult:
    """``result`` without the article hits ``user`` may not read now (the index can lag behind)."""
    ids = {int(h.ref_id) for h in result.hits if h.kind == "article" and h.ref_id.isdigit()}
    readable = visible_to(user)
    if readable is None:
        return result
    allowed: set[str] = set()
    if ids:
        async with engine.connect() as conn:
            allowed = {str(i) for i in (await conn.execute(sa.select(kb_articles.c.id).where(
                kb_articles.c.id.in_(sorted(ids)), readable))).scalars()}
    hits = [h for h in result.hits if h.kind != "article" or h.ref_id in allowed]
    return SearchResult(hits, max(0, result.total - (len(result.hits) - len(hits))))


async def visible_search(index, engine, user, text: str, filters: SearchFilters, limit: int) -> SearchResult:
    """Search as ``user`` may see (see the module doc): editors everything, unit users through
    :func:`unit_search`, other staff published articles and tickets."""
    if is_editor(user):
        return await index.search(text, filters, limit=limit)
    if is_unit_user(user):
        return await unit_search(index, engine, user, text, filters, limit)
    kinds = filters.kinds or KINDS
    if "article" in kinds:
        # one search: published articles, and tickets in the states asked for (every state when none is)
        statuses = tuple(s for s in _article_statuses(filters) if s == "published")
        if "ticket" in kinds:
            statuses += tuple(s for s in filters.status if s not in ARTICLE_STATUSES) if filters.status \
                else tuple(STATE_LABELS)
        if not statuses:
            return SearchResult([], 0)
        filters = dataclasses.replace(filters, status=statuses)
    return await visible_article_hits(engine, user, await index.search(text, filters, limit=limit))


def _masked(hit: SearchHit) -> SearchHit:
    """A ticket hit as unit users see it: numbers masked on the plain texts, the highlight made again from
    the masked text (:func:`knowledge.search.base.masked_hit`; masking marked HTML would miss a number the
    marks split: 139<em>12</em>345678)."""
    return masked_hit(hit, mask_phones_in_text)


async def unit_search(index, engine, user, text: str, filters: SearchFilters, limit: int) -> SearchResult:
    """Search as a unit user: published articles, its own unit's others when asked for by status, tickets
    only the unit's own (see the module doc)."""
    kinds = filters.kinds or KINDS
    results: list[SearchResult] = []
    code = await unit_code(engine, getattr(user, "unit_id", None))
    if "article" in kinds:
        statuses = _article_statuses(filters)
        article_searches = []
        if "published" in statuses:
            article_searches.append(dataclasses.replace(filters, kinds=("article",), status=("published",)))
        unpublished = tuple(s for s in statuses if s != "published")
        if unpublished and code is not None and filters.unit in (None, code):
            article_searches.append(dataclasses.replace(filters, kinds=("article",), status=unpublished, unit=code))
        for article_filters in article_searches:
            results.append(await visible_article_hits(engine, user, await index.search(text, article_filters,
                                                                                        limit=limit)))
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


async def mark_in_force(engine, now, hits) -> None:
    """``extra.in_force`` on each article hit: whether it is within its validity dates ``now`` (what the
    chatbot answers from; assist suggests only those). Search still lists the others."""
    ids = sorted({int(h.ref_id) for h in hits if h.kind == "article" and h.ref_id.isdigit()})
    if not ids:
        return
    async with engine.connect() as conn:
        rows = {str(r.id): r for r in (await conn.execute(sa.select(
            kb_articles.c.id, kb_articles.c.valid_from, kb_articles.c.valid_to).where(kb_articles.c.id.in_(ids))))}
    for hit in hits:
        if hit.kind == "article" and hit.ref_id in rows:
            hit.extra = {**hit.extra, "in_force": in_force(rows[hit.ref_id], now)}
