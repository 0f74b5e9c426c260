"""What every job runs with: settings, engine, ticket service, channel adapters and the queue.

The web app builds one from its own clients (:func:`hotline.jobs.web.setup`);
an RQ worker process builds its own once from :class:`hotline.config.Settings`
with :func:`build_context`. Nothing here is a module-level global.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.config import Settings

log = logging.getLogger(__name__)


class JobSettings(BaseSettings):
    """Jobs and supervision settings (prefix ``HOTLINE_JOBS_``)."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_JOBS_", extra="ignore")

    queue_name: str = "hotline"
    retry_delays: list[float] = [5, 30, 120]
    relay_interval: float = 1.0          # seconds between outbox relay passes
    relay_lease: float = 300.0           # an undelivered outbox row is handed out again after this
    sweep_interval: float = 60.0         # seconds between supervision sweeps
    escalate_after_hours: float = 4.0    # working hours a ticket stays red after the urge before escalation
    quiet_start: dt.time = dt.time(21, 0)  # no citizen notices from here ...
    quiet_end: dt.time = dt.time(8, 0)     # ... until here (local time)
    send_attempts: int = 3               # attempts per notification before it is marked failed
    callback_wait_hours: float = 24.0    # hours to wait for a satisfaction answer before asking again
    callback_attempts: int = 3           # unanswered requests before the callback is marked unreachable
    index_interval: float = 5.0          # seconds between search-index catch-up passes
    review_interval: float = 86400.0     # seconds between knowledge-base review sweeps
    chat_purge_interval: float = 3600.0  # seconds between purges of expired chatbot sessions (no Redis)
    channel_prune_interval: float = 3600.0  # seconds between purges of day-old channel guard rows


def periodic_jobs(jobs: JobSettings) -> list[tuple[str, float]]:
    """The scheduled jobs: (dotted function path, interval in seconds)."""
    return [
        ("hotline.jobs.tasks.sweep", jobs.sweep_interval),
        ("knowledge.jobs.index_pending_job", jobs.index_interval),
        ("knowledge.jobs.review_sweep_job", jobs.review_interval),
        ("knowledge.jobs.purge_chat_sessions_job", jobs.chat_purge_interval),
        ("channels.jobs.prune_job", jobs.channel_prune_interval),
    ]


@dataclass
class JobContext:
    settings: Settings
    jobs: JobSettings
    engine: AsyncEngine
    service: Any                         # hotline.service.TicketService
    channels: dict[str, Any]             # channel name -> adapter with async send(OutboundMessage)
    queue: Any = None                    # the Queue follow-up jobs go to
    search: Any = None                   # the app's search index (in-process); workers open their own
    _closers: list = field(default_factory=list)

    def now(self) -> dt.datetime:
        return self.service.now()

    async def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                await closer()
            except Exception:  # pragma: no cover - best effort on shutdown
                log.exception("closing job context")


def worker_channels(deps) -> dict[str, Any]:
    """Every registered and configured channel adapter, built without a web app (no webhooks)."""
    from channels.registry import ADAPTERS, load_adapter

    adapters: dict[str, Any] = {}
    for name in ADAPTERS:
        try:
            cls = load_adapter(name)
        except (ImportError, AttributeError) as exc:
            log.warning("channel %s unavailable in worker: %s", name, exc)
            continue
        settings = cls.settings_class()
        if cls.is_configured(settings):
            adapters[name] = cls(deps, settings)
    return adapters


async def build_context(settings: Settings, *, queue: Any = None, clock: Any = None,
                        channels: dict[str, Any] | None = None, jobs: JobSettings | None = None) -> JobContext:
    """A worker process's context: its own engine, service, HTTP session and channel adapters."""
    import aiohttp

    from channels.base import ChannelDeps
    from hotline.db import make_engine
    from hotline.service import TicketService

    engine = make_engine(settings.resolved_database_url())
    service = TicketService(engine, clock=clock, settings=settings)
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    ctx = JobContext(settings, jobs or JobSettings(), engine, service, {}, queue)
    redis_client = None
    if settings.redis_url:
        import redis.asyncio as aioredis

        redis_client = aioredis.from_url(settings.redis_url)
        ctx._closers.append(redis_client.aclose)
    ctx._closers.extend([engine.dispose, http.close])
    if channels is None:
        deps = ChannelDeps(settings=settings, service=service, http=http, redis=redis_client,
                           extras={"engine": engine, "clock": service.clock})
        channels = worker_channels(deps)
    ctx.channels = channels
    return ctx
