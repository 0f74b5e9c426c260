"""Database engine and the shared SQLAlchemy metadata.

One schema serves SQLite (default, WAL) and PostgreSQL. Tables are defined
with SQLAlchemy Core on :data:`metadata`; each package keeps its tables in its
own ``tables.py`` module and its Alembic revisions in
``hotline/migrations/versions`` (branching from ``0001_core``).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)


class UtcDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC datetimes on both SQLite and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UtcDateTime")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine; SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE."""
    if url.startswith("sqlite"):
        # One connection per process: SQLite has one writer anyway, and waiting in the
        # asyncio-aware pool queue is far cheaper than SQLite's sleeping busy handler.
        # Other processes (CLI, workers) still queue on busy_timeout.
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, pool_size=1, max_overflow=0,
                                     pool_timeout=60)
        _setup_sqlite(engine)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _setup_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not the driver, emit BEGIN so we can make it IMMEDIATE:
        # writers then queue on busy_timeout instead of failing on lock upgrade.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


async def lock_for_transaction(conn, key: str) -> None:
    """Serialise transactions that share ``key`` until they end.

    PostgreSQL: a transaction-scoped advisory lock on a hash of ``key``. SQLite needs nothing: every
    write transaction already starts with ``BEGIN IMMEDIATE`` and so runs alone.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def insert_ignore(engine_or_dialect_name, table: sa.Table):
    """INSERT ... ON CONFLICT DO NOTHING for the engine's dialect (call .on_conflict_do_nothing())."""
    name = getattr(engine_or_dialect_name, "dialect", None)
    name = name.name if name is not None else str(engine_or_dialect_name)
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


async def replace_rows(conn, table: sa.Table, rows: list[dict], key: str = "key", batch: int = 500) -> None:
    """Write ``rows`` in place of the rows with the same ``key`` (deleted, then inserted), ``batch`` at a time."""
    column = table.c[key]
    for i in range(0, len(rows), batch):
        chunk = rows[i:i + batch]
        await conn.execute(table.delete().where(column.in_([r[key] for r in chunk])))
        await conn.execute(table.insert(), chunk)
