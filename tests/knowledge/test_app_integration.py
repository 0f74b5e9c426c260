"""The knowledge plugin inside the real app (default PLUGINS, the core's token auth)."""

from __future__ import annotations

import pytest

from hotline import appkeys
from hotline.app import create_app
from hotline.config import Settings
from hotline.users import create_user, issue_token
from tests.knowledge.helpers import load_demo


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None),
                     engine=engine, clock=clock)
    c = await aiohttp_client(app)
    await load_demo(engine, clock, app[appkeys.SEARCH])
    async with engine.begin() as conn:
        user_id = await create_user(conn, "agent7", "agent", clock.now())
        c.token = await issue_token(conn, user_id, clock.now())
    return c


async def test_search_and_assist_with_core_auth(client):
    auth = {"Authorization": f"Bearer {client.token}"}
    assert (await client.get("/api/v1/kb/search", params={"q": "公积金"})).status == 401
    resp = await client.get("/api/v1/kb/search", params={"q": "公积金贷款额度"}, headers=auth)
    assert resp.status == 200
    assert (await resp.json())["hits"][0]["title"] == "住房公积金贷款额度怎么计算"
    data = await (await client.get("/api/v1/assist", params={"text": "燃气泄漏了怎么办"}, headers=auth)).json()
    assert data["articles"][0]["title"] == "燃气泄漏应急处置"
    # the routing package's real suggester, read from app[ROUTER] per request
    assert data["routing"] is not None and "lead_unit" in data["routing"]
    assert client.app[appkeys.CHATBOT] is not None
