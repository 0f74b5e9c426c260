"""Routing test helpers: the shared data location and a small trained model."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.classifier import RoutingModel
from routing.store import DEFAULT_MODEL

HERE = Path(__file__).parent
SHARED = Path(__file__).parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def default_model() -> RoutingModel:
    return RoutingModel.load(DEFAULT_MODEL)


async def insert_categories(conn) -> dict[str, int]:
    """The demo taxonomy in the categories table; returns code -> id."""
    import csv

    import sqlalchemy as sa

    from hotline.db import insert_ignore
    from hotline.tables import categories
    from routing.taxonomy import DEFAULT_CATEGORIES, Taxonomy

    tax = Taxonomy.from_csv(DEFAULT_CATEGORIES)
    rows = list(csv.DictReader(open(DEFAULT_CATEGORIES, encoding="utf-8")))
    for r in rows:  # parents come first in the file
        parent = (await conn.execute(sa.select(categories.c.id).where(categories.c.code == r["parent_code"]))).scalar()
        stmt = insert_ignore(conn.dialect.name, categories).values(
            code=r["code"], name=r["name"], parent_id=parent, level=tax.by_code[r["code"]].level)
        await conn.execute(stmt.on_conflict_do_nothing())
    return dict((await conn.execute(sa.select(categories.c.code, categories.c.id))).all())


async def insert_unit(conn, code: str) -> int:
    import datetime as dt

    import sqlalchemy as sa

    from hotline.tables import units

    found = (await conn.execute(sa.select(units.c.id).where(units.c.code == code))).scalar()
    if found:
        return found
    res = await conn.execute(sa.insert(units).values(code=code, name=code, kind="department",
                                                      created_at=dt.datetime.now(dt.timezone.utc)))
    return res.inserted_primary_key[0]


async def insert_ticket(conn, text: str, *, number: str, category_id=None, lead_unit_id=None,
                        request_type="投诉", routing=None) -> int:
    import datetime as dt

    import sqlalchemy as sa

    from hotline.tables import tickets

    now = dt.datetime.now(dt.timezone.utc)
    res = await conn.execute(sa.insert(tickets).values(
        number=number, channel="phone", intake_line="12345", request_type=request_type, text=text, state="dispatched",
        category_id=category_id, lead_unit_id=lead_unit_id, routing=routing, created_at=now, updated_at=now))
    return res.inserted_primary_key[0]


def demo_city(data_dir: Path, then=None) -> None:
    """``data_dir`` with the migrated schema and the seeded demo city (no users, no sample tickets);
    ``await then(service)`` may add more before the engine is closed. For CLI tests on a real data dir."""
    import asyncio

    from hotline.config import Settings
    from hotline.db import make_engine
    from hotline.demo import seed_demo
    from hotline.migrate import upgrade
    from hotline.service import TicketService

    async def fill():
        data_dir.mkdir()
        engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}")
        await upgrade(engine)
        service = TicketService(engine, settings=Settings(data_dir=data_dir))
        await seed_demo(service, users=False, extras=False)
        if then is not None:
            await then(service)
        await engine.dispose()

    asyncio.run(fill())
