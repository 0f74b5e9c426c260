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


async def test_a_new_ticket_the_router_takes_for_an_emergency_alerts_agents(aiohttp_client, service, settings, clock,
                                                                           tokens):
    app = create_app(settings, engine=service.engine, clock=clock, migrate=False,
                     plugins=["hotline.api.setup:setup", "routing.web:setup", "hotline.live:setup"])
    app[appkeys.SERVICE] = service
    client = await aiohttp_client(app)
    ws = await client.ws_connect("/api/v1/agents/ws", headers={"Authorization": f"Bearer {tokens['agent']}"})
    assert (await ws.receive_json(timeout=5))["type"] == "hello"

    async def ingest(external_id, text):
        return await service.ingest(InboundMessage(channel="sms", external_id=external_id, text=text,
                                                   sender=Identity(kind="phone", value="+8613800138000"),
                                                   received_at=service.now()))

    calm = await ingest("e-0", "小区消防通道被占，物业不管")  # a hard negative: no alert
    gas = await ingest("e-1", "我家厨房燃气泄漏了，闻到很浓的煤气味，老人晕倒了")
    events = [await ws.receive_json(timeout=5) for _ in range(3)]
    assert [(e["type"], e.get("number")) for e in events] == [
        ("ticket_event", calm.ticket_number), ("ticket_event", gas.ticket_number), ("alert", gas.ticket_number)]
    assert events[2]["emergency_number"] == "119" and "119" in events[2]["message"]
    ticket = await service.get_ticket(gas.ticket_number)
    assert ticket["state"] == "new"  # never auto-dispatched: the agent transfers it
