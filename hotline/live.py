"""Live agent websocket: ``GET /api/v1/agents/ws`` and the hub that fans events out.

Channels publish screen pops (an incoming call with the caller's history),
call state changes and alerts; every ticket create/transition is pushed too
(``ticket_event``, via the service's after-commit hooks). Every connected
agent, dispatcher or admin receives them as JSON ``{"type": ..., ...}`` frames.
Leaders connect too, and receive only what is meant for them: the alert that a
new ticket is a sensitive or mass incident (群体性事件, many people, media).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

from aiohttp import WSMsgType, web

from hotline import appkeys
from hotline.users import Actor

log = logging.getLogger(__name__)
AGENT_ROLES = ("agent", "dispatcher", "admin")
LIVE_ROLES = (*AGENT_ROLES, "leader")
SEND_TIMEOUT = 2.0


class AgentHub:
    """The set of connected agent websockets; ``publish`` sends one event to all (or some) of them."""

    def __init__(self) -> None:
        self._clients: dict[web.WebSocketResponse, Actor] = {}

    @property
    def connected(self) -> list[str]:
        return sorted(actor.username for actor in self._clients.values())

    def add(self, ws: web.WebSocketResponse, actor: Actor) -> None:
        self._clients[ws] = actor

    def remove(self, ws: web.WebSocketResponse) -> None:
        self._clients.pop(ws, None)

    async def publish(self, event: dict, usernames: set[str] | None = None,
                      roles: tuple[str, ...] | None = AGENT_ROLES) -> int:
        """Send ``event`` to the connected users of ``roles`` (all roles: None; only ``usernames`` when given);
        returns how many got it."""
        data = json.dumps(event, ensure_ascii=False, default=str)
        targets = [ws for ws, actor in list(self._clients.items())
                   if (usernames is None or actor.username in usernames) and (roles is None or actor.role in roles)]
        results = await asyncio.gather(*(self._send(ws, data) for ws in targets))
        return sum(results)

    async def _send(self, ws: web.WebSocketResponse, data: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_str(data), SEND_TIMEOUT)
            return True
        except (ConnectionError, RuntimeError, asyncio.TimeoutError):
            self.remove(ws)
            return False

    async def ticket_event(self, event) -> None:
        """After-commit hook of the ticket service: every create/transition reaches the agents live.

        A new ticket the router takes for an emergency also raises an alert naming the number to transfer to;
        one it flags as a sensitive or mass incident raises an alert for the agents and the leaders.
        """
        await self.publish({"type": "ticket_event", "number": event.number, "action": event.action,
                            "from_state": event.from_state, "to_state": event.to_state, "actor": event.actor,
                            "at": event.at.isoformat()})
        routing = ((event.ticket or {}).get("routing") or {}) if event.action == "create" else {}
        if emergency := routing.get("emergency"):
            await self.publish({"type": "alert", "kind": "emergency", "number": event.number,
                                "emergency_number": emergency.get("number"),
                                "message": f"疑似紧急情况（{emergency.get('reason', '')}），请立即转 {emergency.get('number')}"})
        if sensitive := routing.get("sensitive"):
            reasons = "、".join(sensitive.get("reasons") or [])
            await self.publish({"type": "alert", "kind": "sensitive", "number": event.number,
                                "reasons": sensitive.get("reasons") or [],
                                "message": f"敏感/群体性事项（{reasons}）：工单 {event.number}，请值班领导关注"},
                               roles=None)

    async def close_all(self) -> None:
        for ws in list(self._clients):
            await ws.close()
        self._clients.clear()


async def agents_ws(request: web.Request) -> web.StreamResponse:
    """The console's live feed (screen pops, call states, alerts); agents, dispatchers, admins, and leaders
    (their alerts only)."""
    from hotline.api.auth import require

    actor = require(request, *LIVE_ROLES)
    hub: AgentHub = request.app[appkeys.AGENT_HUB]
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    hub.add(ws, actor)
    try:
        await ws.send_json({"type": "hello", "user": actor.username})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and _is_ping(msg.data):
                await ws.send_json({"type": "pong"})
    finally:
        hub.remove(ws)
    return ws


def _is_ping(data: str) -> bool:
    try:
        return json.loads(data).get("type") == "ping"
    except (ValueError, AttributeError):
        return False


def setup(app: web.Application) -> None:
    """Plugin entry ("hotline.live:setup")."""
    hub = AgentHub()
    app[appkeys.AGENT_HUB] = hub
    app.router.add_get("/api/v1/agents/ws", agents_ws)

    async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
        yield
        await hub.close_all()

    async def follow_tickets(app: web.Application) -> None:
        # On startup, so that a service swapped in after create_app (tests) is the one followed.
        app[appkeys.SERVICE].add_after_commit(hub.ticket_event)

    app.cleanup_ctx.append(hub_ctx)
    app.on_startup.append(follow_tickets)
