"""index_pending follows tickets, replies and articles with a cursor; the index catches up after downtime."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hotline.tables import ticket_messages, tickets
from knowledge.articles import ArticleService
from hotline.db import utcnow
from knowledge.jobs import CURSOR, get_state, index_pending, reindex
from knowledge.search.base import SearchDoc, SearchFilters
from knowledge.search.embedded import EmbeddedSearchIndex
from tests.knowledge.helpers import EDITOR, add_ticket, seed_units


class DownIndex:
    """A search engine that is down: every write fails."""

    async def upsert(self, docs):
        raise ConnectionError("search engine unreachable")


@pytest.fixture
async def index(engine):
    ix = EmbeddedSearchIndex(engine)
    await ix.open()
    return ix


async def test_tickets_indexed_with_reply_and_unit_after_downtime(engine, clock, index):
    ids = await seed_units(engine, clock.now())
    await add_ticket(engine, clock.now(), "2026112300001", "文三路小区门口路灯坏了一个月，晚上很黑。",
                     unit_id=ids["urban"], replies=["已安排维修，路灯已于11月20日修复。"], category_code="C010302")
    # The engine is down while intake goes on: nothing is lost, the cursor does not move.
    with pytest.raises(ConnectionError):
        await index_pending(engine, DownIndex())
    assert await get_state(engine, CURSOR, None) is None
    await add_ticket(engine, clock.now(), "2026112300002", "燃气表漏气有异味", unit_id=ids["gas"])

    assert await index_pending(engine, index) == 2
    hit = (await index.search("路灯不亮", SearchFilters(kinds=("ticket",)))).hits[0]
    assert hit.extra["number"] == "2026112300001"
    assert hit.extra["reply"] == "已安排维修，路灯已于11月20日修复。"
    assert hit.extra["unit_name"] == "云州市城市管理局" and hit.unit == "urban"
    assert hit.category == "C010302" and hit.status == "replied"
    assert await index_pending(engine, index) == 0  # idempotent: nothing new


async def test_new_reply_and_state_change_are_picked_up(engine, clock, index):
    ids = await seed_units(engine, clock.now())
    ticket_id = await add_ticket(engine, clock.now(), "2026112300003", "楼上装修噪音太大", unit_id=ids["urban"],
                                 state="dispatched")
    await index_pending(engine, index)
    clock.advance(hours=2)
    async with engine.begin() as conn:
        await conn.execute(ticket_messages.insert().values(
            ticket_id=ticket_id, direction="out", channel="phone", text="已联系物业，限定施工时间为白天。",
            attachments=[], created_at=clock.now()))
    assert await index_pending(engine, index) == 1
    hit = (await index.search("装修噪音")).hits[0]
    assert hit.extra["reply"] == "已联系物业，限定施工时间为白天。"
    assert (await index.search("限定施工时间")).hits[0].key == f"ticket:{ticket_id}"
    async with engine.begin() as conn:
        await conn.execute(tickets.update().where(tickets.c.id == ticket_id)
                           .values(state="closed", updated_at=clock.advance(hours=1)))
    await index_pending(engine, index)
    assert (await index.search("装修噪音")).hits[0].status == "closed"


async def test_articles_written_while_engine_down_catch_up(engine, clock, index):
    await seed_units(engine, clock.now())
    service = ArticleService(engine, clock, index=DownIndex())  # the write itself must still succeed
    art = await service.create(EDITOR, {"title": "高龄津贴申领", "body": "年满80周岁可申领高龄津贴。", "unit": "civil"})
    await service.transition(EDITOR, art["id"], "publish")
    assert (await index.search("高龄津贴")).total == 0
    await index_pending(engine, index)
    hit = (await index.search("高龄津贴")).hits[0]
    assert hit.key == f"article:{art['id']}" and hit.status == "published" and hit.unit == "civil"


async def test_reindex_job_rebuilds_from_database(engine, clock, index):
    ids = await seed_units(engine, clock.now())
    await add_ticket(engine, clock.now(), "2026112300004", "公交车站牌被撞坏", unit_id=ids["transport"])
    await index.upsert([SearchDoc(kind="ticket", ref_id="999", title="", body="已删除工单的残留公交文本")])
    assert await reindex(engine, index) == 1
    ticket_id = await _ticket_id(engine, "2026112300004")
    assert [h.key for h in (await index.search("公交")).hits] == [f"ticket:{ticket_id}"]


async def _ticket_id(engine, number):
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(tickets.c.id).where(tickets.c.number == number))).scalar_one()


async def test_job_entry_points_in_worker_convention(engine, clock, tmp_path):
    from types import SimpleNamespace

    from hotline.config import Settings
    from knowledge.jobs import index_pending_job, review_sweep_job

    ids = await seed_units(engine, clock.now())
    await add_ticket(engine, clock.now(), "2026112300005", "地铁站出口电梯停运", unit_id=ids["transport"])
    ctx = SimpleNamespace(settings=Settings(data_dir=tmp_path, elasticsearch_url=None), engine=engine,
                          service=SimpleNamespace(clock=clock))
    assert await index_pending_job(ctx) == 1
    web_side = EmbeddedSearchIndex(engine)  # e.g. the web process, loading what the worker wrote
    await web_side.open()
    assert (await web_side.search("电梯停运")).hits[0].extra["number"] == "2026112300005"

    service = ArticleService(engine, clock)
    art = await service.create(EDITOR, {"title": "春节燃气安全", "body": "注意通风",
                                        "valid_to": clock.now().isoformat()})
    await service.transition(EDITOR, art["id"], "publish")
    clock.advance(minutes=1)
    assert await review_sweep_job(ctx) == {"expired": [art["id"]], "flagged": {}, "notices": []}


async def test_cursor_gets_past_many_rows_sharing_one_timestamp(engine, clock, index):
    """600 articles with one updated_at (as expire_due stamps them) and a later one are all indexed."""
    import datetime as dt

    from knowledge.tables import kb_articles

    now = clock.now()

    def row(i, at):
        return {"title": f"批量条目{i}", "body_html": f"<p>第{i}条</p>", "body_text": f"第{i}条", "keywords": [],
                "status": "expired", "version": 1, "created_by": "t", "updated_by": "system", "created_at": at,
                "updated_at": at}

    async with engine.begin() as conn:
        await conn.execute(kb_articles.insert(), [row(i, now) for i in range(600)])
    await index_pending(engine, index)
    assert await index.count() == 600
    async with engine.begin() as conn:
        await conn.execute(kb_articles.insert(), [row(600, clock.advance(seconds=1))])
    assert await index_pending(engine, index) == 1
    assert await index.count() == 601
    assert await index_pending(engine, index) == 0  # the overlap re-read counts nothing new
    # a transaction that took its timestamp before the cursor but committed after the last run
    async with engine.begin() as conn:
        await conn.execute(kb_articles.insert(), [row(601, now + dt.timedelta(milliseconds=500))])
    await index_pending(engine, index)
    assert await index.count() == 602


async def test_reindex_writes_again_what_changed_while_it_ran(engine, clock, index):
    """A change another process made mid-rebuild (to the old index only) is in the new index afterwards."""
    ids = await seed_units(engine, clock.now())
    await add_ticket(engine, clock.now(), "2026112300005", "公交车站牌被撞坏", unit_id=ids["transport"])
    ticket_id = await _ticket_id(engine, "2026112300005")
    rebuild = index.reindex

    async def reindex_while_another_process_writes(source):
        async def racing_source():
            async for batch in source():
                yield batch  # this batch was read before the change below
                async with engine.begin() as conn:
                    await conn.execute(sa.update(tickets).where(tickets.c.id == ticket_id).values(
                        text="公交车站牌被撞坏，公交集团已维修", updated_at=utcnow()))
        return await rebuild(racing_source)

    index.reindex = reindex_while_another_process_writes
    assert await reindex(engine, index) == 1
    [hit] = (await index.search("维修")).hits
    assert hit.key == f"ticket:{ticket_id}"


async def test_an_index_made_under_an_older_ranking_is_rebuilt_once_by_the_index_job(engine, clock, index,
                                                                                       tmp_path, monkeypatch):
    """An upgrade that changes what the ranker sees of a document (here: an FAQ article's questions counted
    like its title, ``DOC_TEXT_VERSION`` 2) reaches an index built before it without anyone running
    ``hotline kb reindex``: the index job rebuilds it once, and not again."""
    from types import SimpleNamespace

    from hotline.config import Settings
    from knowledge.jobs import DOC_TEXT_STATE, index_pending_job, set_state
    from knowledge.search import base, embedded

    await seed_units(engine, clock.now())
    service = ArticleService(engine, clock)
    lines = [("新生儿怎么参加医保", "出生后三个月内到社区办理参保登记。"), ("医保卡丢了怎么办", "到合作银行网点挂失补办。")]
    for body in ("\n".join(f"{q}。 {a}" for q, a in lines), "\n".join(f"{q}？ {a}" for q, a in lines)):
        art = await service.create(EDITOR, {"title": "医疗保险", "body": body, "unit": "civil"})
        await service.transition(EDITOR, art["id"], "publish")
    statements, faq = f"article:{art['id'] - 1}", f"article:{art['id']}"
    with monkeypatch.context() as old_version:  # indexed (and searched) by the version before the FAQ rule
        old_version.setattr(base, "faq_questions", lambda doc: [])
        old_version.setattr(embedded, "faq_questions", lambda doc: [])
        await index_pending(engine, index)
        hits = {h.key: h.score for h in (await index.search("新生儿怎么参加医保")).hits}
    assert hits[faq] == pytest.approx(hits[statements])  # the old weighting: the same words score the same
    await set_state(engine, DOC_TEXT_STATE, {"version": 1})
    ctx = SimpleNamespace(settings=Settings(data_dir=tmp_path, elasticsearch_url=None), engine=engine,
                          service=SimpleNamespace(clock=clock), search=index)
    assert await index_pending_job(ctx) == 2  # rebuilt: both articles written again
    assert (await get_state(engine, DOC_TEXT_STATE, None)) == {"version": base.DOC_TEXT_VERSION}
    hits = {h.key: h.score for h in (await index.search("新生儿怎么参加医保")).hits}
    assert hits[faq] > hits[statements]
    assert await index_pending_job(ctx) == 0  # once
    # a worker's own write-side index (not opened) rebuilds too, and a rebuild under way elsewhere is left alone
    await set_state(engine, DOC_TEXT_STATE, {"version": 1})
    worker = SimpleNamespace(settings=ctx.settings, engine=engine, service=ctx.service)
    assert await index_pending_job(worker) == 2
    await set_state(engine, DOC_TEXT_STATE, {"version": 1, "building": 2, "since": utcnow().isoformat()})
    assert await index_pending_job(worker) == 0
