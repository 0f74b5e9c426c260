"""Index jobs: catch the search index up with articles and tickets, and rebuild it.

``index_pending`` follows ``kb_articles`` and ``tickets`` by ``(updated_at, id)`` and
``ticket_messages.id`` with a cursor stored in ``kb_state``. The cursor only
moves after the index accepted the batch, so when the search engine is down
nothing is lost: intake keeps writing tickets and the next run catches up.
Re-running is harmless (documents are upserted by key).

Paging on ``(updated_at, id)`` gets past any number of rows sharing one timestamp
(``expire_due`` stamps every expired article with the same ``now``). A row whose
transaction took its ``updated_at`` before the cursor but committed after the
read would be skipped, so for :data:`OVERLAP_FOR` after the cursor last moved
each run first re-reads the rows updated within :data:`OVERLAP` before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import AsyncIterator, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline import appkeys
from hotline.db import utcnow
from hotline.tables import categories, ticket_messages, tickets, units
from knowledge.articles import _public, _select, article_doc
from knowledge.chat_words import book_title
from knowledge.search.base import DOC_TEXT_VERSION, SearchDoc, SearchIndex
from knowledge.tables import kb_articles, kb_state

CURSOR = "index_cursor"
DOC_TEXT_STATE = "doc_text_version"  # {"version": n} of the documents in the index; "building" while rebuilt
REBUILD_LEASE = dt.timedelta(minutes=30)  # a rebuild started longer ago than this is taken as dead
EPOCH = "1970-01-01T00:00:00+00:00"
BATCH = 500
OVERLAP = dt.timedelta(seconds=30)  # re-read window before the cursor, for late commits
OVERLAP_FOR = dt.timedelta(minutes=2)  # how long after the cursor moved the window is re-read

log = logging.getLogger(__name__)


async def get_state(engine: AsyncEngine, name: str, default):
    async with engine.connect() as conn:
        value = (await conn.execute(sa.select(kb_state.c.value).where(kb_state.c.name == name))).scalar()
    return default if value is None else value


async def set_state(engine: AsyncEngine, name: str, value) -> None:
    async with engine.begin() as conn:
        done = await conn.execute(kb_state.update().where(kb_state.c.name == name)
                                  .values(value=value, updated_at=utcnow()))
        if done.rowcount == 0:
            await conn.execute(kb_state.insert().values(name=name, value=value, updated_at=utcnow()))


async def ticket_docs(engine: AsyncEngine, ticket_ids: list[int]) -> list[SearchDoc]:
    """Search documents for tickets: text, title, citizen messages and replies; number, unit and reply as extras."""
    if not ticket_ids:
        return []
    async with engine.connect() as conn:
        rows = (await conn.execute(
            sa.select(tickets.c.id, tickets.c.number, tickets.c.title, tickets.c.text, tickets.c.state,
                      tickets.c.created_at, categories.c.code.label("category"),
                      units.c.code.label("unit"), units.c.name.label("unit_name"))
            .select_from(tickets.outerjoin(categories, categories.c.id == tickets.c.category_id)
                         .outerjoin(units, units.c.id == tickets.c.lead_unit_id))
            .where(tickets.c.id.in_(ticket_ids)))).mappings().all()
        messages = (await conn.execute(
            sa.select(ticket_messages.c.ticket_id, ticket_messages.c.direction, ticket_messages.c.text)
            .where(ticket_messages.c.ticket_id.in_(ticket_ids), ticket_messages.c.direction.in_(("in", "out")))
            .order_by(ticket_messages.c.id))).all()
    by_ticket: dict[int, list] = {}
    for m in messages:
        by_ticket.setdefault(m.ticket_id, []).append(m)
    docs = []
    for r in rows:
        msgs = by_ticket.get(r["id"], [])
        replies = [m.text for m in msgs if m.direction == "out"]
        inbound = [m.text for m in msgs if m.direction == "in" and m.text != r["text"]]
        docs.append(SearchDoc(
            kind="ticket", ref_id=str(r["id"]), title=r["title"] or "", body="\n".join([r["text"], *inbound, *replies]),
            category=r["category"], unit=r["unit"], status=r["state"], date=r["created_at"],
            extra={"number": r["number"], "unit_name": r["unit_name"], "reply": replies[-1] if replies else None,
                   "text": r["text"][:300]},
        ))
    return docs


async def article_docs(engine: AsyncEngine, article_ids: list[int]) -> list[SearchDoc]:
    if not article_ids:
        return []
    async with engine.connect() as conn:
        rows = (await conn.execute(_select().where(kb_articles.c.id.in_(article_ids)))).mappings().all()
    return [article_doc(_public(r)) for r in rows]


async def index_pending(engine: AsyncEngine, index: SearchIndex, batch: int = BATCH) -> int:
    """Index everything changed since the stored cursor. Returns how many changed documents were written
    (rows re-read in the overlap window that were indexed before are not counted)."""
    cursor = await get_state(engine, CURSOR, None) or {}
    if not cursor and not await current(engine):  # a fresh index: written under the current doc_text
        await set_state(engine, DOC_TEXT_STATE, {"version": DOC_TEXT_VERSION})
    # Older cursors hold the timestamps only: id 0 re-reads the rows at those timestamps.
    stored = {name: (dt.datetime.fromisoformat(cursor.get(name, EPOCH)), cursor.get(f"{name}_id", 0))
              for name in ("articles", "tickets")}
    message_id = cursor.get("message_id", 0)
    read = dict(stored)
    moved_at = cursor.get("moved_at")
    if moved_at and utcnow() - dt.datetime.fromisoformat(moved_at) < OVERLAP_FOR:
        read = {name: (at - OVERLAP, 0) for name, (at, _) in stored.items()}
    written = 0
    while True:
        async with engine.connect() as conn:
            arts = (await conn.execute(_page(kb_articles, read["articles"], batch))).all()
            tks = (await conn.execute(_page(tickets, read["tickets"], batch))).all()
            msgs = (await conn.execute(
                sa.select(ticket_messages.c.id, ticket_messages.c.ticket_id)
                .where(ticket_messages.c.id > message_id, ticket_messages.c.ticket_id.is_not(None))
                .order_by(ticket_messages.c.id).limit(batch))).all()
        ticket_ids = sorted({r.id for r in tks} | {m.ticket_id for m in msgs})
        docs = await article_docs(engine, [r.id for r in arts]) + await ticket_docs(engine, ticket_ids)
        if docs:
            await index.upsert(docs)  # raises when the engine is down: the cursor stays put
        written += sum((r.updated_at, r.id) > stored["articles"] for r in arts)
        written += len({r.id for r in tks if (r.updated_at, r.id) > stored["tickets"]} | {m.ticket_id for m in msgs})
        if arts:
            read["articles"] = (arts[-1].updated_at, arts[-1].id)
        if tks:
            read["tickets"] = (tks[-1].updated_at, tks[-1].id)
        new = {name: max(stored[name], read[name]) for name in stored}
        if new != stored or msgs:
            stored = new
            message_id = msgs[-1].id if msgs else message_id
            await set_state(engine, CURSOR, {
                "articles": new["articles"][0].isoformat(), "articles_id": new["articles"][1],
                "tickets": new["tickets"][0].isoformat(), "tickets_id": new["tickets"][1],
                "message_id": message_id, "moved_at": utcnow().isoformat()})
        if len(arts) < batch and len(tks) < batch and len(msgs) < batch:
            return written


def _page(table: sa.Table, after: tuple[dt.datetime, int], batch: int):
    """The next ``batch`` rows of ``table`` after ``after`` in (updated_at, id) order."""
    at, last_id = after
    return (sa.select(table.c.id, table.c.updated_at)
            .where(sa.or_(table.c.updated_at > at, sa.and_(table.c.updated_at == at, table.c.id > last_id)))
            .order_by(table.c.updated_at, table.c.id).limit(batch))


def all_docs(engine: AsyncEngine, batch: int = BATCH):
    """A :data:`DocSource` over every article and ticket, in batches (for reindex)."""

    async def source() -> AsyncIterator[list[SearchDoc]]:
        for table, make in ((kb_articles, article_docs), (tickets, ticket_docs)):
            last = 0
            while True:
                async with engine.connect() as conn:
                    ids = (await conn.execute(sa.select(table.c.id).where(table.c.id > last)
                                              .order_by(table.c.id).limit(batch))).scalars().all()
                if not ids:
                    break
                yield await make(engine, list(ids))
                last = ids[-1]

    return source


REINDEX_MARGIN = dt.timedelta(minutes=1)  # slow commits and clock skew between processes


async def reindex(engine: AsyncEngine, index: SearchIndex, progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database; search keeps answering from the old one meanwhile.

    Rows changed while it ran (by any process: another one's writes may have gone to the old
    index only) are written again once the new index is in place. The ``index_pending`` cursor
    is left alone (re-indexing a row twice is harmless). ``progress(n)``: after each batch, the
    documents read so far (with the semantic stage, embedding makes a first reindex slow).
    """
    started = utcnow() - REINDEX_MARGIN
    source = all_docs(engine)
    if progress is not None:
        source = _counted(source, progress)
    count = await index.reindex(source)
    await set_state(engine, DOC_TEXT_STATE, {"version": DOC_TEXT_VERSION})
    async with engine.connect() as conn:
        article_ids = list((await conn.execute(sa.select(kb_articles.c.id).where(
            kb_articles.c.updated_at >= started))).scalars())
        ticket_ids = list((await conn.execute(sa.select(tickets.c.id).where(
            tickets.c.updated_at >= started))).scalars())
    for i in range(0, max(len(article_ids), len(ticket_ids)), BATCH):
        docs = (await article_docs(engine, article_ids[i:i + BATCH])
                + await ticket_docs(engine, ticket_ids[i:i + BATCH]))
        if docs:
            await index.upsert(docs)
    return count


