"""An app with the SMS channel pointed at a fake gateway on loopback (demo city seeded)."""

from __future__ import annotations

import contextlib

import pytest

import channels.web
from channels.sms.settings import SmsSettings
from hotline import appkeys
from hotline.app import create_app
from tests.channels.sms.fakes import API_KEY, SECRET, FakeGateway


@pytest.fixture
async def gateway():
    async with contextlib.AsyncExitStack() as stack:
        yield await FakeGateway().start(stack)


@pytest.fixture
def make_client(aiohttp_client, service, settings, clock, gateway):
    async def make(jobs: bool = False, **overrides):
        """``jobs=True``: with the in-process jobs, which send the notices (the ticket number ...)."""
        values = dict(secret=SECRET, api_base=gateway.url, api_key=API_KEY, retry_backoff_seconds=0.01,
                      lines={"12345": "12345", "10690012345888": "mayor"})
        values.update(overrides)
        plugins = ["hotline.api.setup:setup", "hotline.live:setup"] + (["hotline.jobs.web:setup"] if jobs else [])
        app = create_app(settings, engine=service.engine, clock=clock, migrate=False, plugins=plugins)
        app[appkeys.SERVICE] = service
        channels.web.setup(app, only=["sms"], channel_settings={"sms": SmsSettings(**values)})
        return await aiohttp_client(app)

    return make
