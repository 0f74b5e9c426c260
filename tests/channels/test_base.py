"""channels.base.read_body through a real aiohttp server: whole bodies of several MB, the size limit."""

from __future__ import annotations

import hashlib
import os

from aiohttp import web

from channels.base import ChannelError, error_json, read_body

LIMIT = 8 * 1024 * 1024


def body_app() -> web.Application:
    async def echo_digest(request: web.Request) -> web.Response:
        try:
            body = await read_body(request, LIMIT)
        except ChannelError as exc:
            return error_json(exc)
        return web.json_response({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/body", echo_digest)
    return app


async def test_a_body_of_several_mb_is_read_whole(aiohttp_client):
    client = await aiohttp_client(body_app())
    body = os.urandom(3 * 1024 * 1024 + 17)
    resp = await client.post("/body", data=body)
    assert resp.status == 200
    assert await resp.json() == {"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


async def test_a_body_over_the_limit_is_413_with_or_without_content_length(aiohttp_client):
    client = await aiohttp_client(body_app())
    body = os.urandom(LIMIT + 1)
    resp = await client.post("/body", data=body)
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "too_large"

    async def chunked():  # no Content-Length: the limit is enforced while reading
        for start in range(0, len(body), 256 * 1024):
            yield body[start:start + 256 * 1024]

    resp = await client.post("/body", data=chunked())
    assert resp.status == 413 and (await resp.json())["error"]["message"] == f"请求体超过 {LIMIT} 字节"
