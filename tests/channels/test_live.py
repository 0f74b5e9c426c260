"""The agent websocket: who may connect, and what reaches connected agents."""

from __future__ import annotations

from hotline import appkeys
from hotline.app import create_app
from hotline.messages import Identity, InboundMessage


async def live_client(aiohttp_client, service, settings, clock):
    app = create_app(settings, engine=service.engine, clock=clock, migrate=False,
                     plugins=["hotline.api.setup:setup", "hotline.live:setup"])
    app[appkeys.SERVICE] = service
    return await aiohttp_client(app)


async def test_ticket_changes_and_alerts_reach_every_connected_agent(aiohttp_client, service, settings, clock,
                                                                     tokens):
    client = await live_client(aiohttp_client, service, settings, clock)
    sockets = []
    for role in ("agent", "dispatcher", "admin"):
        ws = await client.ws_connect("/api/v1/agents/ws", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert (await ws.receive_json(timeout=5)) == {"type": "hello", "user": f"t-{role}"}
        sockets.append(ws)
    hub = client.app[appkeys.AGENT_HUB]
    assert hub.connected == ["t-admin", "t-agent", "t-dispatcher"]
    result = await service.ingest(InboundMessage(channel="sms", external_id="live-1", text="路灯不亮",
                                                 sender=Identity(kind="phone", value="+8613800138000"),
                                                 received_at=service.now()))
    for ws in sockets:
        event = await ws.receive_json(timeout=5)
        assert (event["type"], event["number"], event["action"]) == ("ticket_event", result.ticket_number, "create")
    assert await hub.publish({"type": "alert", "text": "12345 排队超过 20 人"}, usernames={"t-dispatcher"}) == 1
    assert (await sockets[1].receive_json(timeout=5))["text"] == "12345 排队超过 20 人"
    await sockets[0].send_json({"type": "ping"})
    assert await sockets[0].receive_json(timeout=5) == {"type": "pong"}
    await sockets[0].close()
    assert await hub.publish({"type": "alert", "text": "x"}) == 2


async def test_only_agents_dispatchers_and_admins_may_connect(aiohttp_client, service, settings, clock, tokens):
    client = await live_client(aiohttp_client, service, settings, clock)
    assert (await client.get("/api/v1/agents/ws")).status == 401
    for role in ("housing", "leader"):
        resp = await client.get("/api/v1/agents/ws", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert resp.status == 403
