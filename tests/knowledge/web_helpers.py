"""The knowledge routes in a small app of their own, for the HTTP tests (test_web, test_web_limits)."""

from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

import knowledge.web
from hotline import appkeys
from hotline.app import SERVER_ARGS
from hotline.config import Settings
from hotline.tables import units
from tests.knowledge.conftest import user_middleware
from tests.knowledge.helpers import TicketServiceDouble, load_demo

EDITOR = {"X-Test-User": "dispatcher:editor1"}
AGENT = {"X-Test-User": "agent:agent1"}


class RouterDouble:
    """TEST DOUBLE of the routing service's suggest()."""

    def __init__(self):
        self.calls = []

    async def suggest(self, text, *, intake_line, channel):
        self.calls.append((text, intake_line, channel))
        return {"category": "C0803", "lead_unit": "gas", "confidence": 0.91, "top3": []}


async def web_client(aiohttp_client, engine, clock, tmp_path):
    """A test client of an app with only the knowledge routes, the demo articles loaded."""
    app = web.Application(middlewares=[user_middleware()])
    app[appkeys.SETTINGS] = Settings(data_dir=tmp_path, elasticsearch_url=None, redis_url=None)
    app[appkeys.ENGINE] = engine
    app[appkeys.CLOCK] = clock
    app[appkeys.SERVICE] = TicketServiceDouble()
    app[appkeys.ROUTER] = RouterDouble()
    knowledge.web.setup(app)
    server = TestServer(app)
    await server.start_server(**SERVER_ARGS)  # the server options `hotline serve` uses
    c = await aiohttp_client(server)
    await load_demo(engine, clock, app[appkeys.SEARCH])
    return c


async def unit_header(client, code):
    async with client.app[appkeys.ENGINE].connect() as conn:
        unit_id = (await conn.execute(sa.select(units.c.id).where(units.c.code == code))).scalar_one()
    return {"X-Test-User": f"unit:{code}-editor:{unit_id}"}


async def json_of(resp, status: int = 200):
    """The response's JSON, after checking its status (the body is shown when it differs)."""
    assert resp.status == status, await resp.text()
    return await resp.json()
