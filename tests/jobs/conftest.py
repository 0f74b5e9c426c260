"""Job fixtures: a harness per queue backend (in-process, RQ on the real redis-server) over a real store."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from hotline.config import Settings
from hotline.jobs.context import JobContext, JobSettings
from hotline.jobs.outbox import relay_once, undelivered_count
from hotline.jobs.queue import InProcessQueue, RqQueue
from tests.jobs.channels import recording_channels

FAST = dict(retry_delays=[0, 0], relay_lease=1.0, callback_wait_hours=24, callback_attempts=3)


class Harness:
    """Queue + context as the app (in-process) or an RQ worker process would have them."""

    def __init__(self, backend: str, ctx: JobContext, settings: Settings, clock) -> None:
        self.backend, self.ctx, self.settings, self.clock = backend, ctx, settings, clock

    @property
    def queue(self):
        return self.ctx.queue

    @property
    def channels(self):
        return self.ctx.channels

    def use_retry_delays(self, delays: list[float]):
        """Swap in a queue of the same backend with other retry delays."""
        if self.backend == "rq":
            self.ctx.queue.close()
            self.ctx.queue = RqQueue(self.settings.redis_url, name=self.ctx.jobs.queue_name, retry_delays=delays)
        else:
            self.ctx.queue = InProcessQueue(self.ctx, retry_delays=delays)
        return self.ctx.queue

    async def drain(self) -> None:
        """Run every queued job (and the jobs they queue) to completion."""
        if self.backend == "inprocess":
            await self.queue.join()
            return
        from hotline.jobs.worker import run_worker

        await asyncio.to_thread(run_worker, self.settings, burst=True, jobs=self.ctx.jobs, clock=self.clock,
                                channels=self.ctx.channels, relay=False, sweep=False)

    async def settle(self) -> None:
        """Relay the outbox and drain until nothing is left to deliver."""
        for _ in range(20):
            queued = await relay_once(self.ctx.engine, self.queue, lease=self.ctx.jobs.relay_lease)
            await self.drain()
            if queued == 0 and await undelivered_count(self.ctx.engine) == 0:
                return
        raise AssertionError("outbox did not settle")

    async def sweep(self) -> None:
        await self.queue.enqueue("hotline.jobs.tasks.sweep")
        await self.drain()
        await self.settle()


def make_harness(backend: str, service, clock, store_url: str, redis_url: str | None, **overrides) -> Harness:
    jobs = JobSettings(**{**FAST, **overrides, "queue_name": f"test-{uuid.uuid4().hex[:8]}"})
    settings = Settings(database_url=store_url, redis_url=redis_url if backend == "rq" else None)
    ctx = JobContext(settings, jobs, service.engine, service, recording_channels())
    if backend == "rq":
        ctx.queue = RqQueue(redis_url, name=jobs.queue_name, retry_delays=jobs.retry_delays)
    else:
        ctx.queue = InProcessQueue(ctx, retry_delays=jobs.retry_delays)
    return Harness(backend, ctx, settings, clock)


@pytest.fixture
def bare_service(engine, clock):
    """A ticket service over a migrated, empty store (the queue contract needs no city)."""
    from hotline.service import TicketService

    return TicketService(engine, clock=clock)


@contextlib.asynccontextmanager
async def harness_for(request, service, clock, store_url):
    """A harness of the parametrized backend ("inprocess" or "rq", the latter on the test redis-server)."""
    redis_url = request.getfixturevalue("redis_server").url if request.param == "rq" else None
    h = make_harness(request.param, service, clock, store_url, redis_url)
    try:
        yield h
    finally:
        if isinstance(h.queue, InProcessQueue):
            await h.queue.close()
        else:
            h.queue.close()


@pytest.fixture(params=["inprocess", "rq"])
async def queue_harness(request, bare_service, clock, store_url):
    async with harness_for(request, bare_service, clock, store_url) as h:
        yield h


async def quiet_outbox(service) -> None:
    """The demo city's sample tickets are history: start each test with nothing left to deliver."""
    import sqlalchemy as sa

    from hotline.tables import outbox

    async with service.engine.begin() as conn:
        await conn.execute(sa.update(outbox).where(outbox.c.delivered_at.is_(None)).values(delivered_at=service.now()))


@pytest.fixture(params=["inprocess", "rq"])
async def harness(request, service, clock, store_url):
    await quiet_outbox(service)
    async with harness_for(request, service, clock, store_url) as h:
        yield h


@pytest.fixture
async def inproc(service, clock, store_url):
    await quiet_outbox(service)
    h = make_harness("inprocess", service, clock, store_url, None)
    yield h
    await h.queue.close()
