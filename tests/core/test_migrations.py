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
