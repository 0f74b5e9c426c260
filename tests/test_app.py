"""The whole application as `hotline serve` builds it: every plugin together, on both backends."""

import asyncio

from hotline import appkeys
from hotline.app import PLUGINS, create_app
from tests.conftest import auth


async def test_all_plugins_together_a_ticket_becomes_findable_by_agent_assist(aiohttp_client, service, settings,
                                                                              clock, tokens, monkeypatch):
    monkeypatch.setenv("HOTLINE_JOBS_INDEX_INTERVAL", "0.1")
    monkeypatch.setenv("HOTLINE_JOBS_SWEEP_INTERVAL", "3600")
    app = create_app(settings, engine=service.engine, clock=clock, migrate=False)
    app[appkeys.SERVICE] = service
    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/mailbox")).status == 200
    assert (await client.get("/console")).status == 200
    body = {"channel": "phone", "request_type": "投诉", "citizen": {"phone": "13800135678"},
            "text": "西江区江滨路夜市油烟太大，楼上住户窗户都不敢开，晚上还很吵"}
    created = await (await client.post("/api/v1/tickets", json=body, headers=auth(tokens["agent"]))).json()
    assert created["routing"]["model_version"]  # the router ran at intake
    for _ in range(100):  # the scheduled index job catches the search index up with the new ticket
        result = await (await client.get("/api/v1/assist", params={"text": "江滨路夜市油烟扰民"},
                                         headers=auth(tokens["agent"]))).json()
        if created["number"] in [t["number"] for t in result["similar_tickets"]]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the new ticket never became searchable")
    assert result["routing"]["category"]
    spec = await (await client.get("/api/v1/openapi.json")).json()
    described = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    for route in app.router.routes():
        info = route.resource.get_info()
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        if route.method != "HEAD" and path.startswith("/api/"):
            assert (route.method, path) in described, path
            assert spec["paths"][path][route.method.lower()]["summary"], f"{route.method} {path} has no summary"
    assert len(PLUGINS) >= 8
