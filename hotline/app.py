"""The aiohttp application factory.

``create_app`` wires settings, the database engine, the clock and the ticket
service into typed app keys, then lets each package add its routes and
clients through its ``setup(app)`` function listed in :data:`PLUGINS`.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline import appkeys
from hotline.clock import Clock, SystemClock
from hotline.config import Settings
from hotline.db import make_engine

# Each entry is "module:function"; the function takes the app and adds its
# routes, middlewares and cleanup contexts. Order matters only for routes.
PLUGINS: list[str] = [
    "hotline.api.setup:setup",
    "hotline.console.web:setup",
    "routing.web:setup",
    "knowledge.web:setup",
    "hotline.live:setup",
    "channels.web:setup",
    "channels.mailbox.pages:setup",
    "hotline.jobs.web:setup",
]

# Options of the HTTP server (``web.run_app(app, **SERVER_ARGS)``). The request line may hold a whole assist
# text (knowledge.web.MAX_ASSIST_TEXT characters, 9 bytes each URL-encoded): it must reach the handler,
# which answers a text over the limit with a clear 400, instead of aiohttp's own English one at 8 KiB.
SERVER_ARGS = {"max_line_size": 64 * 1024}


async def clients_ctx(app: web.Application) -> AsyncIterator[None]:
    """Shared outbound clients: one aiohttp ClientSession, and Redis when configured."""
    import aiohttp

    settings = app[appkeys.SETTINGS]
    app[appkeys.HTTP] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    if settings.redis_url:
        import redis.asyncio as aioredis

        # A bounded pool whose callers wait for a free connection rather than fail at the limit.
        pool = aioredis.BlockingConnectionPool.from_url(settings.redis_url, max_connections=64, timeout=5)
        app[appkeys.REDIS] = aioredis.Redis(connection_pool=pool)
    yield
    await app[appkeys.HTTP].close()
    if settings.redis_url:
        await app[appkeys.REDIS].aclose()
        await pool.disconnect()


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
    demo: bool = False,
    plugins: list[str] | None = None,
) -> web.Application:
    """Build the application. ``engine`` may be injected (tests); otherwise it is made from settings."""
    from hotline.api.errors import error_middleware
    from hotline.service import TicketService

    settings = settings or Settings()
    app = web.Application(middlewares=[error_middleware], client_max_size=25 * 1024 * 1024)
    app[appkeys.SETTINGS] = settings
    app[appkeys.CLOCK] = clock or SystemClock()

    owns_engine = engine is None
    if engine is None:
        if not settings.database_url:
            settings.ensure_data_dir()
        engine = make_engine(settings.resolved_database_url())
    app[appkeys.ENGINE] = engine
    app[appkeys.SERVICE] = TicketService(engine, clock=app[appkeys.CLOCK], settings=settings)

    async def database_ctx(app: web.Application) -> AsyncIterator[None]:
        if migrate:
            from hotline.migrate import upgrade

            await upgrade(engine)
        yield
        if owns_engine:
            await engine.dispose()

    app.cleanup_ctx.append(database_ctx)
    app.cleanup_ctx.append(clients_ctx)
    for spec in PLUGINS if plugins is None else plugins:
        module_name, func_name = spec.split(":")
        getattr(importlib.import_module(module_name), func_name)(app)
    if demo:
        async def seed(app: web.Application) -> None:
            # After every plugin started: the demo tickets get routed like real ones.
            from hotline.demo import run_ready_hooks, seed_demo

            if await seed_demo(app[appkeys.SERVICE], print_logins=True):
                await run_ready_hooks(app)

        app.on_startup.append(seed)
    return app