def _counted(source, progress: Callable[[int], None]):
    async def counted() -> AsyncIterator[list[SearchDoc]]:
        done = 0
        async for docs in source():
            yield docs
            done += len(docs)
            progress(done)

    return counted


# -- entry points in the jobs system's convention: ``async def job(ctx, *ids)`` ---------------
async def _index_for(ctx) -> tuple[SearchIndex, bool]:
    """The index the context carries, or a fresh write-side one (no load needed to write).

    A fresh one (an RQ worker's, made per job) gets the synonyms stored now, so the words users
    added as synonyms are tokenized the same way as in the web processes.
    """
    existing = getattr(ctx, "search", None)
    if existing is not None:
        return existing, False
    from knowledge.search import make_index
    from knowledge.synonyms_store import load_synonyms_or_defaults

    return make_index(ctx.settings, ctx.engine, synonyms=await load_synonyms_or_defaults(ctx.engine)), True


async def index_before_serving(app) -> None:
    """After a first start seeded the demo: one catch-up pass of the app's index before the service takes
    requests, so the chatbot answers from the demo knowledge base from the first question rather than
    from the index job's next pass, seconds later. A search engine that is down is left to that job."""
    index = app.get(appkeys.SEARCH)
    if index is None:
        return
    try:
        await index_pending(app[appkeys.ENGINE], index)
    except Exception:
        log.warning("search index not caught up at startup; the index job will", exc_info=True)


