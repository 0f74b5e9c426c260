"""Synonym groups stored in ``kb_synonyms`` (editable through the API); defaults until edited."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import utcnow
from knowledge.errors import InvalidInput
from knowledge.synonyms import DEFAULT_GROUPS, SynonymSet, parse_group
from knowledge.tables import kb_synonyms


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


async def save_group(engine: AsyncEngine, terms, who: str, group_id: int | None = None) -> dict:
    members = parse_group(terms)
    if len(members) < 2:
        raise InvalidInput("同义词组至少需要两个词")
    if any(len(m) > 50 for m in members):
        raise InvalidInput("同义词过长")
    await ensure_defaults(engine)
    async with engine.begin() as conn:
        values = {"terms": ",".join(members), "updated_by": who, "updated_at": utcnow()}
        if group_id is None:
            group_id = (await conn.execute(kb_synonyms.insert().values(**values)
                                           .returning(kb_synonyms.c.id))).scalar_one()
        elif (await conn.execute(kb_synonyms.update().where(kb_synonyms.c.id == group_id)
                                 .values(**values))).rowcount == 0:
            from knowledge.errors import NotFound

            raise NotFound(f"同义词组 {group_id} 不存在")
    return {"id": group_id, "terms": list(members)}


async def delete_group(engine: AsyncEngine, group_id: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(kb_synonyms.delete().where(kb_synonyms.c.id == group_id))
