"""Synonym groups stored in ``kb_synonyms`` (editable through the API); defaults until edited.

Every process keeps its own copy in its search index. An edit bumps a version
token in ``kb_state`` in the same transaction; each web process runs a
:class:`SynonymWatcher` that compares a cheap stamp (that token plus the
table's row count, highest id and newest change) every few seconds and
reloads the groups when it moved, so edits made through any app instance
reach all of them without a restart. Workers load the stored groups per job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import insert_ignore, utcnow
from knowledge.errors import Conflict, InvalidInput, NotFound
from knowledge.synonyms import DEFAULT_GROUPS, SynonymSet, parse_group
from knowledge.tables import kb_state, kb_synonyms

log = logging.getLogger(__name__)

VERSION = "synonyms_version"  # kb_state row bumped by every edit
MAX_TERMS = 50  # per group: every member is expanded into every query that names another
MAX_TERM_CHARS = 30
MAX_GROUP_TEXT = 2000  # the raw "a、b、c" text, checked before it is split


async def ensure_defaults(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if (await conn.execute(sa.select(sa.func.count()).select_from(kb_synonyms))).scalar_one() == 0:
            await conn.execute(kb_synonyms.insert(), [
                {"terms": ",".join(g), "updated_by": "system", "updated_at": utcnow()} for g in DEFAULT_GROUPS])


async def list_groups(engine: AsyncEngine) -> list[dict]:
    await ensure_defaults(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(kb_synonyms).order_by(kb_synonyms.c.id))).mappings().all()
    return [{"id": r["id"], "terms": list(parse_group(r["terms"])), "updated_by": r["updated_by"],
             "updated_at": r["updated_at"].isoformat()} for r in rows]


async def load_synonyms(engine: AsyncEngine) -> SynonymSet:
    return SynonymSet([g["terms"] for g in await list_groups(engine)])


async def load_synonyms_or_defaults(engine: AsyncEngine) -> SynonymSet:
    """The stored groups, or the defaults when they cannot be read (e.g. the migration not applied yet)."""
    try:
        return await load_synonyms(engine)
    except Exception:
        log.warning("synonyms could not be loaded; using the defaults", exc_info=True)
        return SynonymSet()


async def _bump_version(conn) -> None:
    """A new version token, in the caller's transaction (a fresh random one: concurrent edits never tie)."""
    values = {"value": uuid.uuid4().hex, "updated_at": utcnow()}
    where = kb_state.c.name == VERSION
    if (await conn.execute(kb_state.update().where(where).values(**values))).rowcount:
        return
    inserted = (await conn.execute(insert_ignore(conn.dialect.name, kb_state).values(name=VERSION, **values)
                                   .on_conflict_do_nothing().returning(kb_state.c.name))).scalar()
    if inserted is None:  # another edit created the row meanwhile
        await conn.execute(kb_state.update().where(where).values(**values))


async def synonyms_stamp(engine: AsyncEngine) -> tuple:
    """What changes whenever the stored groups do: the version token, row count, highest id, newest change.

    The token covers edits through this module; the table aggregates cover rows written any other way.
    """
    async with engine.connect() as conn:
        count, max_id, newest = (await conn.execute(sa.select(
            sa.func.count(), sa.func.max(kb_synonyms.c.id), sa.func.max(kb_synonyms.c.updated_at)))).one()
        token = (await conn.execute(sa.select(kb_state.c.value).where(kb_state.c.name == VERSION))).scalar()
    return token, count, max_id, str(newest)


