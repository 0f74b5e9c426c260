"""Users, roles, passwords (argon2) and API/session tokens (stored hashed)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.tables import api_tokens, units, users

ROLES = ("agent", "dispatcher", "unit", "leader", "admin")
ROLE_LABELS = {"agent": "话务员", "dispatcher": "派单员", "unit": "承办单位", "leader": "领导", "admin": "管理员"}
SESSION_DAYS = 7
# The rules for new users, shared by the API (UserIn) and ``hotline users add``.
USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]+$"
USERNAME_MAX_LENGTH = 100
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 200
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Actor:
    """Who performs an action: a user, the system (jobs), or a citizen (ratings)."""

    username: str
    role: str
    user_id: int | None = None
    unit_id: int | None = None
    display_name: str | None = None


SYSTEM = Actor(username="system", role="system")


class UserError(ValueError):
    pass


def check_username(username: str) -> str:
    if not username:
        raise UserError("用户名不能为空")
    if len(username) > USERNAME_MAX_LENGTH:
        raise UserError(f"用户名最多 {USERNAME_MAX_LENGTH} 个字符")
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise UserError("用户名只能包含英文字母、数字和 _ . @ -")
    return username


def check_password(password: str | None) -> str | None:
    """``None`` means no password (API token only)."""
    if password is None:
        return None
    if len(password) < PASSWORD_MIN_LENGTH:
        raise UserError(f"密码至少 {PASSWORD_MIN_LENGTH} 个字符")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise UserError(f"密码最多 {PASSWORD_MAX_LENGTH} 个字符")
    return password


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(conn: AsyncConnection, username: str, role: str, now: dt.datetime, *,
                      unit_code: str | None = None, password: str | None = None,
                      display_name: str | None = None) -> int:
    check_username(username)
    check_password(password)
    if role not in ROLES:
        raise UserError(f"未知角色 {role}（可用：{'、'.join(ROLES)}）")
    unit_id = None
    if role == "unit":
        if not unit_code:
            raise UserError("承办单位用户必须指定所属单位（unit）")
        unit_id = (await conn.execute(sa.select(units.c.id).where(units.c.code == unit_code))).scalar()
        if unit_id is None:
            raise UserError(f"单位 {unit_code} 不存在")
    elif unit_code:
        raise UserError("只有承办单位用户（role=unit）可以绑定单位")
    exists = (await conn.execute(sa.select(users.c.id).where(users.c.username == username))).scalar()
    if exists:
        raise UserError(f"用户 {username} 已存在")
    return (await conn.execute(sa.insert(users).values(
        username=username, role=role, unit_id=unit_id, display_name=display_name or username,
        password_hash=_hasher.hash(password) if password else None, active=True, created_at=now,
    ).returning(users.c.id))).scalar_one()


async def issue_token(conn: AsyncConnection, user_id: int, now: dt.datetime, kind: str = "api") -> str:
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(days=SESSION_DAYS) if kind == "session" else None
    await conn.execute(sa.insert(api_tokens).values(
        user_id=user_id, token_hash=hash_token(token), kind=kind, created_at=now, expires_at=expires))
    return token


async def revoke_token(conn: AsyncConnection, token: str) -> None:
    await conn.execute(sa.delete(api_tokens).where(api_tokens.c.token_hash == hash_token(token)))


def _actor(row) -> Actor:
    return Actor(username=row.username, role=row.role, user_id=row.id, unit_id=row.unit_id,
                 display_name=row.display_name)


async def actor_for_token(conn: AsyncConnection, token: str, now: dt.datetime) -> Actor | None:
    row = (await conn.execute(
        sa.select(users, api_tokens.c.expires_at)
        .select_from(users.join(api_tokens, api_tokens.c.user_id == users.c.id))
        .where(api_tokens.c.token_hash == hash_token(token), users.c.active.is_(True))
    )).first()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return _actor(row)


async def authenticate(conn: AsyncConnection, username: str, password: str) -> Actor | None:
    row = (await conn.execute(sa.select(users).where(users.c.username == username,
                                                     users.c.active.is_(True)))).first()
    # argon2 takes tens of milliseconds of CPU: off the event loop.
    if row is None or not row.password_hash:
        await asyncio.to_thread(_hasher.hash, password)  # same cost whether or not the user exists
        return None
    try:
        await asyncio.to_thread(_hasher.verify, row.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return None
    return _actor(row)


async def list_users(conn: AsyncConnection) -> list[dict]:
    rows = await conn.execute(
        sa.select(users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.active,
                  units.c.code.label("unit"))
        .select_from(users.outerjoin(units, users.c.unit_id == units.c.id)).order_by(users.c.id))
    return [dict(r._mapping) for r in rows]
