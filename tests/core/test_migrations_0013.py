"""Migration 0013: article versions record every editable field (backfilled where knowable); SQLite synonym
group ids are never reused."""

import datetime as dt

import sqlalchemy as sa
from alembic import command

from knowledge.tables import kb_article_versions, kb_articles, kb_synonyms
from tests.core.test_migrations import migrated

ALL = ["category", "unit", "valid_from", "valid_to", "review_due_at"]


async def test_versions_get_the_fields_the_article_had_where_knowable(engine, clock):
    step = await migrated(engine)
    now = clock.now()
    until, due = now + dt.timedelta(days=90), now + dt.timedelta(days=30)
    async with engine.begin() as conn:
        await conn.run_sync(step, command.downgrade, "0011_kb_body_lines")
        art = (await conn.execute(kb_articles.insert().values(
            title="燃气开户", body_html="<p>办理。</p>", body_text="办理。", category="C0803", keywords=["开户"],
            status="published", valid_to=until, review_due_at=due, version=2, created_by="t", updated_by="t",
            created_at=now, updated_at=now).returning(kb_articles.c.id))).scalar_one()
        plain = (await conn.execute(kb_articles.insert().values(
            title="停水", body_html="<p>停水。</p>", body_text="停水。", keywords=[], status="draft", version=1,
            created_by="t", updated_by="t", created_at=now, updated_at=now).returning(kb_articles.c.id))).scalar_one()
        old_columns = dict(title="t", body_html="b", keywords=[], status="published", changed_by="t", created_at=now)
        for article_id, version, action in [(art, 1, "create"), (art, 1, "publish"), (art, 2, "edit"),
                                            (art, 2, "confirm"), (art, 2, "expire"), (plain, 1, "create")]:
            # only the columns 0004 made: the insert names no other
            await conn.execute(kb_article_versions.insert().values(article_id=article_id, version=version,
                                                                   action=action, **old_columns))
        await conn.run_sync(step, command.upgrade, "heads")
        rows = (await conn.execute(sa.select(kb_article_versions).order_by(kb_article_versions.c.id))).mappings().all()
    got = [(r["action"], r["recorded"], r["category"], r["valid_to"], r["review_due_at"]) for r in rows]
    assert got == [
        ("create", None, None, None, None), ("publish", None, None, None, None),  # older versions: unknown
        # the current version: what the article has; its review date only from the confirm that set it on
        ("edit", ALL[:4], "C0803", until, None), ("confirm", ALL, "C0803", until, due),
        ("expire", ALL, "C0803", until, due),
        ("create", ALL, None, None, None)]  # nothing set is recorded as nothing (not unknown)


async def test_synonym_group_ids_are_not_reused(engine, clock):
    from knowledge.synonyms_store import delete_group, save_group

    step = await migrated(engine)
    async with engine.begin() as conn:  # the table as 0004 made it, then migrated again
        await conn.run_sync(step, command.downgrade, "0011_kb_body_lines")
        for terms in ("甲乙,丙丁", "戊己,庚辛"):
            await conn.execute(kb_synonyms.insert().values(terms=terms, updated_by="t", updated_at=clock.now()))
        # the highest id deleted before the upgrade: SQLite may hand it out once more, never after
        first, last = (await conn.execute(sa.select(sa.func.min(kb_synonyms.c.id), sa.func.max(kb_synonyms.c.id)))).one()
        await conn.execute(kb_synonyms.delete().where(kb_synonyms.c.id == last))
        await conn.run_sync(step, command.upgrade, "heads")
        if conn.dialect.name == "sqlite":
            ddl = (await conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'kb_synonyms'"))).scalar()
            assert "AUTOINCREMENT" in ddl
    made = await save_group(engine, "摩的、黑车", "editor")
    assert made["id"] > first
    await delete_group(engine, made["id"])
    again = await save_group(engine, "野的、非法营运", "editor")
    assert again["id"] > made["id"]
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(kb_synonyms.c.terms).where(kb_synonyms.c.id == first))).scalar() == "甲乙,丙丁"