def checked_group(terms) -> tuple[str, ...]:
    """The members of a group as given (a string split on 、，,;；/ and spaces, or a list of strings), within
    the limits; 400 (:class:`InvalidInput`) otherwise."""
    if isinstance(terms, str):
        if len(terms) > MAX_GROUP_TEXT:
            raise InvalidInput(f"同义词组过长（最多 {MAX_TERMS} 个词，每个词最多 {MAX_TERM_CHARS} 个字）")
    elif isinstance(terms, list) and all(isinstance(t, str) for t in terms):
        if len(terms) > MAX_TERMS:
            raise InvalidInput(f"同义词组最多 {MAX_TERMS} 个词")
        if any(len(t.strip()) > MAX_TERM_CHARS for t in terms):
            raise InvalidInput(f"每个同义词最多 {MAX_TERM_CHARS} 个字")
    else:
        raise InvalidInput("terms 必须是字符串（词之间用顿号、逗号或分号分隔）或字符串数组")
    members = parse_group(terms)
    if len(members) < 2:
        raise InvalidInput("同义词组至少需要两个词")
    if len(members) > MAX_TERMS:
        raise InvalidInput(f"同义词组最多 {MAX_TERMS} 个词")
    if any(len(m) > MAX_TERM_CHARS for m in members):
        raise InvalidInput(f"每个同义词最多 {MAX_TERM_CHARS} 个字")
    return members


async def save_group(engine: AsyncEngine, terms, who: str, group_id: int | None = None) -> dict:
    """Create a group, or replace group ``group_id`` (404 if missing); 409 if another group has the same
    members. The version is bumped first: on PostgreSQL its row lock makes concurrent edits take turns,
    so two identical groups saved at once cannot both pass the check."""
    members = checked_group(terms)
    await ensure_defaults(engine)
    async with engine.begin() as conn:
        await _bump_version(conn)
        for other_id, other in (await conn.execute(sa.select(kb_synonyms.c.id, kb_synonyms.c.terms))).all():
            if other_id != group_id and set(parse_group(other)) == set(members):
                raise Conflict(f"已有相同的同义词组（编号 {other_id}）")
        values = {"terms": ",".join(members), "updated_by": who, "updated_at": utcnow()}
        if group_id is None:
            group_id = (await conn.execute(kb_synonyms.insert().values(**values)
                                           .returning(kb_synonyms.c.id))).scalar_one()
        elif (await conn.execute(kb_synonyms.update().where(kb_synonyms.c.id == group_id)
                                 .values(**values))).rowcount == 0:
            raise NotFound(f"同义词组 {group_id} 不存在")
    return {"id": group_id, "terms": list(members)}


async def delete_group(engine: AsyncEngine, group_id: int) -> None:
    """Delete a group; 404 (:class:`NotFound`) if there is none with this id."""
    async with engine.begin() as conn:
        if not (await conn.execute(kb_synonyms.delete().where(kb_synonyms.c.id == group_id))).rowcount:
            raise NotFound(f"同义词组 {group_id} 不存在")
        await _bump_version(conn)


class SynonymWatcher:
    """Keeps one search index's synonyms in step with ``kb_synonyms`` (one per web process).

    ``run`` checks :func:`synonyms_stamp` every ``interval`` seconds and reloads the groups into the
    index when it changed; ``reload`` does it now (after an edit made by this process).
    """

    def __init__(self, engine: AsyncEngine, index, interval: float) -> None:
        self.engine, self.index, self.interval = engine, index, interval
        self.stamp: tuple | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    async def load(self) -> SynonymSet:
        """The stored groups, remembering the stamp they correspond to (read first: a change made
        between the two reads is seen again on the next check)."""
        self.stamp = await synonyms_stamp(self.engine)
        return await load_synonyms(self.engine)

    async def reload(self) -> bool:
        """Load the groups into the index; returns whether they were reloaded."""
        async with self._lock:
            self.index.set_synonyms(await self.load())
        return True

    async def check(self) -> bool:
        """Reload when the stored groups changed since the last load; returns whether they did."""
        if await synonyms_stamp(self.engine) == self.stamp:
            return False
        async with self._lock:
            stamp = await synonyms_stamp(self.engine)
            if stamp == self.stamp:
                return False
            self.index.set_synonyms(await self.load())
        log.info("synonyms reloaded (changed in the database)")
        return True

    async def run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
                failing = False
            except Exception:  # the database briefly unreachable: keep the current synonyms, try again
                if not failing:
                    log.warning("checking the stored synonyms failed; retrying", exc_info=True)
                failing = True

    def start(self) -> None:
        if self._task is None and self.interval > 0:
            self._task = asyncio.create_task(self.run(), name="kb-synonym-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
