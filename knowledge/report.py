"""How the chatbot did over a period: answered, clarified, escalated to a ticket, left unanswered, and helpful.

Read from the chatbot's question log (``kb_chat_log``: one row per question with its outcome and the
citizen's "did this help?" answer). Knowledge editors see which articles carry the load and which
ones citizens found unhelpful; leaders see the share of questions answered without a ticket, per
channel and per day (local days of the city's time zone).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from knowledge.tables import kb_articles, kb_chat_log

OUTCOMES = ("answered", "clarify", "unanswered", "ticket")
TOP = 10


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(counts: Counter) -> dict:
    questions = sum(counts[o] for o in OUTCOMES)
    rated = counts["helpful"] + counts["unhelpful"]
    return {"questions": questions, **{("tickets" if o == "ticket" else o): counts[o] for o in OUTCOMES},
            "answer_rate": _rate(counts["answered"], questions), "ticket_rate": _rate(counts["ticket"], questions),
            "helpful": counts["helpful"], "unhelpful": counts["unhelpful"], "helpful_rate": _rate(counts["helpful"], rated)}


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


async def chatbot_report(engine: AsyncEngine, since: dt.datetime, until: dt.datetime, zone: str) -> dict:
    """Figures for questions asked in [since, until) (see the module doc)."""
    tz = ZoneInfo(zone)
    total: Counter = Counter()
    channels: dict[str, Counter] = defaultdict(Counter)
    days: dict[dt.date, Counter] = defaultdict(Counter)
    articles: dict[int, Counter] = defaultdict(Counter)
    log = kb_chat_log.c
    query = (sa.select(log.channel, log.outcome, log.article_id, log.helpful, log.created_at)
             .where(log.created_at >= since, log.created_at < until))
    async with engine.connect() as conn:
        result = await conn.stream(query.execution_options(yield_per=5000))
        async for row in result:
            marks = [row.outcome]
            if row.helpful is not None:
                marks.append("helpful" if row.helpful else "unhelpful")
            for counter in (total, channels[row.channel], days[_utc(row.created_at).astimezone(tz).date()]):
                counter.update(marks)
            if row.article_id is not None and row.outcome == "answered":
                articles[row.article_id].update(marks)
        used = sorted(articles, key=lambda a: (-articles[a]["answered"], a))[:TOP]
        unhelpful = sorted((a for a in articles if articles[a]["unhelpful"]),
                           key=lambda a: (-articles[a]["unhelpful"], a))[:TOP]
        ids = sorted(set(used) | set(unhelpful))
        titles = dict((await conn.execute(sa.select(kb_articles.c.id, kb_articles.c.title)
                                          .where(kb_articles.c.id.in_(ids)))).all()) if ids else {}

    first, last = since.astimezone(tz).date(), (until.astimezone(tz) - dt.timedelta(microseconds=1)).date()
    day_list = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]

    def article(a: int) -> dict:
        return {"article_id": a, "title": titles.get(a, f"#{a}"), "answered": articles[a]["answered"],
                "helpful": articles[a]["helpful"], "unhelpful": articles[a]["unhelpful"],
                "helpful_rate": _rate(articles[a]["helpful"], articles[a]["helpful"] + articles[a]["unhelpful"])}

    return {
        "since": since.isoformat(), "until": until.isoformat(), **_figures(total),
        "channels": [{"channel": c, **_figures(channels[c])} for c in sorted(channels)],
        "days": [{"date": d.isoformat(), **_figures(days.get(d, Counter()))} for d in day_list],
        "articles": [article(a) for a in used],
        "unhelpful_articles": [article(a) for a in unhelpful],
    }
