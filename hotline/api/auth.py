"""Authentication: bearer API tokens or a console session cookie; role checks."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hotline import appkeys
from hotline.api.errors import ApiError, json_response, read_json
from hotline.api.remote import client_address
from hotline.ratelimit import SlidingWindowLimit
from hotline.tables import units
from hotline.users import ROLE_LABELS, Actor, actor_for_token, authenticate, issue_token, revoke_token

SESSION_COOKIE = "hotline_session"
PUBLIC_PREFIXES = ("/healthz", "/api/v1/auth/login", "/api/v1/openapi.json", "/api/v1/chatbot/", "/channels/",
                   "/mailbox",
                   "/static/", "/console", "/favicon.ico")


def token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


@web.middleware
async def auth_middleware(request: web.Request, handler):
    token = token_of(request)
    if token:
        service = request.app[appkeys.SERVICE]
        async with service.engine.connect() as conn:
            actor = await actor_for_token(conn, token, service.now())
        if actor is not None:
            request["user"] = actor
    path = request.path
    if path == "/" or path.startswith(PUBLIC_PREFIXES) or not path.startswith("/api/"):
        return await handler(request)
    if "user" not in request:
        raise ApiError(401, "unauthorized", "需要登录或有效的 API 令牌")
    return await handler(request)


def require(request: web.Request, *roles: str) -> Actor:
    actor: Actor | None = request.get("user")
    if actor is None:
        raise ApiError(401, "unauthorized", "需要登录或有效的 API 令牌")
    if roles and actor.role not in roles:
        allowed = "、".join(ROLE_LABELS.get(r, r) for r in roles)
        raise ApiError(403, "forbidden", f"此操作仅限：{allowed}")
    return actor


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


# Failed logins (password guessing): per address and user name, and per address over all names.
LOGIN_WINDOW = dt.timedelta(minutes=15)
LOGIN_FAILURES: web.AppKey[SlidingWindowLimit] = web.AppKey("login_failures", SlidingWindowLimit)
LOGIN_FAILURES_PER_ADDRESS: web.AppKey[SlidingWindowLimit] = web.AppKey("login_failures_per_address",
                                                                         SlidingWindowLimit)


def setup_login_limits(app: web.Application) -> None:
    app[LOGIN_FAILURES] = SlidingWindowLimit(5, LOGIN_WINDOW)
    app[LOGIN_FAILURES_PER_ADDRESS] = SlidingWindowLimit(30, LOGIN_WINDOW)


async def login(request: web.Request) -> web.Response:
    """Log in with username and password; sets the console session cookie and returns the token.
    After 5 failed attempts for one user name from one address (30 from one address in all) within
    15 minutes, further attempts get 429 until the window has passed."""
    body = await read_json(request, LoginIn)
    service = request.app[appkeys.SERVICE]
    now, address = service.now(), client_address(request)
    limits = ((request.app[LOGIN_FAILURES], f"{address}|{body.username.lower()}"),
              (request.app[LOGIN_FAILURES_PER_ADDRESS], address))
    if any(limit.exceeded(key, now) for limit, key in limits):
        raise ApiError(429, "too_many_attempts",
                       f"登录失败次数过多，请 {int(LOGIN_WINDOW.total_seconds() // 60)} 分钟后再试")
    async with service.engine.connect() as conn:  # checked on a read connection: no write lock held meanwhile
        actor = await authenticate(conn, body.username, body.password)
    if actor is None:
        for limit, key in limits:
            limit.record(key, now)
        raise ApiError(401, "bad_credentials", "用户名或密码错误")
    async with service.engine.begin() as conn:
        token = await issue_token(conn, actor.user_id, service.now(), kind="session")
        await service.audit(conn, actor, "login", "user", str(actor.user_id))
    response = json_response({"token": token, "user": _me(actor)})
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax", max_age=7 * 86400)
    return response


async def logout(request: web.Request) -> web.Response:
    """End the current session."""
    require(request)
    service = request.app[appkeys.SERVICE]
    async with service.engine.begin() as conn:
        await revoke_token(conn, token_of(request) or "")
    response = json_response({"status": "ok"})
    response.del_cookie(SESSION_COOKIE)
    return response


def _me(actor: Actor) -> dict:
    return {"username": actor.username, "role": actor.role, "role_label": ROLE_LABELS.get(actor.role),
            "unit_id": actor.unit_id, "display_name": actor.display_name}


async def me(request: web.Request) -> web.Response:
    """The logged-in user; ``unit`` is a unit user's member unit ({"id", "code", "name"}), null for platform staff."""
    actor = require(request)
    unit = None
    if actor.unit_id is not None:
        async with request.app[appkeys.ENGINE].connect() as conn:
            row = (await conn.execute(sa.select(units.c.id, units.c.code, units.c.name)
                                      .where(units.c.id == actor.unit_id))).mappings().first()
        unit = dict(row) if row is not None else None
    return json_response({**_me(actor), "unit": unit})
