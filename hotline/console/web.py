"""Serve the console at /console (and redirect / there)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).with_name("static")


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console")


def setup(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/console", index)
    app.router.add_static("/static/console/", STATIC)
