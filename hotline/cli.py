"""The ``hotline`` command line.

Sub-command groups from other packages are listed in :data:`GROUPS` and
added to the root group at import time.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import click

from hotline.config import Settings

# "module:attribute" of click groups/commands contributed by packages.
GROUPS: list[str] = [
    "hotline.cli_core:db",
    "hotline.cli_core:users",
    "hotline.cli_core:units",
    "hotline.cli_core:serve",
    "routing.cli:routing",
    "knowledge.cli:kb",
    "hotline.jobs.cli:jobs",
    "hotline.jobs.cli:worker",
]


def settings_from(data_dir: str | None) -> Settings:
    """Settings from the environment, with ``--data-dir`` taking precedence over HOTLINE_DATA_DIR."""
    settings = Settings()
    if data_dir:
        settings.data_dir = Path(data_dir)
    return settings


def data_dir_option(func):
    return click.option(
        "--data-dir",
        "data_dir",
        envvar="HOTLINE_DATA_DIR",
        type=click.Path(file_okay=False),
        default=None,
        help="Directory for the embedded store (default ./data; HOTLINE_DATABASE_URL selects PostgreSQL).",
    )(func)


def run(coro):
    """Run a coroutine for a CLI command."""
    return asyncio.run(coro)


def fail(message: str, code: int = 2) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


@click.group()
@click.version_option(package_name="hotline")
def main() -> None:
    """12345 政务服务便民热线 工单引擎 (hotline engine)."""


for _spec in GROUPS:
    _mod, _attr = _spec.split(":")
    main.add_command(getattr(importlib.import_module(_mod), _attr))
