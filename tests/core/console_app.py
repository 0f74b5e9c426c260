"""The app the console tests drive: on loopback, with the demo city (units, categories, published demo articles)
and an agent, a housing-bureau unit user and a dispatcher named ``agent-<tag>``, ``housing-<tag>``, ``editor-<tag>``."""

from __future__ import annotations

from hotline import appkeys
from hotline.app import create_app
from hotline.config import Settings
from hotline.demo import seed_demo
from hotline.users import create_user
from tests.core.test_console_kb import require_node_and_jsdom

PLUGINS = ["hotline.api.setup:setup", "hotline.console.web:setup", "knowledge.web:setup", "routing.web:setup"]


async def start(aiohttp_server, tmp_path, tag: str):
    require_node_and_jsdom()
    app = create_app(Settings(data_dir=tmp_path / "data", redis_url=None, elasticsearch_url=None), plugins=PLUGINS)
    server = await aiohttp_server(app, host="127.0.0.1")
    service = app[appkeys.SERVICE]
    await seed_demo(service, users=False)  # with the demo articles, published
    async with service.engine.begin() as conn:
        await create_user(conn, f"agent-{tag}", "agent", service.now(), password="agent-pass-123")
        await create_user(conn, f"housing-{tag}", "unit", service.now(), unit_code="housing", password="unit-pass-123")
        await create_user(conn, f"editor-{tag}", "dispatcher", service.now(), password="editor-pass-123")
    return app, server, service
