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


async def migrated(engine):
    """Bring ``engine``'s database to the newest revisions; returns ``step(sync_conn, command.upgrade or
    command.downgrade, revision)`` for ``conn.run_sync``, to move it inside a test's transaction."""
    from hotline.migrate import upgrade

    await upgrade(engine)
    url = engine.url.render_as_string(hide_password=False)

    def step(sync_conn, action, target):
        cfg = alembic_config(url)
        cfg.attributes["connection"] = sync_conn
        action(cfg, target)

    return step


async def test_articles_plain_text_gets_its_paragraph_lines_back(engine, clock):
    # 0011 recomputes each article's plain text from its stored body: paragraphs become lines again
    import sqlalchemy as sa
    from alembic import command

    from knowledge.tables import kb_articles

    step = await migrated(engine)
    async with engine.begin() as conn:
        await conn.run_sync(step, command.downgrade, "0008_kb_gaps_closed")
        await conn.execute(kb_articles.insert().values(
            title="燃气服务", body_html="<p>燃气费怎么缴纳？在营业厅缴纳。</p><p>燃气表不走字怎么办？报修。</p>",
            body_text="燃气费怎么缴纳？在营业厅缴纳。 燃气表不走字怎么办？报修。", keywords=[], status="published",
            version=1, created_by="t", updated_by="t", created_at=clock.now(), updated_at=clock.now()))
        await conn.run_sync(step, command.upgrade, "heads")
        text = (await conn.execute(sa.select(kb_articles.c.body_text))).scalar_one()
    assert text == "燃气费怎么缴纳？在营业厅缴纳。\n燃气表不走字怎么办？报修。"


async def test_phones_the_chatbot_took_for_identities_become_ticket_contacts(engine, clock):
    # 0012: a chatbot ticket's typed phone moves to the ticket; the identity that ticket made is removed,
    # unless the record has since used the number for real or holds nothing else
    import sqlalchemy as sa
    from alembic import command

    from hotline.tables import citizen_identities, citizens, ticket_messages, tickets

    step = await migrated(engine)
    now, earlier = clock.now(), clock.now().replace(year=2025)

    async def citizen(conn, *idents) -> int:
        cid = (await conn.execute(citizens.insert().values(created_at=now).returning(citizens.c.id))).scalar_one()
        for kind, value, at in idents:
            await conn.execute(citizen_identities.insert().values(citizen_id=cid, kind=kind, value=value,
                                                                  created_at=at))
        return cid

    async def ticket(conn, number, cid, channel, text, chatbot) -> None:
        tid = (await conn.execute(tickets.insert().values(
            number=number, channel=channel, intake_line="12345", request_type="求助", text=text, state="new",
            citizen_id=cid, reopen_count=0, urge_count=0, publishable=False, version=1, created_at=now,
            updated_at=now).returning(tickets.c.id))).scalar_one()
        await conn.execute(ticket_messages.insert().values(ticket_id=tid, direction="in", channel=channel,
                                                           text=text, attachments=[], created_at=now,
                                                           meta={"chatbot": True} if chatbot else {}))

    async with engine.begin() as conn:
        await conn.run_sync(step, command.downgrade, "0010_idempotency_keys")
        typed = await citizen(conn, ("web", "bob", now), ("phone", "+8613700001111", now))
        await ticket(conn, "2026120700001", typed, "web", "路灯坏了\n地点：无\n联系电话：137 0000 1111", True)
        called = await citizen(conn, ("web", "carol", now), ("phone", "+8613700002222", now))
        await ticket(conn, "2026120700002", called, "web", "噪音\n联系电话：13700002222", True)
        await ticket(conn, "2026120700003", called, "phone", "又来电反映噪音", False)
        known = await citizen(conn, ("wechat", "o-dave", now), ("phone", "+8613700003333", earlier))
        await ticket(conn, "2026120700004", known, "wechat", "井盖\n联系电话：13700003333", True)
        await ticket(conn, "2026120700005", known, "wechat", "写着 联系电话：13700009999 的普通消息", False)
        # an agent's ticket (its own contact line) that a chat message followed up: not the chatbot's
        walkin = await citizen(conn, ("web", "erin", now), ("phone", "+8613700004444", now))
        await ticket(conn, "2026120700006", walkin, "walkin", "窗口登记\n联系电话：13700004444", False)
        await conn.execute(ticket_messages.insert().values(
            ticket_id=(await conn.execute(sa.select(tickets.c.id).where(tickets.c.number == "2026120700006")))
            .scalar_one(), direction="in", channel="web", text="补充", attachments=[], created_at=now,
            meta={"chatbot": True}))
        await conn.run_sync(step, command.upgrade, "heads")
        contacts = dict((await conn.execute(sa.select(tickets.c.number, tickets.c.contact_phone))).all())
        phones = sorted((await conn.execute(sa.select(citizen_identities.c.value).where(
            citizen_identities.c.kind == "phone"))).scalars())
    assert contacts == {"2026120700001": "+8613700001111", "2026120700002": "+8613700002222",
                        "2026120700003": None, "2026120700004": "+8613700003333", "2026120700005": None,
                        "2026120700006": None}
    assert phones == ["+8613700002222", "+8613700003333", "+8613700004444"]
