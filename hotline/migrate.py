"""Apply Alembic migrations (all heads: each package has its own branch)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database behind ``engine`` to the newest revision of every branch."""
    url = engine.url.render_as_string(hide_password=False)

    def _do(sync_conn) -> None:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, "heads")

    async with engine.begin() as conn:
        await conn.run_sync(_do)


async def upgrade_url(url: str) -> None:
    """Upgrade the database at ``url`` with an engine of its own."""
    from hotline.db import make_engine

    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def upgrade_sync(url: str) -> None:
    asyncio.run(upgrade_url(url))
