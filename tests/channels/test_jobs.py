"""The channels' housekeeping job: day-old guard rows go, fresh ones stay."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from channels.jobs import prune
from channels.tables import sms_parts, wechat_deliveries
from channels.tables_mail import mail_form_tokens, mail_rate_hits


async def test_prune_drops_only_rows_older_than_a_day(engine, clock):
    now = clock.now()
    old, fresh = now - dt.timedelta(hours=25), now - dt.timedelta(hours=23)
    async with engine.begin() as conn:
        for i, at in enumerate((old, fresh)):
            await conn.execute(sa.insert(wechat_deliveries).values(dedupe_key=f"k{i}", reply="", created_at=at))
            await conn.execute(sa.insert(mail_form_tokens).values(nonce=f"n{i}", answer="3", created_at=at))
            await conn.execute(sa.insert(mail_rate_hits).values(key="ip:127.0.0.1", at=at))
            await conn.execute(sa.insert(sms_parts).values(sender="+8613800000000", ref=str(i), seq=1, total=2,
                                                           text="第一段", created_at=at))
    assert await prune(engine, now) == {"wechat_deliveries": 1, "mail_form_tokens": 1, "mail_rate_hits": 1,
                                        "sms_parts": 1}
    assert await prune(engine, now) == {"wechat_deliveries": 0, "mail_form_tokens": 0, "mail_rate_hits": 0,
                                        "sms_parts": 0}
    async with engine.connect() as conn:
        for table in (wechat_deliveries, mail_form_tokens, mail_rate_hits, sms_parts):
            assert (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one() == 1
