"""Asterisk ARI: read the events websocket and turn channel events into call events.

Runs as a background task while the app is up; reconnects after a drop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging

import aiohttp

from channels.base import ChannelError, UnknownEventType
from channels.phone.calls import CallRecorder
from channels.phone.events import parse_ari

log = logging.getLogger(__name__)


class AriListener:
    def __init__(self, http, settings, recorder: CallRecorder) -> None:
        self.http = http
        self.settings = settings
        self.recorder = recorder
        self.connected = asyncio.Event()

    @property
    def events_url(self) -> str:
        base = self.settings.ari_url.rstrip("/")
        return base.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/ari/events"

    def recording_url(self, ref: str) -> str:
        name = ref.split(":", 1)[1].rsplit(".", 1)[0]
        return f"{self.settings.ari_url.rstrip('/')}/ari/recordings/stored/{name}/file"

    async def run(self) -> None:
        """Listen until cancelled, reconnecting after errors."""
        params = {"app": self.settings.ari_app, "api_key": f"{self.settings.ari_user}:{self.settings.ari_password}"}
        while True:
            try:
                async with self.http.ws_connect(self.events_url, params=params, heartbeat=30) as ws:
                    self.connected.set()
                    log.info("ARI connected to %s", self.events_url)
                    async for msg in ws:
                        if msg.type == aiohttp.WSMsgType.TEXT:
                            await self.on_text(msg.data)
                        elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                            break
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                log.warning("ARI connection failed: %s", exc)
            self.connected.clear()
            await asyncio.sleep(self.settings.ari_reconnect_seconds)

    async def on_text(self, data: str) -> None:
        try:
            payload = json.loads(data)
            event = parse_ari(payload) if isinstance(payload, dict) else None
        except UnknownEventType as exc:
            log.debug("ARI event ignored: %s", exc.event_type)
            return
        except (ValueError, ChannelError) as exc:
            log.warning("bad ARI event ignored: %s", exc)
            return
        if event is None:
            return
        if event.recording_url and event.recording_url.startswith("ari-recording:"):
            event = dataclasses.replace(event, recording_url=self.recording_url(event.recording_url))
        try:
            await self.recorder.handle(event)
        except Exception:  # one bad event must not stop the listener
            log.exception("ARI event %s for %s failed", event.kind, event.call_id)
