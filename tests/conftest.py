"""Shared fixtures: real PostgreSQL and Redis servers, and a migrated store per test.

``store_url`` is parametrized over both backends, so any test that takes it
(or ``engine``/``service``/``app``) runs once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from hotline.clock import ManualClock
from hotline.db import make_engine
from hotline.migrate import upgrade_sync
from tests.servers import PostgresServer, RedisServer

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(scope="session")
def pg_server():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server) -> str:
    """A migrated database that every PostgreSQL test clones (CREATE DATABASE ... TEMPLATE)."""
    import asyncio

    async def _create() -> None:
        engine = make_engine(pg_server.url())
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("CREATE DATABASE hotline_template"))
        await engine.dispose()

    asyncio.run(_create())
    upgrade_sync(pg_server.url("hotline_template"))
    return "hotline_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "hotline.db"
    upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """A fresh, migrated database URL on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "hotline.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    return clone_pg(request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template"))


def clone_pg(server, template: str) -> str:
    """A fresh PostgreSQL database copied from the migrated template; its URL."""
    import asyncio

    name = "t_" + uuid.uuid4().hex[:12]

    async def _clone() -> None:
        engine = make_engine(server.url())
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(f"CREATE DATABASE {name} TEMPLATE {template}"))
        await engine.dispose()

    asyncio.run(_clone())
    return server.url(name)


@pytest.fixture
async def engine(store_url):
    eng = make_engine(store_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def clock() -> ManualClock:
    # Monday 2026-11-23 10:00 in Shanghai, a normal working day.
    return ManualClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI).astimezone(dt.timezone.utc))


@pytest.fixture
def settings(tmp_path, store_url):
    from hotline.config import Settings

    return Settings(data_dir=tmp_path / "data", database_url=None if store_url.startswith("sqlite") else store_url)


@pytest.fixture
async def service(engine, clock, settings):
    from hotline.demo import seed_demo
    from hotline.service import TicketService

    svc = TicketService(engine, clock=clock, settings=settings)
    await seed_demo(svc, users=False, extras=False)
    return svc


@pytest.fixture
async def tokens(service) -> dict[str, str]:
    """An API token per role (and a second unit user at another unit)."""
    from hotline.users import create_user, issue_token

    result = {}
    async with service.engine.begin() as conn:
        for name, role, unit in [("t-agent", "agent", None), ("t-dispatcher", "dispatcher", None),
                                 ("t-housing", "unit", "housing"), ("t-transport", "unit", "transport"),
                                 ("t-leader", "leader", None), ("t-admin", "admin", None)]:
            user_id = await create_user(conn, name, role, service.now(), unit_code=unit)
            key = name[2:] if role == "unit" else role
            result[key] = await issue_token(conn, user_id, service.now())
    return result


@pytest.fixture
async def client(aiohttp_client, service, settings, clock):
    from hotline import appkeys
    from hotline.app import create_app

    app = create_app(settings, engine=service.engine, clock=clock, migrate=False,
                     plugins=["hotline.api.setup:setup"])
    app[appkeys.SERVICE] = service
    return await aiohttp_client(app)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
