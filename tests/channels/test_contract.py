"""The shared contract every adapter in ``channels.registry.ADAPTERS`` must pass.

See ``tests/channels/contract_case.py`` for what each channel's tests provide.
"""

from __future__ import annotations

import contextlib
import importlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

import channels.web
from channels.base import ChannelAdapter, SendResult
from channels.registry import ADAPTERS, load_adapter
from hotline import appkeys
from hotline.app import create_app
from hotline.config import SETTINGS_CLASSES, Settings
from hotline.tables import ticket_messages, tickets
from tests.channels.contract_case import ContractCase

HERE = Path(__file__).parent


def case_for(name: str) -> ContractCase:
    case = importlib.import_module(f"tests.channels.{name}.contract").CASE
    assert isinstance(case, ContractCase) and case.name == name
    return case


async def counts(engine) -> tuple[int, int]:
    async with engine.connect() as conn:
        messages = (await conn.execute(sa.select(sa.func.count()).select_from(ticket_messages))).scalar_one()
        created = (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar_one()
    return messages, created


async def send(client, req):
    resp = await client.request(req.method, req.path, data=req.body, headers=req.headers, params=req.params)
    return resp.status, await resp.read()


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_adapter_class_and_fixtures(name):
    cls = load_adapter(name)
    assert issubclass(cls, ChannelAdapter)
    assert cls.name == name
    settings_path = f"{cls.settings_class.__module__}:{cls.settings_class.__name__}"
    assert settings_path in SETTINGS_CLASSES
    prefix = cls.settings_class.model_config.get("env_prefix")
    assert prefix == f"HOTLINE_{name.upper()}_"
    fixtures = HERE / name / "fixtures"
    assert fixtures.is_dir() and any(p.is_file() for p in fixtures.rglob("*")), f"{fixtures} is empty"
    case_for(name)


@pytest.mark.parametrize("name", sorted(ADAPTERS))
async def test_adapter_contract(name, engine, clock, tmp_path, aiohttp_client):
    case = case_for(name)
    async with contextlib.AsyncExitStack() as stack:
        channel_settings = await case.make_settings(stack)
        app = create_app(Settings(data_dir=tmp_path / "data"), engine=engine, clock=clock,
                         plugins=["hotline.api.setup:setup", "hotline.live:setup"])
        before = {r.canonical for r in app.router.resources()}
        channels.web.setup(app, only=[name], channel_settings={name: channel_settings})
        added = {r.canonical for r in app.router.resources()} - before
        assert added, f"{name} added no webhook route"
        assert all(path == f"/channels/{name}" or path.startswith(f"/channels/{name}/") for path in added), added
        client = await aiohttp_client(app)
        adapter = app[appkeys.CHANNELS][name]
        assert adapter.name == name

        status, body = await send(client, case.bad_signature_request())
        assert status in (401, 403), (status, body)
        error = json.loads(body)["error"]
        assert error["code"] and error["message"]
        assert await counts(engine) == (0, 0)

        status, body = await send(client, case.unknown_event_request())
        case.check_ack(status, body)
        assert await counts(engine) == (0, 0)

        status, body = await send(client, case.valid_request())
        assert 200 <= status < 300, (status, body)
        await adapter.settle()
        await case.check_valid(engine)

        result = await adapter.send(case.outbound())
        assert isinstance(result, SendResult)
        assert result.ok is case.send_ok, result
