"""A loopback SMS gateway: records sends, checks segment sizes, can fail on purpose; signs webhooks."""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from pathlib import Path

from aiohttp import web

from channels.sms.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.channels.loopback import serve

FIXTURES = Path(__file__).with_name("fixtures")
SECRET = "sms-gateway-shared-secret"
API_KEY = "gw-api-key-123"


def fixture(name: str, **replace) -> dict:
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    data.update(replace)
    return data


def signed(data: dict | bytes, *, at: float | None = None, secret: str = SECRET) -> tuple[bytes, dict]:
    """The body and headers the gateway sends for ``data`` at time ``at``."""
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    timestamp = str(int(at if at is not None else time.time()))
    return body, {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body),
                  "Content-Type": "application/json"}


class FakeGateway:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.attempts = 0
        self.failures: list[int] = []     # statuses to answer with before succeeding
        self._ids = itertools.count(1)
        self.url = ""

    async def start(self, stack: contextlib.AsyncExitStack) -> "FakeGateway":
        app = web.Application()
        app.router.add_post("/v1/sms/send", self.send)
        self.url = await serve(stack, app)
        return self

    async def send(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return web.json_response({"message": "bad api key"}, status=401)
        if self.failures:
            return web.json_response({"message": "busy"}, status=self.failures.pop(0))
        body = await request.json()
        parts = body.get("parts") or []
        limit = 70 if len(parts) == 1 else 67
        if not parts or any(len(p.encode("utf-16-le")) // 2 > limit and not p.isascii() for p in parts):
            return web.json_response({"message": "segment too long"}, status=400)
        gateway_id = f"GW-{next(self._ids):06d}"
        self.sent.append({**body, "id": gateway_id})
        return web.json_response({"id": gateway_id, "status": "accepted", "segments": len(parts)})
