"""An app with the phone channel (demo city seeded) and helpers for agent websockets."""

from __future__ import annotations

import pytest

import channels.web
from channels.phone.settings import PhoneSettings
from hotline import appkeys
from hotline.app import create_app
from tests.channels.phone.contract import TOKEN


@pytest.fixture
def make_client(aiohttp_client, service, settings, clock):
    async def make(**overrides):
        app = create_app(settings, engine=service.engine, clock=clock, migrate=False,
                         plugins=["hotline.api.setup:setup", "hotline.live:setup"])
        app[appkeys.SERVICE] = service
        channels.web.setup(app, only=["phone"], channel_settings={"phone": PhoneSettings(token=TOKEN, **overrides)})
        return await aiohttp_client(app)

    return make


async def agent_socket(client, token: str):
    ws = await client.ws_connect("/api/v1/agents/ws", headers={"Authorization": f"Bearer {token}"})
    hello = await ws.receive_json(timeout=5)
    assert hello["type"] == "hello"
    return ws
