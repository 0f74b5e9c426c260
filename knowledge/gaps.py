"""Knowledge gaps: questions the chatbot could not answer, or whose answer did not help, until an
editor closes them (``GET /api/v1/kb/gaps``, ``POST /api/v1/kb/gaps/close``)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from knowledge.tables import kb_chat_log


async def knowledge_gaps(engine: AsyncEngine, since: dt.datetime | None = None, limit: int = 100) -> list[dict]:
    """Questions the chatbot could not answer or whose answer did not help and no editor has closed yet,
    most frequent first."""
    where = sa.and_(_GAP, kb_chat_log.c.gap_closed_at.is_(None))
    query = (sa.select(kb_chat_log.c.question, sa.func.count().label("count"),
                       sa.func.max(kb_chat_log.c.created_at).label("last_at"),
                       sa.func.max(kb_chat_log.c.article_id).label("article_id"))
             .where(where).group_by(kb_chat_log.c.question)
             .order_by(sa.func.count().desc(), sa.func.max(kb_chat_log.c.created_at).desc()).limit(limit))
    if since is not None:
        query = query.where(kb_chat_log.c.created_at >= since)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [{"question": r.question, "count": r.count, "last_at": _iso(r.last_at), "article_id": r.article_id}
            for r in rows]


_GAP = sa.or_(kb_chat_log.c.outcome == "unanswered", kb_chat_log.c.helpful.is_(False))


async def close_gap(engine: AsyncEngine, question: str, who: str, now: dt.datetime) -> int:
    """An editor dealt with a gap: its askings so far leave the list (a new asking brings it back)."""
    async with engine.begin() as conn:
        done = await conn.execute(kb_chat_log.update().where(
            _GAP, kb_chat_log.c.question == question, kb_chat_log.c.gap_closed_at.is_(None),
            kb_chat_log.c.created_at <= now).values(gap_closed_at=now, gap_closed_by=who))
    return done.rowcount or 0


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat()
