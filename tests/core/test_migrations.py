"""Every package's Alembic branch produces exactly the tables its code defines, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hotline.migrate import alembic_config
from hotline.schema import load_all_tables


async def test_migrated_schema_matches_the_table_definitions(engine):
    metadata = load_all_tables()

    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


def test_every_branch_starts_from_the_core_and_has_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = script.get_heads()
    assert len(heads) == len(set(heads))
    for rev in script.walk_revisions():
        if rev.revision != "0001_core":
            assert rev.down_revision is not None, rev.revision
    bases = script.get_bases()
    assert bases == ["0001_core"]


async def test_articles_plain_text_gets_its_paragraph_lines_back(engine, clock):
    # 0011 recomputes each article's plain text from its stored body: paragraphs become lines again
    import sqlalchemy as sa
    from alembic import command

    from hotline.migrate import upgrade
    from knowledge.tables import kb_articles

    await upgrade(engine)
    url = engine.url.render_as_string(hide_password=False)

    def step(sync_conn, action, target):
        cfg = alembic_config(url)
        cfg.attributes["connection"] = sync_conn
        action(cfg, target)

    async with engine.begin() as conn:
        await conn.run_sync(step, command.downgrade, "0008_kb_gaps_closed")
        await conn.execute(kb_articles.insert().values(
            title="燃气服务", body_html="<p>燃气费怎么缴纳？在营业厅缴纳。</p><p>燃气表不走字怎么办？报修。</p>",
            body_text="燃气费怎么缴纳？在营业厅缴纳。 燃气表不走字怎么办？报修。", keywords=[], status="published",
            version=1, created_by="t", updated_by="t", created_at=clock.now(), updated_at=clock.now()))
        await conn.run_sync(step, command.upgrade, "heads")
        text = (await conn.execute(sa.select(kb_articles.c.body_text))).scalar_one()
    assert text == "燃气费怎么缴纳？在营业厅缴纳。\n燃气表不走字怎么办？报修。"
