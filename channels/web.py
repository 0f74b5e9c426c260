"""Plug the channels into the aiohttp app: one adapter per configured channel.

Adapters are built when ``setup(app)`` runs (their webhook routes must exist
before the app starts); the shared clients they use (the aiohttp session,
Redis, the chatbot, the agent hub) are filled into their :class:`ChannelDeps`
in a cleanup context once the app's clients exist.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping

from aiohttp import web
from pydantic_settings import BaseSettings

from channels.base import ChannelAdapter, ChannelDeps
from channels.registry import ADAPTERS, load_adapter
from hotline import appkeys

log = logging.getLogger(__name__)


def build_adapters(app: web.Application, deps: ChannelDeps, *, only: Iterable[str] | None = None,
                   channel_settings: Mapping[str, BaseSettings] | None = None) -> dict[str, ChannelAdapter]:
    """Instantiate every registered adapter whose settings are configured."""
    overrides = dict(channel_settings or {})
    adapters: dict[str, ChannelAdapter] = {}
    for name in only if only is not None else ADAPTERS:
        cls = load_adapter(name)
        settings = overrides.get(name) or cls.settings_class()
        if not cls.is_configured(settings):
            log.info("channel %s not configured; skipped", name)
            continue
        adapter = cls(deps, settings)
        adapter.setup(app)
        adapters[name] = adapter
    return adapters


def adapters_for_worker(service, http, redis=None, *, only: Iterable[str] | None = None,
                        channel_settings: Mapping[str, BaseSettings] | None = None) -> dict[str, ChannelAdapter]:
    """Configured adapters outside the web app (job workers sending notices): no routes, same clients."""
    deps = ChannelDeps(settings=service.settings, service=service, http=http, redis=redis)
    overrides = dict(channel_settings or {})
    adapters = {}
    for name in only if only is not None else ADAPTERS:
        cls = load_adapter(name)
        settings = overrides.get(name) or cls.settings_class()
        if cls.is_configured(settings):
            adapters[name] = cls(deps, settings)
    return adapters


def setup(app: web.Application, *, only: Iterable[str] | None = None,
          channel_settings: Mapping[str, BaseSettings] | None = None) -> None:
    """Plugin entry ("channels.web:setup"); tests may pass settings for chosen channels."""
    deps = ChannelDeps(settings=app[appkeys.SETTINGS], service=app[appkeys.SERVICE], http=None)
    app[appkeys.CHANNELS] = build_adapters(app, deps, only=only, channel_settings=channel_settings)

    async def channels_ctx(app: web.Application) -> AsyncIterator[None]:
        deps.service = app[appkeys.SERVICE]  # tests may swap the service after create_app
        deps.http = app[appkeys.HTTP]
        deps.redis = app.get(appkeys.REDIS)
        deps.extras.update(chatbot=app.get(appkeys.CHATBOT), agent_hub=app.get(appkeys.AGENT_HUB),
                           engine=app[appkeys.ENGINE], clock=app[appkeys.CLOCK])
        started = []
        try:
            for adapter in app[appkeys.CHANNELS].values():
                await adapter.start()
                started.append(adapter)
            yield
        finally:
            for adapter in reversed(started):
                await adapter.stop()

    async def late_clients(app: web.Application) -> None:
        # Plugins listed after this one may set these in their own cleanup_ctx.
        deps.extras.update(chatbot=app.get(appkeys.CHATBOT), agent_hub=app.get(appkeys.AGENT_HUB))

    app.cleanup_ctx.append(channels_ctx)
    app.on_startup.append(late_clients)
