"""Units, categories and users."""

from __future__ import annotations

from aiohttp import web

from hotline import appkeys
from hotline.api.auth import require
from hotline.api.errors import ApiError, json_response, read_json
from hotline.api.models import UserIn
from hotline.directory import ImportError_, import_units, list_categories, list_units, parse_units_csv
from hotline.users import UserError, create_user, issue_token, list_users

MAX_CSV_BYTES = 2 * 1024 * 1024


def _unit_json(unit: dict) -> dict:
    return {"id": unit["id"], "code": unit["code"], "name": unit["name"], "kind": unit["kind"],
            "parent": unit["parent_code"], "contacts": unit["contacts"], "notify_channels": unit["notify_channels"],
            "active": unit["active"]}


async def get_units(request: web.Request) -> web.Response:
    """All member units (承办单位) with their hierarchy and contacts."""
    require(request)
    async with request.app[appkeys.ENGINE].connect() as conn:
        return json_response({"items": [_unit_json(u) for u in await list_units(conn)]})


async def post_units_import(request: web.Request) -> web.Response:
    """Import member units from CSV (code,name,kind,parent_code,contact_*,notify_channels); all or nothing."""
    actor = require(request, "admin")
    raw = await request.content.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise ApiError(413, "too_large", "CSV 文件超过 2 MB")
    try:
        rows = parse_units_csv(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "bad_encoding", "CSV 必须是 UTF-8 编码") from None
    except ImportError_ as exc:
        raise ApiError(422, "invalid_csv", str(exc)) from None
    service = request.app[appkeys.SERVICE]
    try:
        async with service.engine.begin() as conn:
            result = await import_units(conn, rows, service.now())
            await service.audit(conn, actor, "units.import", "unit", None, result)
    except ImportError_ as exc:
        raise ApiError(422, "invalid_csv", str(exc)) from None
    return json_response(result)


async def get_categories(request: web.Request) -> web.Response:
    """The category taxonomy (three levels)."""
    require(request)
    async with request.app[appkeys.ENGINE].connect() as conn:
        items = [{"code": c["code"], "name": c["name"], "level": c["level"], "parent": c["parent_code"]}
                 for c in await list_categories(conn)]
    return json_response({"items": items})


async def get_users(request: web.Request) -> web.Response:
    """All users and their roles (admin only)."""
    require(request, "admin")
    async with request.app[appkeys.ENGINE].connect() as conn:
        return json_response({"items": await list_users(conn)})


async def post_user(request: web.Request) -> web.Response:
    """Create a user with a role (admin only); answers 201 with an API token."""
    actor = require(request, "admin")
    body = await read_json(request, UserIn)
    service = request.app[appkeys.SERVICE]
    try:
        async with service.engine.begin() as conn:
            user_id = await create_user(conn, body.username, body.role, service.now(), unit_code=body.unit,
                                        password=body.password, display_name=body.display_name)
            token = await issue_token(conn, user_id, service.now())
            await service.audit(conn, actor, "users.create", "user", str(user_id),
                                {"username": body.username, "role": body.role, "unit": body.unit})
    except UserError as exc:
        raise ApiError(422, "invalid_params", str(exc)) from None
    return json_response({"id": user_id, "username": body.username, "role": body.role, "token": token},
                             status=201)
