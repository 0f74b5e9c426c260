"""Migration 0014: stored articles' plain text is recomputed with list bullets, table rows and link addresses,
and an index built from the old text is rebuilt once."""

import sqlalchemy as sa
from alembic import command

from knowledge.tables import kb_articles
from tests.core.test_migrations import migrated

BODY = ('<p>材料：</p><ul><li>身份证</li><li>户口簿</li></ul><table><tr><th>区域</th><th>地址</th></tr>'
        '<tr><td>西湖区</td><td>文三路138号</td></tr></table><p>详见<a href="https://zjj.yunzhou.gov.cn/bszn">办事指南</a></p>')
OLD_TEXT = "材料：\n身份证\n户口簿\n区域\n地址\n西湖区\n文三路138号\n详见办事指南"  # as 0011's plain text made it
NEW_TEXT = "材料：\n• 身份证\n• 户口簿\n区域 | 地址\n西湖区 | 文三路138号\n详见办事指南（https://zjj.yunzhou.gov.cn/bszn）"


async def test_articles_plain_text_gets_bullets_rows_and_addresses(engine, clock):
    from knowledge.jobs import DOC_TEXT_STATE, outdated, set_state

    step = await migrated(engine)
    async with engine.begin() as conn:
        await conn.run_sync(step, command.downgrade, "0013_kb_version_fields")
        for title, body, text in (("公积金", BODY, OLD_TEXT), ("停水", "<p>停水。</p>", "停水。")):
            await conn.execute(kb_articles.insert().values(
                title=title, body_html=body, body_text=text, keywords=[], status="published", version=1,
                created_by="t", updated_by="t", created_at=clock.now(), updated_at=clock.now()))
        await conn.run_sync(step, command.upgrade, "heads")
        texts = (await conn.execute(sa.select(kb_articles.c.body_text).order_by(kb_articles.c.id))).scalars().all()
        assert texts == [NEW_TEXT, "停水。"]
        await conn.run_sync(step, command.downgrade, "0013_kb_version_fields")  # back to the old text
        texts = (await conn.execute(sa.select(kb_articles.c.body_text).order_by(kb_articles.c.id))).scalars().all()
        assert texts == [OLD_TEXT, "停水。"]
        await conn.run_sync(step, command.upgrade, "heads")
    # an index written under the old text (DOC_TEXT_VERSION 4) is rebuilt by the index job
    await set_state(engine, DOC_TEXT_STATE, {"version": 4})
    assert await outdated(engine)
