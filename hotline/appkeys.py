"""Typed keys for everything the aiohttp application carries.

Clients are created in the app factory (``hotline.app.create_app``) or in a
package's ``setup(app)`` through ``cleanup_ctx``; handlers read them with
``request.app[KEY]``. No module-level globals hold connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from hotline.clock import Clock
    from hotline.config import Settings
    from hotline.service import TicketService

SETTINGS: web.AppKey["Settings"] = web.AppKey("settings")
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine", AsyncEngine)
CLOCK: web.AppKey["Clock"] = web.AppKey("clock")
SERVICE: web.AppKey["TicketService"] = web.AppKey("service")
# Filled by optional packages in their setup(app); read with app.get(KEY).
ROUTER: web.AppKey[Any] = web.AppKey("router")          # routing suggester
SEARCH: web.AppKey[Any] = web.AppKey("search")          # knowledge search index
QUEUE: web.AppKey[Any] = web.AppKey("queue")            # job queue
REDIS: web.AppKey[Any] = web.AppKey("redis")            # redis.asyncio client when configured
HTTP: web.AppKey[Any] = web.AppKey("http")              # shared aiohttp.ClientSession for outbound calls
AGENT_HUB: web.AppKey[Any] = web.AppKey("agent_hub")    # live websocket fan-out to agents
CHATBOT: web.AppKey[Any] = web.AppKey("chatbot")        # knowledge.chatbot.Chatbot
CHANNELS: web.AppKey[Any] = web.AppKey("channels")      # channels registry: name -> adapter instance
