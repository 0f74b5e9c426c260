"""Start a small aiohttp app on 127.0.0.1 for the duration of a test (fake platform APIs)."""

from __future__ import annotations

import contextlib

from aiohttp import web


async def serve(stack: contextlib.AsyncExitStack, app: web.Application) -> str:
    """Run ``app`` on a free loopback port until ``stack`` closes; returns its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    stack.push_async_callback(runner.cleanup)
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - aiohttp has no public accessor
    return f"http://127.0.0.1:{port}"