async def current(engine: AsyncEngine) -> bool:
    """Whether the index's documents are written under the current ``doc_text``."""
    return (await get_state(engine, DOC_TEXT_STATE, None) or {}).get("version") == DOC_TEXT_VERSION


async def outdated(engine: AsyncEngine) -> bool:
    """Whether the index's documents were written under an older ``doc_text`` (an upgrade changed what the
    ranker sees of a document) and no other process is rebuilding it right now."""
    state = await get_state(engine, DOC_TEXT_STATE, None) or {}
    if state.get("version") == DOC_TEXT_VERSION:
        return False
    return not (state.get("building") and utcnow() - dt.datetime.fromisoformat(state["since"]) < REBUILD_LEASE)


async def rebuild_if_outdated(engine: AsyncEngine, index: SearchIndex) -> int | None:
    """Rebuild, once, an :func:`outdated` index; search answers from the old one meanwhile. Returns how
    many documents were written, or None when the index is current or another process is rebuilding it."""
    if not await outdated(engine):
        return None
    state = await get_state(engine, DOC_TEXT_STATE, None) or {}
    await set_state(engine, DOC_TEXT_STATE, {**state, "building": DOC_TEXT_VERSION, "since": utcnow().isoformat()})
    try:
        count = await reindex(engine, index)
    except Exception:
        await set_state(engine, DOC_TEXT_STATE, {k: v for k, v in state.items() if k not in ("building", "since")})
        raise
    log.info("search index rebuilt for ranking version %s: %d documents", DOC_TEXT_VERSION, count)
    return count


async def index_pending_job(ctx, *ids) -> int:
    """Scheduled every few seconds: catch the search index up with tickets and articles (and rebuild it
    once after an upgrade changed what the ranker sees of a document)."""
    index, owned = await _index_for(ctx)
    try:
        written = await index_pending(ctx.engine, index)
        if not await outdated(ctx.engine):
            return written
        if owned:  # a worker's write-side index: a rebuild needs it open
            await index.open()
        rebuilt = await rebuild_if_outdated(ctx.engine, index)
        return written if rebuilt is None else rebuilt
    finally:
        if owned:
            await index.close()


