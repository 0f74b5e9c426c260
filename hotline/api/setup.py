"""Routes of the core API; ``setup(app)`` is the core's plugin entry."""

from __future__ import annotations

from aiohttp import web

from hotline.api.errors import json_response

from hotline import appkeys
from hotline.api import auth, directory, tickets
from hotline.api.auth import LoginIn
from hotline.api.models import LinkIn, TicketIn, TransitionIn, UserIn
from hotline.api.openapi import body, openapi_json


async def healthz(request: web.Request) -> web.Response:
    """Liveness and database check."""
    import sqlalchemy as sa

    async with request.app[appkeys.ENGINE].connect() as conn:
        await conn.execute(sa.text("SELECT 1"))
    return json_response({"status": "ok"})


def setup(app: web.Application) -> None:
    app.middlewares.append(auth.auth_middleware)
    auth.setup_login_limits(app)
    body(TicketIn)(tickets.create_ticket)
    body(TransitionIn)(tickets.transition)
    body(UserIn)(directory.post_user)
    body(LoginIn)(auth.login)
    body(LinkIn)(tickets.link)
    app.router.add_routes([
        web.get("/healthz", healthz),
        web.get("/api/v1/openapi.json", openapi_json),
        web.post("/api/v1/auth/login", auth.login),
        web.post("/api/v1/auth/logout", auth.logout),
        web.get("/api/v1/me", auth.me),
        web.post("/api/v1/tickets", tickets.create_ticket),
        web.get("/api/v1/tickets", tickets.list_tickets),
        web.get("/api/v1/tickets/{ref}", tickets.get_ticket),
        web.post("/api/v1/tickets/{ref}/transitions", tickets.transition),
        web.post("/api/v1/tickets/{ref}/links", tickets.link),
        web.get("/api/v1/units", directory.get_units),
        web.post("/api/v1/units/import", directory.post_units_import),
        web.get("/api/v1/categories", directory.get_categories),
        web.get("/api/v1/users", directory.get_users),
        web.post("/api/v1/users", directory.post_user),
    ])

    async def attach_router(app: web.Application) -> None:
        # Packages that set app[ROUTER] in their cleanup_ctx have run by now.
        app[appkeys.SERVICE].router = app.get(appkeys.ROUTER)

    app.on_startup.append(attach_router)
