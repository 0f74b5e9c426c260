"""Agent assist: while an agent types a ticket, suggest articles, similar past tickets and the router's pick.

Articles are suggested only while published and in force (:func:`knowledge.articles.in_force`, the
chatbot's rule). Member units get no routing suggestion (routing details are for the platform's staff;
a unit's ticket JSON has ``routing: null`` and ``/routing/suggest`` refuses it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import sqlalchemy as sa

from hotline.identity import without_digit_runs
from knowledge.articles import in_force
from knowledge.chat_words import book_title
from knowledge.search.base import SearchFilters
from knowledge.tables import kb_articles
from knowledge.visibility import is_unit_user, unit_search

log = logging.getLogger(__name__)
ASSIST_TIMEOUT = 1.5  # seconds per source; a slow source is left out rather than delaying the others


class Assist:
    def __init__(self, index, engine=None, clock=None) -> None:
        self.index = index
        self.engine = engine  # needed to show unit users their own tickets (without it they get none)
        self.clock = clock  # with the engine: articles are checked to be published and in force now

    async def suggest(self, text: str, *, router=None, exclude_ticket: str | None = None, intake_line: str = "12345",
                      channel: str = "phone", limit: int = 5, viewer=None) -> dict[str, Any]:
        """``viewer`` is the user asking: a unit user only gets tickets dispatched to the unit, phones masked,
        and no routing suggestion (``routing`` is null)."""
        text = (text or "").strip()
        if not text:
            return {"articles": [], "similar_tickets": [], "routing": None}
        if is_unit_user(viewer):
            router = None
        articles, tickets, routing = await asyncio.gather(
            self._articles(text, limit), self._tickets(text, limit, exclude_ticket, viewer),
            self._routing(router, text, intake_line, channel))
        return {"articles": articles, "similar_tickets": tickets, "routing": routing}

    async def _articles(self, text: str, limit: int) -> list[dict]:
        try:
            result = await asyncio.wait_for(self.index.search(
                text, SearchFilters(kinds=("article",), status=("published",)), limit=limit * 2), ASSIST_TIMEOUT)
            hits = await self._in_force(result.hits)
        except Exception:
            log.warning("assist: article search unavailable", exc_info=True)
            return []
        return [{"id": int(h.ref_id), "title": h.title, "highlight": h.highlight, "score": round(h.score, 4),
                 "unit": h.unit, "unit_name": h.extra.get("unit_name"), "category": h.category}
                for h in hits[:limit]]

    async def _in_force(self, hits: list) -> list:
        """The hits whose article is published and in force now (the index can lag behind an edit, and knows
        no validity dates)."""
        if self.engine is None or self.clock is None or not hits:
            return hits
        ids = [int(h.ref_id) for h in hits if h.ref_id.isdigit()]
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(kb_articles.c.id, kb_articles.c.valid_from, kb_articles.c.valid_to)
                                       .where(kb_articles.c.id.in_(ids), kb_articles.c.status == "published"))).all()
        now = self.clock.now()
        ok = {str(r.id) for r in rows if in_force(r, now)}
        return [h for h in hits if h.ref_id in ok]

    async def _tickets(self, text: str, limit: int, exclude: str | None, viewer=None) -> list[dict]:
        try:
            hits = await asyncio.wait_for(self._ticket_hits(text, limit + 1, viewer), ASSIST_TIMEOUT)
        except Exception:
            log.warning("assist: ticket search unavailable", exc_info=True)
            return []
        out = []
        for h in hits:
            if exclude is not None and h.ref_id == str(exclude):
                continue
            out.append({"id": int(h.ref_id), "number": h.extra.get("number"), "title": h.title,
                        "highlight": h.highlight, "state": h.status, "unit": h.unit,
                        "unit_name": h.extra.get("unit_name"), "reply": h.extra.get("reply"),
                        "category": h.category, "created_at": h.date.isoformat() if h.date else None,
                        "score": round(h.score, 4)})
        return out[:limit]

    async def _ticket_hits(self, text: str, limit: int, viewer) -> list:
        if not is_unit_user(viewer):
            return (await self.index.search(text, SearchFilters(kinds=("ticket",)), limit=limit)).hits
        if self.engine is None:
            return []
        # numbers are masked for units: they must not find tickets by the hidden digits either
        text = without_digit_runs(text)
        if not text.strip():
            return []
        return (await unit_search(self.index, self.engine, viewer, text, SearchFilters(kinds=("ticket",)), limit)).hits

    async def _routing(self, router, text: str, intake_line: str, channel: str) -> dict | None:
        if router is None:
            return None
        try:
            return await asyncio.wait_for(router.suggest(text, intake_line=intake_line, channel=channel),
                                          ASSIST_TIMEOUT)
        except Exception:
            log.warning("assist: router unavailable", exc_info=True)
            return None


def answer_block(article: dict) -> str:
    """The text an agent inserts into a reply from an article, with its source."""
    return f"{article['body_text']}\n（依据：{book_title(article['title'])}，知识编号 {article['id']}）"
