"""Periodic housekeeping of the channels' own tables (a plain job taking the context; safe to run twice).

Nothing here is a citizen's message: these rows only guard against retries and abuse, and each is
useless after a day. Without the purge they would grow for ever (one form token per page view).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from channels.tables import sms_parts, wechat_deliveries
from channels.tables_mail import mail_form_tokens, mail_rate_hits

KEEP = dt.timedelta(days=1)  # WeChat retries within seconds, form tokens live 2 hours, rate limits count an hour


async def prune(engine, now: dt.datetime, keep: dt.timedelta = KEEP) -> dict[str, int]:
    """Delete guard rows older than ``keep``; returns how many per table."""
    cutoff = now - keep
    done = {}
    async with engine.begin() as conn:
        for table, column in ((wechat_deliveries, wechat_deliveries.c.created_at),
                              (mail_form_tokens, mail_form_tokens.c.created_at),
                              (mail_rate_hits, mail_rate_hits.c.at),
                              (sms_parts, sms_parts.c.created_at)):
            done[table.name] = (await conn.execute(sa.delete(table).where(column < cutoff))).rowcount
    return done


async def prune_job(ctx, *ids) -> dict[str, int]:
    """Hourly: :func:`prune` on the job context's store and clock."""
    return await prune(ctx.engine, ctx.now())
