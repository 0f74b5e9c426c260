"""Core CLI commands: serve, db upgrade, users add, units import, categories import."""

from __future__ import annotations

from pathlib import Path

import click

from hotline.cli import data_dir_option, fail, run, settings_from


def with_service(data_dir, work):
    """Migrate the store, run ``await work(service)`` with a TicketService on it, and close it."""
    from hotline.db import make_engine
    from hotline.migrate import upgrade
    from hotline.service import TicketService

    settings = settings_from(data_dir)
    if not settings.database_url:
        settings.ensure_data_dir()

    async def go():
        service = TicketService(make_engine(settings.resolved_database_url()), settings=settings)
        try:
            await upgrade(service.engine)
            return await work(service)
        finally:
            await service.engine.dispose()

    return run(go())


@click.command()
@data_dir_option
@click.option("--host", default=None, help="监听地址（默认 127.0.0.1，HOTLINE_HOST）。")
@click.option("--port", default=None, type=int, help="端口（默认 8080，HOTLINE_PORT）。")
@click.option("--no-demo", is_flag=True, help="空数据库不导入演示城市数据。")
def serve(data_dir, host, port, no_demo):
    """启动服务：升级数据库，首次启动导入演示数据，提供坐席控制台和 API。"""
    from aiohttp import web

    from hotline.app import SERVER_ARGS, create_app

    settings = settings_from(data_dir, create=True)
    if host:
        settings.host = host
    if port:
        settings.port = port
    app = create_app(settings, demo=not no_demo)
    where = settings.database_url and "PostgreSQL" or str(settings.data_dir.resolve())
    click.echo(f"12345 热线服务启动：http://{settings.host}:{settings.port}/ （数据：{where}）")
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None, **SERVER_ARGS)
    except OSError as exc:  # port taken, address not ours ...
        fail(f"无法在 {settings.host}:{settings.port} 上监听：{exc.strerror or exc}")


@click.group()
def db():
    """数据库结构。"""


@db.command("upgrade")
@data_dir_option
def db_upgrade(data_dir):
    """执行所有未执行的数据库迁移。"""
    from hotline.migrate import upgrade_url

    settings = settings_from(data_dir, create=True)
    if not settings.database_url:
        settings.ensure_data_dir()
    run(upgrade_url(settings.resolved_database_url()))
    click.echo("数据库已升级到最新版本")


@click.group()
def users():
    """用户与角色。"""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["agent", "dispatcher", "unit", "leader", "admin"]))
@click.option("--unit", default=None, help="承办单位代码（角色为 unit 时必填）。")
@click.option("--password", default=None, help="控制台登录密码（不设则只能用 API 令牌）。")
@click.option("--print-token", is_flag=True, help="创建并打印一个 API 令牌。")
@data_dir_option
def users_add(name, role, unit, password, print_token, data_dir):
    """添加用户 NAME 并指定角色。"""
    from hotline.users import SYSTEM, UserError, check_password, check_username, create_user, issue_token

    try:  # the API's rules, checked before the store is touched
        check_username(name)
        check_password(password)
    except UserError as exc:
        fail(str(exc))
    if role == "unit" and not unit:
        fail("承办单位用户必须用 --unit 指定所属单位")

    async def work(service):
        async with service.engine.begin() as conn:
            user_id = await create_user(conn, name, role, service.now(), unit_code=unit, password=password)
            token = await issue_token(conn, user_id, service.now()) if print_token else None
            await service.audit(conn, SYSTEM, "users.create", "user", str(user_id),
                                {"username": name, "role": role, "unit": unit, "via": "cli"})
        return token

    try:
        token = with_service(data_dir, work)
    except UserError as exc:
        fail(str(exc))
    click.echo(f"已创建用户 {name}（{role}）")
    if token:
        click.echo(token)


@click.group()
def units():
    """承办单位。"""


@units.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_dir_option
def units_import(file, data_dir):
    """从 CSV 文件 FILE 导入承办单位（列：code,name,kind,parent_code,contact_*,notify_channels）。"""
    from hotline.directory import import_units, parse_units_csv

    _import_table(file, data_dir, parse_units_csv, import_units,
                  "units.import", "unit", "单位")


@click.group()
def categories():
    """工单分类（三级分类体系）。"""


@categories.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_dir_option
def categories_import(file, data_dir):
    """从 CSV 文件 FILE 导入工单分类（列：code,name,parent_code；parent_code 为空即一级分类），全部成功才写入。"""
    from hotline.directory import import_categories, parse_categories_csv

    _import_table(file, data_dir, parse_categories_csv, lambda conn, rows, now: import_categories(conn, rows),
                  "categories.import", "category", "分类")


def _import_table(file: Path, data_dir, parse, store, action: str, kind: str, noun: str) -> None:
    """A directory CSV (units, categories): parsed whole, then written in one transaction with an audit
    record, all or nothing; errors end the command with their message (exit 2)."""
    from hotline.directory import ImportError_
    from hotline.users import SYSTEM

    try:
        rows = parse(file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        fail("CSV 必须是 UTF-8 编码")
    except ImportError_ as exc:
        fail(str(exc))

    async def work(service):
        async with service.engine.begin() as conn:
            result = await store(conn, rows, service.now())
            await service.audit(conn, SYSTEM, action, kind, None, {**result, "file": file.name})
        return result

    try:
        result = with_service(data_dir, work)
    except ImportError_ as exc:
        fail(str(exc))
    click.echo(f"导入完成：新增 {result['created']} 个，更新 {result['updated']} 个{noun}")
