"""The agent websocket: who may connect, and what reaches connected agents."""

from __future__ import annotations

from hotline import appkeys
from hotline.app import create_app
from hotline.messages import Identity, InboundMessage


async def live_client(aiohttp_client, service, settings, clock, routing: bool = False):
    plugins = ["hotline.api.setup:setup", *(["routing.web:setup"] if routing else []), "hotline.live:setup"]
    app = create_app(settings, engine=service.engine, clock=clock, migrate=False, plugins=plugins)
    app[appkeys.SERVICE] = service
    return await aiohttp_client(app)


async def ingest(service, external_id: str, text: str):
    return await service.ingest(InboundMessage(channel="sms", external_id=external_id, text=text,
                                               sender=Identity(kind="phone", value="+8613800138000"),
                                               received_at=service.now()))


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
    result = await ingest(service, "live-1", "路灯不亮")
    for ws in sockets:
        event = await ws.receive_json(timeout=5)
        assert (event["type"], event["number"], event["action"]) == ("ticket_event", result.ticket_number, "create")
    assert await hub.publish({"type": "alert", "text": "12345 排队超过 20 人"}, usernames={"t-dispatcher"}) == 1
    assert (await sockets[1].receive_json(timeout=5))["text"] == "12345 排队超过 20 人"
    await sockets[0].send_json({"type": "ping"})
    assert await sockets[0].receive_json(timeout=5) == {"type": "pong"}
    await sockets[0].close()
    assert await hub.publish({"type": "alert", "text": "x"}) == 2


async def test_units_may_not_connect_and_leaders_get_only_what_is_meant_for_them(aiohttp_client, service, settings,
                                                                                 clock, tokens):
    client = await live_client(aiohttp_client, service, settings, clock)
    assert (await client.get("/api/v1/agents/ws")).status == 401
    resp = await client.get("/api/v1/agents/ws", headers={"Authorization": f"Bearer {tokens['housing']}"})
    assert resp.status == 403
    leader = await client.ws_connect("/api/v1/agents/ws", headers={"Authorization": f"Bearer {tokens['leader']}"})
    assert (await leader.receive_json(timeout=5)) == {"type": "hello", "user": "t-leader"}
    hub = client.app[appkeys.AGENT_HUB]
    assert await hub.publish({"type": "screen_pop", "from": "+8613800138000"}) == 0  # agents' business
    assert await hub.publish({"type": "alert", "text": "全市停水"}, roles=None) == 1
    assert (await leader.receive_json(timeout=5))["text"] == "全市停水"


async def test_a_new_ticket_the_router_takes_for_an_emergency_alerts_agents(aiohttp_client, service, settings, clock,
                                                                           tokens):
    client = await live_client(aiohttp_client, service, settings, clock, routing=True)
    ws = await client.ws_connect("/api/v1/agents/ws", headers={"Authorization": f"Bearer {tokens['agent']}"})
    assert (await ws.receive_json(timeout=5))["type"] == "hello"

    calm = await ingest(service, "e-0", "小区消防通道被占，物业不管")  # a hard negative: no alert
    gas = await ingest(service, "e-1", "我家厨房燃气泄漏了，闻到很浓的煤气味，老人晕倒了")
    events = [await ws.receive_json(timeout=5) for _ in range(3)]
    assert [(e["type"], e.get("number")) for e in events] == [
        ("ticket_event", calm.ticket_number), ("ticket_event", gas.ticket_number), ("alert", gas.ticket_number)]
    assert events[2]["emergency_number"] == "119" and "119" in events[2]["message"]
    ticket = await service.get_ticket(gas.ticket_number)
    assert ticket["state"] == "new"  # never auto-dispatched: the agent transfers it


async def test_a_sensitive_or_mass_incident_alerts_the_leaders_and_the_agents(aiohttp_client, service, settings, clock,
                                                                           tokens):
    client = await live_client(aiohttp_client, service, settings, clock, routing=True)
    sockets = {}
    for role in ("agent", "leader"):
        sockets[role] = await client.ws_connect("/api/v1/agents/ws", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert (await sockets[role].receive_json(timeout=5))["type"] == "hello"

    calm = await ingest(service, "s-0", "小区门口路灯坏了一周，晚上很黑")
    mass = await ingest(service, "s-1", "开发商延期交房两年，两百多户业主明天要去市政府门口拉横幅集体上访，电视台记者也会来")
    agent = []
    while not agent or agent[-1]["type"] != "alert":  # the calm one may be dispatched at once (another event)
        agent.append(await sockets["agent"].receive_json(timeout=5))
    assert [(e["type"], e.get("number")) for e in agent if e.get("action") in ("create", None)] == [
        ("ticket_event", calm.ticket_number), ("ticket_event", mass.ticket_number), ("alert", mass.ticket_number)]
    alert = await sockets["leader"].receive_json(timeout=5)  # no ticket events: only the alert
    assert alert == agent[-1] and alert["kind"] == "sensitive" and "群体性事件" in alert["reasons"]
    assert alert["message"].startswith("敏感/群体性事项（") and mass.ticket_number in alert["message"]