async def reindex_job(ctx, *ids) -> int:
    index, owned = await _index_for(ctx)
    try:
        if owned:
            await index.open()
        return await reindex(ctx.engine, index)
    finally:
        if owned:
            await index.close()


REVIEW_TEXT = "【12345热线知识库】知识库文章已到复审日期：{titles}，请及时复核更新。"
REVIEW_TITLES_SHOWN = 3
SEND_NOTIFICATION = "hotline.jobs.tasks.send_notification"


def review_text(articles: list[dict]) -> str:
    """The notice to an owner: "知识库文章已到复审日期：《A》、《B》等5篇，请及时复核更新。"."""
    shown = [book_title(a["title"][:40]) for a in articles[:REVIEW_TITLES_SHOWN]]
    titles = "、".join(shown)
    if len(articles) > len(shown):
        titles += f"等{len(articles)}篇"
    elif len(articles) > 1:
        titles += f"共{len(articles)}篇"
    return REVIEW_TEXT.format(titles=titles)


def review_key(articles: list[dict]) -> str:
    """Idempotency key of one owner's notice: the articles and the review dates that made them due.

    The same flagged set always gives the same key (a re-run records nothing new); an article edited
    (which clears the flag) and due again later gives a new one.
    """
    parts = sorted(f"{a['id']}@{_iso(a['review_due_at'])}" for a in articles)
    return "kb_review:" + hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def _iso(value) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


async def record_review_notices(ctx, conn, rows: list[dict], now: dt.datetime) -> list[int]:
    """One notice per owning unit (to each contact on each of its channels) listing its overdue articles.

    Articles without a unit belong to the platform's editors: their notice goes to the platform units.
    """
    from hotline.jobs import notify

    by_unit: dict[int | None, list[dict]] = {}
    for r in rows:
        by_unit.setdefault(r["unit_id"], []).append(r)
    ids: list[int] = []
    for unit_id, articles in by_unit.items():
        if unit_id is not None:
            targets = [("unit", (await conn.execute(sa.select(units).where(units.c.id == unit_id))).first())]
        else:
            targets = [("platform", u) for u in await conn.execute(
                sa.select(units).where(units.c.kind == "platform", units.c.active.is_(True)))]
        key, text = review_key(articles), review_text(articles)
        for audience, unit in targets:
            if unit is None:
                continue
            ids += await notify.to_contacts(ctx, conn, key=f"{key}:u{unit.id}", ticket_id=None, number=None,
                                            audience=audience, kind="kb_review",
                                            contacts=list(unit.contacts or []),
                                            channels=list(unit.notify_channels or []), text=text, now=now)
    return ids


async def review_sweep_job(ctx, *ids) -> dict:
    """Daily: expire articles past their validity and flag those past their review date to their units.

    Expiry writes only to articles still as the sweep read them (``ArticleService.expire``): an editor's
    extension, new version or archiving saved meanwhile wins, and the next sweep judges the article afresh.

    Flagging and recording the owners' notices happen in one transaction, and only articles not
    flagged yet are picked up, so running the sweep twice (or twice at once) notifies once. The
    notices are sent by their own jobs (retried); the supervision sweep also sends any left pending.
    """
    from hotline.clock import SystemClock
    from knowledge.articles import ArticleService

    clock = getattr(ctx.service, "clock", None) or SystemClock()
    service = ArticleService(ctx.engine, clock)
    expired = await service.expire_due()
    notices: list[int] = []

    async def on_flagged(conn, rows):
        notices.extend(await record_review_notices(ctx, conn, rows, clock.now()))

    flagged = await service.flag_review_due(on_flagged)
    queue = getattr(ctx, "queue", None)
    for notice_id in notices:
        if queue is not None:
            await queue.enqueue(SEND_NOTIFICATION, notice_id)
    if flagged:
        log.info("knowledge review due: %s article(s) of %s unit(s) flagged, %s notice(s)",
                 sum(len(v) for v in flagged.values()), len(flagged), len(notices))
    return {"expired": expired, "flagged": flagged, "notices": notices}


async def purge_chat_sessions_job(ctx, *ids) -> int:
    """Hourly: delete chatbot dialogue sessions (kept in the database without Redis) that have expired."""
    from hotline.clock import SystemClock
    from knowledge.dialogue import purge_expired_sessions

    clock = getattr(ctx.service, "clock", None) or SystemClock()
    return await purge_expired_sessions(ctx.engine, clock.now())
