"""Asterisk ARI: a loopback websocket replays recorded ARI events; calls show up as records and pops."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import sqlalchemy as sa
from aiohttp import web

from channels.tables import call_records
from hotline import appkeys
from tests.channels.loopback import serve
from tests.channels.phone.conftest import agent_socket
from tests.channels.phone.test_cti import earlier_ticket

FIXTURES = Path(__file__).with_name("fixtures")


class FakeAri:
    """Serves /ari/events like Asterisk: checks app and api_key, then sends queued events."""

    def __init__(self) -> None:
        self.connections: list[dict] = []
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.sockets: list[web.WebSocketResponse] = []

    async def events(self, request: web.Request) -> web.WebSocketResponse:
        if request.query.get("api_key") != "hotline:ari-secret":
            raise web.HTTPUnauthorized(text='{"message": "Authentication required"}')
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections.append(dict(request.query))
        self.sockets.append(ws)
        sender = asyncio.create_task(self._send_queued(ws))
        async for _msg in ws:  # until the client or close() hangs up
            pass
        sender.cancel()
        return ws

    async def _send_queued(self, ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            await ws.send_str(await self.queue.get())

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()

    def replay(self, name: str) -> None:
        for line in (FIXTURES / name).read_text().splitlines():
            if line.strip():
                self.queue.put_nowait(line)

    async def start(self, stack: contextlib.AsyncExitStack) -> str:
        app = web.Application()
        app.router.add_get("/ari/events", self.events)
        url = await serve(stack, app)
        stack.push_async_callback(self.close)
        return url


async def wait_for(predicate, timeout=5.0):
    for _ in range(int(timeout / 0.02)):
        if result := await predicate():
            return result
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_ari_call_becomes_record_and_screen_pop(make_client, service, tokens):
    number = await earlier_ticket(service)
    async with contextlib.AsyncExitStack() as stack:
        ari = FakeAri()
        url = await ari.start(stack)
        client = await make_client(ari_url=url, ari_password="ari-secret")
        adapter = client.app[appkeys.CHANNELS]["phone"]
        await asyncio.wait_for(adapter.ari.connected.wait(), 5)
        assert ari.connections[0]["app"] == "hotline"
        ws = await agent_socket(client, tokens["agent"])
        ari.replay("ari_call.jsonl")
        pop = await ws.receive_json(timeout=5)
        assert pop["type"] == "screen_pop" and pop["call_id"] == "1795399200.42"
        assert pop["from"] == "+8613800138000" and [t["number"] for t in pop["open_tickets"]] == [number]
        kinds = [(await ws.receive_json(timeout=5))["type"] for _ in range(3)]
        assert kinds == ["call_answered", "call_recording", "call_ended"]

        async def done():
            async with service.engine.connect() as conn:
                row = (await conn.execute(sa.select(call_records))).first()
            return row if row and row.ended_at else None

        row = await wait_for(done)
        assert (row.source, row.intake_line, row.answered_by) == ("ari", "12345", "agent01")
        assert (row.wait_seconds, row.duration_seconds, row.abandoned) == (12.38, 187.6, False)
        assert row.recording_url == f"{url}/ari/recordings/stored/call-1795399200.42/file"
        assert row.recording_seconds == 187.0
        await ws.close()


async def test_ari_abandoned_call_and_reconnect(make_client, service):
    async with contextlib.AsyncExitStack() as stack:
        ari = FakeAri()
        url = await ari.start(stack)
        client = await make_client(ari_url=url, ari_password="ari-secret", ari_reconnect_seconds=0.05)
        adapter = client.app[appkeys.CHANNELS]["phone"]
        await asyncio.wait_for(adapter.ari.connected.wait(), 5)
        # Garbage and malformed events are logged and skipped; the listener carries on.
        for line in ("not json", "[1, 2]", '{"type": "StasisStart"}', '{"type": "ChannelDestroyed", "channel": {}}'):
            ari.queue.put_nowait(line)
        ari.replay("ari_abandoned.jsonl")

        async def ended():
            async with service.engine.connect() as conn:
                row = (await conn.execute(sa.select(call_records))).first()
            return row if row and row.ended_at else None

        row = await wait_for(ended)
        assert (row.from_number, row.intake_line, row.abandoned, row.wait_seconds) == \
            ("+8657188886666", "12315", True, 40.05)


async def test_ari_wrong_credentials_keep_retrying_without_crashing(make_client, service):
    async with contextlib.AsyncExitStack() as stack:
        ari = FakeAri()
        url = await ari.start(stack)
        client = await make_client(ari_url=url, ari_password="wrong", ari_reconnect_seconds=0.05)
        adapter = client.app[appkeys.CHANNELS]["phone"]
        await asyncio.sleep(0.3)
        assert not adapter.ari.connected.is_set() and ari.connections == []
        assert not adapter._ari_task.done()  # noqa: SLF001 - the listener is still trying
