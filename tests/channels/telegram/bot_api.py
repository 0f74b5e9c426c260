"""A local Telegram Bot API stand-in on 127.0.0.1 that records every call aiogram makes."""

from __future__ import annotations

import itertools
import json
import time

from aiohttp import web


class BotApiStandIn:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self.fail_with: tuple[int, str] | None = None  # (error_code, description) for the next calls
        self._ids = itertools.count(1000)
        self.runner: web.AppRunner | None = None
        self.base_url = ""

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = {k: v for k, v in (await request.post()).items()}
        self.calls.append((method, params))
        if self.fail_with:
            code, description = self.fail_with
            return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            result = {"message_id": next(self._ids), "date": int(time.time()),
                      "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                      "from": {"id": 7012345678, "is_bot": True, "first_name": "12345热线"},
                      "text": params["text"]}
            return web.json_response({"ok": True, "result": result})
        return web.json_response({"ok": True, "result": True})

    def sent(self, method: str = "sendMessage") -> list[dict]:
        return [p for m, p in self.calls if m == method]

    def markup(self, params: dict) -> dict | None:
        raw = params.get("reply_markup")
        return json.loads(raw) if isinstance(raw, str) else raw

    async def start(self) -> "BotApiStandIn":
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
