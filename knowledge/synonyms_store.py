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
import re
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import insert_ignore, utcnow
from hotline.textnorm import normalise
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


SEPARATORS = "、，,;；/"  # between the members of a group written as one string (and line breaks)
_SEPARATOR = re.compile(r"[、，,;；/\r\n]+")
_SPACE = re.compile(r"\s")


def checked_group(terms, keep: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The members of a group as given, within the limits and rules; 400 (:class:`InvalidInput`) otherwise.

    ``terms`` is a string whose members are separated by 、，,;；/ or line breaks (a string with none of
    these: by spaces, "摩的 黑车"), or a list of strings, one member each (a list item holding a separator
    is refused, not split: the caller meant one word). Where other separators are used, spaces separate
    nothing: a member with a space inside (「社 保、社会 保险」) is refused, since no query word holds a
    space, and splitting it would make 社 and 保 members. A member of one character
    (社, 保) is refused too: it would be added to every query naming the group's other members and matches
    words of unrelated articles; ``keep`` names the single characters allowed all the same: those already
    members of a stored group (the defaults' 狗 and 娃, whole words an editor chose), so a group holding
    one can still be edited and the word used in another group.
    """
    if isinstance(terms, str):
        if len(terms) > MAX_GROUP_TEXT:
            raise InvalidInput(f"同义词组过长（最多 {MAX_TERMS} 个词，每个词最多 {MAX_TERM_CHARS} 个字）")
        # spaces separate members only in a text without any other separator ("摩的 黑车 野的")
        items = _SEPARATOR.split(terms) if _SEPARATOR.search(terms) else terms.split()
    elif isinstance(terms, list) and all(isinstance(t, str) for t in terms):
        if len(terms) > MAX_TERMS:
            raise InvalidInput(f"同义词组最多 {MAX_TERMS} 个词")
        for n, term in enumerate(terms, 1):
            if found := _SEPARATOR.search(term.strip()):
                sep = found.group(0)[0] if found.group(0)[0] not in "\r\n" else "换行"
                raise InvalidInput(f"第 {n} 个同义词「{term.strip()}」含有分隔符“{sep}”：数组中每项应是一个词，请拆成多项")
        items = terms
    else:
        raise InvalidInput("terms 必须是字符串（词之间用顿号、逗号或分号分隔）或字符串数组")
    for item in items:
        item = normalise(item.strip())
        if _SPACE.search(item):
            raise InvalidInput(f"同义词「{item}」中间有空格：词中不能有空格，词之间请用顿号、逗号、分号或斜杠分隔")
        if len(item) > MAX_TERM_CHARS:
            raise InvalidInput(f"每个同义词最多 {MAX_TERM_CHARS} 个字")
    members = parse_group([item.strip() for item in items])
    if len(members) < 2:
        raise InvalidInput("同义词组至少需要两个词")
    if len(members) > MAX_TERMS:
        raise InvalidInput(f"同义词组最多 {MAX_TERMS} 个词")
    if single := [m for m in members if len(m) == 1 and m not in keep]:
        raise InvalidInput(f"同义词「{single[0]}」只有一个字：单字会扩展到大量无关的检索，请用完整的词（如“社保”而不是“社”）")
    return members


async def save_group(engine: AsyncEngine, terms, who: str, group_id: int | None = None) -> dict:
    """Create a group, or replace group ``group_id`` (404 if missing); 409 if another group has the same
    members or all of them (a group inside another adds nothing). The version is bumped first: on PostgreSQL its row lock makes concurrent edits take turns,
    so two identical groups saved at once cannot both pass the check."""
    await ensure_defaults(engine)
    async with engine.begin() as conn:
        await _bump_version(conn)
        stored = {row.id: parse_group(row.terms)
                  for row in (await conn.execute(sa.select(kb_synonyms.c.id, kb_synonyms.c.terms))).all()}
        if group_id is not None and group_id not in stored:
            raise NotFound(f"同义词组 {group_id} 不存在")
        members = checked_group(terms, keep=tuple({m for group in stored.values() for m in group if len(m) == 1}))
        for other_id, other in stored.items():
            if other_id != group_id and set(other) == set(members):
                raise Conflict(f"已有相同的同义词组（编号 {other_id}）")
            if other_id != group_id and set(members) < set(other):  # adds nothing: every term already expands so
                raise Conflict(f"这些词已全部在同义词组 {other_id}（{'、'.join(other)}）中，无需再建；如需调整请编辑该组")
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
