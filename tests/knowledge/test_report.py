"""The chatbot report over the question log: outcomes, feedback, channels and local days."""

from __future__ import annotations

import datetime as dt

from knowledge.report import chatbot_report
from knowledge.tables import kb_chat_log

UTC = dt.timezone.utc


async def log(engine, at: dt.datetime, channel: str, outcome: str, helpful=None, ticket=None):
    async with engine.begin() as conn:
        await conn.execute(kb_chat_log.insert().values(channel=channel, user_key=f"{channel}:u", question="问题",
                                                       outcome=outcome, helpful=helpful, ticket_number=ticket,
                                                       created_at=at))


async def test_outcomes_channels_and_local_days(engine):
    # 2026-11-01 00:30 in Shanghai is still 10-31 in UTC: it counts on the local day.
    nov1 = dt.datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
    await log(engine, nov1, "wechat", "answered", helpful=True)
    await log(engine, nov1, "wechat", "clarify")
    await log(engine, nov1 + dt.timedelta(days=2), "telegram", "unanswered")
    await log(engine, nov1 + dt.timedelta(days=2), "wechat", "ticket", ticket="20261103-0001")
    await log(engine, nov1 - dt.timedelta(hours=1), "wechat", "answered")  # 10-31 local: outside

    report = await chatbot_report(engine, dt.datetime(2026, 10, 31, 16, tzinfo=UTC),
                                  dt.datetime(2026, 11, 3, 16, tzinfo=UTC), "Asia/Shanghai")

    assert (report["questions"], report["answered"], report["clarify"], report["unanswered"], report["tickets"]) \
        == (4, 1, 1, 1, 1)
    assert report["answer_rate"] == 0.25 and report["ticket_rate"] == 0.25 and report["helpful_rate"] == 1.0
    assert [(c["channel"], c["questions"]) for c in report["channels"]] == [("telegram", 1), ("wechat", 3)]
    assert [(d["date"], d["questions"]) for d in report["days"]] == [
        ("2026-11-01", 2), ("2026-11-02", 0), ("2026-11-03", 2)]
    assert report["articles"] == [] and report["unhelpful_articles"] == []


async def test_an_empty_period_has_no_rates(engine):
    report = await chatbot_report(engine, dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2026, 11, 2, tzinfo=UTC),
                                  "Asia/Shanghai")
    assert report["questions"] == 0 and report["answer_rate"] is None and len(report["days"]) == 2
