"""The demo city (云州市): member units, the category taxonomy, one user per role, sample tickets.

Seeded by ``hotline serve`` on first start with an empty database; logins are
printed once and kept in ``<data-dir>/demo-logins.txt`` (readable by the owner only).
"""

from __future__ import annotations

import importlib
import os
import secrets
from importlib import resources

import click
import sqlalchemy as sa

from hotline.directory import import_categories, import_units, parse_units_csv
from hotline.identity import normalize_identity
from hotline.tables import units, users
from hotline.users import create_user, issue_token

DEMO_USERS = [
    ("admin", "admin", None, "系统管理员"),
    ("agent", "agent", None, "话务员小王"),
    ("dispatcher", "dispatcher", None, "派单员小李"),
    ("housing", "unit", "housing", "市住建局承办人"),
    ("leader", "leader", None, "分管领导"),
]

SAMPLE_TICKETS = [
    ("phone", "求助", "云湖区湖滨街道明珠小区3栋楼下的下水道堵塞一周了，污水漫到路面，气味很大，请尽快疏通。", "13800138001"),
    ("wechat", "投诉", "东山区凤凰路夜间施工噪音扰民，晚上11点以后还在打桩，严重影响休息。", "13800138002"),
    ("phone", "咨询", "请问灵活就业人员怎么在云州市缴纳养老保险？需要带什么材料？", "13800138003"),
    ("sms", "举报", "西江区桃源镇有商家销售过期食品，地址在桃源大道88号超市。", "13800138004"),
    ("phone", "建议", "建议在南岭区南湖公园增加公共厕所和儿童游乐设施。", "13800138005"),
    ("wechat", "求助", "北塘区玉河街道玉河新村停水两天了，也没有任何通知，老人用水很困难。", "13800138006"),
]


# Other packages' demo data, seeded after the city ("module:function" taking the TicketService).
EXTRA_SEEDERS = [
    "knowledge.importer:seed_demo_articles",
]

# Other packages' steps after a first start seeded the demo, before the service takes requests
# ("module:function" taking the web app): the demo knowledge base searchable from the first question.
READY_HOOKS = [
    "knowledge.jobs:index_before_serving",
]


async def run_ready_hooks(app) -> None:
    for spec in READY_HOOKS:
        module_name, func_name = spec.split(":")
        await getattr(importlib.import_module(module_name), func_name)(app)


def demo_file(name: str) -> str:
    return resources.files("hotline.demo_data").joinpath(name).read_text(encoding="utf-8")


async def is_empty(service) -> bool:
    async with service.engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(units))).scalar_one() == 0


async def seed_demo(service, print_logins: bool = False, users: bool = True,
                    extras: bool = True) -> list[tuple[str, str, str]]:
    """Seed the demo city into an empty database; returns (username, role, password) of created users.

    ``users=False`` seeds the city without the demo logins; ``extras=False`` without other packages'
    demo data (the knowledge base).
    """
    if not await is_empty(service):
        return []
    now = service.now()
    logins = []
    async with service.engine.begin() as conn:
        await import_units(conn, parse_units_csv(demo_file("units.csv")), now)
        await import_categories(conn, demo_file("categories.csv"))
        for username, role, unit, name in DEMO_USERS if users else []:
            password = secrets.token_urlsafe(9)
            user_id = await create_user(conn, username, role, now, unit_code=unit, password=password,
                                        display_name=name)
            token = await issue_token(conn, user_id, now)
            logins.append((username, role, password, token))
    await _sample_tickets(service)
    for spec in EXTRA_SEEDERS if extras else []:
        module_name, func_name = spec.split(":")
        await getattr(importlib.import_module(module_name), func_name)(service)
    if logins:
        _save_logins(service, logins)
    if print_logins and logins:
        click.echo("已创建演示城市「云州市」：%d 个承办单位。演示账号（仅显示一次，另存于 demo-logins.txt）：" % (
            await _count_units(service)))
        for username, role, password, token in logins:
            click.echo(f"  {role:<10} 用户名 {username:<10} 密码 {password}  API令牌 {token}")
    return [(u, r, p) for u, r, p, _ in logins]


async def _count_units(service) -> int:
    async with service.engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(units))).scalar_one()


async def _sample_tickets(service) -> None:
    from hotline.service import NewTicket
    from hotline.tables import outbox
    from hotline.users import SYSTEM

    new = [NewTicket(channel=channel, text=text, request_type=request_type,
                     identities=[normalize_identity("phone", phone)])
           for channel, request_type, text, phone in SAMPLE_TICKETS]
    suggestions = [await service.suggest(ticket) for ticket in new]
    # Demo citizens are made up: their events must never send notices to real phone numbers. The events
    # are written already delivered in the tickets' own transaction, so a running relay never sees them.
    async with service.transaction() as conn:
        before = (await conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0)))).scalar_one()
        for ticket, suggestion in zip(new, suggestions):
            await service.create_on(conn, ticket, SYSTEM, suggestion)
        await conn.execute(sa.update(outbox).where(outbox.c.id > before, outbox.c.delivered_at.is_(None))
                           .values(delivered_at=service.now()))


def _save_logins(service, logins) -> None:
    if service.settings.database_url:
        return
    path = service.settings.data_dir / "demo-logins.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for username, role, password, token in logins:
            fh.write(f"{role}\t{username}\t{password}\t{token}\n")


async def user_count(service) -> int:
    async with service.engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one()
