"""The ``hotline`` command line.

Sub-command groups from other packages are listed in :data:`GROUPS` and
added to the root group when it first looks its commands up, not at import
time: those modules import the helpers below, so importing them from here
at import time would be circular (``python -m hotline.cli``, or importing
``routing.cli`` first, failed with a partially initialised module).
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import sys
from pathlib import Path

import click
import pydantic

from hotline import cli_zh
from hotline.config import DATABASE_FILE, Settings
from hotline.validation import error_text

cli_zh.install()  # click's own words (用法、选项、缺少参数 …) in Chinese, before any command is defined

# "module:attribute" of click groups/commands contributed by packages.
GROUPS: list[str] = [
    "hotline.cli_core:db",
    "hotline.cli_core:users",
    "hotline.cli_core:units",
    "hotline.cli_core:categories",
    "hotline.cli_core:serve",
    "hotline.cli_tickets:tickets",
    "routing.cli:routing",
    "knowledge.cli:kb",
    "hotline.jobs.cli:jobs",
    "hotline.jobs.cli:worker",
]


def settings_from(data_dir: str | None, *, create: bool = False) -> Settings:
    """Settings from the environment, with ``--data-dir`` taking precedence over HOTLINE_DATA_DIR.

    Bad configuration ends the command with a Chinese message naming the variable, not a traceback. On the
    embedded store, a data dir without a database ends it too, unless the command sets one up (``create``:
    ``serve``, ``db upgrade``): a mistyped ``--data-dir`` must not quietly start an empty database that an
    export reads as "nothing" or an import fills where no service will look.
    """
    try:
        settings = Settings()
    except pydantic.ValidationError as exc:
        fail("配置有误：" + "；".join(f"HOTLINE_{'_'.join(map(str, e['loc'])).upper()}：{error_text(e)}"
                                   for e in exc.errors()))
    if data_dir:
        settings.data_dir = Path(data_dir)
    if not create and not settings.database_url and not (settings.data_dir / DATABASE_FILE).is_file():
        fail(f"数据目录 {settings.data_dir} 中没有数据库（{DATABASE_FILE}）：请检查 --data-dir 或 HOTLINE_DATA_DIR；"
             "新部署请先运行 hotline db upgrade（或 hotline serve）初始化")
    return settings


def data_dir_option(func):
    return click.option(
        "--data-dir",
        "data_dir",
        envvar="HOTLINE_DATA_DIR",
        type=click.Path(file_okay=False),
        default=None,
        help="内置存储目录（默认 ./data；设置 HOTLINE_DATABASE_URL 则使用 PostgreSQL）。",
    )(func)


def run(coro):
    """Run a coroutine for a CLI command; an unreachable database ends it with a message."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        return asyncio.run(coro)
    except (OperationalError, InterfaceError, ConnectionError, socket.gaierror) as exc:
        fail(f"无法连接数据库：{getattr(exc, 'orig', None) or exc}")


def fail(message: str, code: int = 2) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


class RootGroup(click.Group):
    """The root group: imports the commands listed in :data:`GROUPS` when it looks commands up (lazy loading)."""

    def _load(self) -> None:
        for spec in GROUPS:
            module, attr = spec.split(":")
            command = getattr(importlib.import_module(module), attr)
            self.commands.setdefault(command.name, command)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)


@click.group(cls=RootGroup)
@click.version_option(package_name="hotline")
def main() -> None:
    """12345 政务服务便民热线 工单引擎 (hotline engine)."""


if __name__ == "__main__":
    main()
