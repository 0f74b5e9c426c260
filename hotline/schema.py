"""Import every package's tables so the shared metadata is complete.

Listing modules here is the one registry of tables; Alembic autogenerate and
the test suite use it.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa

TABLE_MODULES = [
    "hotline.tables",
    "routing.tables",
    "knowledge.tables",
    "knowledge.semantic.tables",
    "channels.tables",
    "channels.tables_mail",
    "hotline.jobs.tables",
]


def load_all_tables() -> sa.MetaData:
    from hotline.db import metadata

    for name in TABLE_MODULES:
        importlib.import_module(name)
    return metadata
