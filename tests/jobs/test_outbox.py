"""The outbox relay: several relays never double-queue; Redis going down mid-run loses no event."""

from __future__ import annotations

import asyncio

import pytest
import redis
import sqlalchemy as sa

from hotline.jobs.outbox import relay_forever, relay_once, undelivered_count
from hotline.jobs.tables import outbox_claims
from hotline.messages import Identity
from hotline.tables import outbox
from tests.jobs.conftest import make_harness, quiet_outbox
from tests.jobs.helpers import new_ticket, rows


def phone(n: int) -> Identity:
    return Identity(kind="phone", value=f"+86139000099{n:02d}")


async def test_several_relays_queue_each_event_once(inproc, service):
    for n in range(5):
        await new_ticket(service, identities=[phone(n)])
    counts = await asyncio.gather(*(relay_once(service.engine, inproc.queue) for _ in range(4)))
    assert sum(counts) == 5
    await inproc.drain()
    assert await undelivered_count(service.engine) == 0
    assert sorted(m.recipient.value for m in inproc.channels["sms"].sent) == [phone(n).value for n in range(5)]


async def test_event_is_handed_out_again_after_the_lease_and_still_sent_once(service, clock, store_url,
                                                                              redis_server):
    await quiet_outbox(service)
    h = make_harness("rq", service, clock, store_url, redis_server.url)
    try:
        await new_ticket(service, identities=[phone(1)])
        assert await relay_once(service.engine, h.queue, lease=0.5) == 1
        h.queue.rq_queue.empty()  # Redis lost the queued job
        assert await relay_once(service.engine, h.queue, lease=0.5) == 0  # still leased
        await asyncio.sleep(0.6)
        assert await relay_once(service.engine, h.queue, lease=0.5) == 1
        await h.drain()
        [claim] = await rows(service.engine, outbox_claims, order=outbox_claims.c.outbox_id)
        assert claim.sends == 2
        assert [m.recipient.value for m in h.channels["sms"].sent] == [phone(1).value]
        assert await undelivered_count(service.engine) == 0
    finally:
        h.queue.close()


async def test_stopping_redis_mid_run_loses_no_event(service, clock, store_url, redis_server):
    await quiet_outbox(service)
    h = make_harness("rq", service, clock, store_url, redis_server.url)
    stop = asyncio.Event()
    relay = asyncio.create_task(relay_forever(service.engine, h.queue, interval=0.05, lease=h.ctx.jobs.relay_lease,
                                              stop=stop))
    try:
        await new_ticket(service, identities=[phone(1)])
        await wait_for(lambda: queued_or_delivered(service, 1))
        await h.drain()
        assert len(h.channels["sms"].sent) == 1

        # An event queued into Redis but not yet run when Redis dies (no persistence: the job is gone).
        await new_ticket(service, identities=[phone(2)])
        await wait_for(lambda: queued_or_delivered(service, 2))
        redis_server.stop()
        with pytest.raises(redis.exceptions.ConnectionError):
            h.queue.connection.ping()
        # Tickets keep being created while Redis is down; their events wait in the database.
        await new_ticket(service, identities=[phone(3)])
        await new_ticket(service, identities=[phone(4)])
        await asyncio.sleep(0.3)  # the relay keeps trying (and failing) meanwhile
        assert await undelivered_count(service.engine) == 3
        assert relay.done() is False

        async def released() -> bool:
            # The failed hand-overs are released, not lost. The relay keeps retrying, so a snapshot may
            # fall between a claim and its release: look until one falls between two attempts.
            async with service.engine.connect() as conn:
                claimed = set((await conn.execute(sa.select(outbox_claims.c.outbox_id))).scalars())
                waiting = set((await conn.execute(
                    sa.select(outbox.c.id).where(outbox.c.delivered_at.is_(None)))).scalars())
            return len(waiting - claimed) == 2

        await wait_for(released, timeout=5.0)

        redis_server.start()
        await asyncio.sleep(h.ctx.jobs.relay_lease)  # the lost job's lease runs out
        for _ in range(40):
            await h.drain()
            if await undelivered_count(service.engine) == 0:
                break
            await asyncio.sleep(0.1)
        assert await undelivered_count(service.engine) == 0
        assert sorted(m.recipient.value for m in h.channels["sms"].sent) == [phone(n).value for n in (1, 2, 3, 4)]
    finally:
        # Stopped as the app stops it (jobs_ctx): the pass under way ends, then the loop; a cancel in the middle
        # of a database call left the event loop's teardown waiting forever now and then (seen in CI).
        stop.set()
        await asyncio.wait([relay], timeout=15)
        relay.cancel()
        if redis_server.proc is None:
            redis_server.start()
        h.queue.close()


async def queued_or_delivered(service, count: int) -> bool:
    async with service.engine.connect() as conn:
        claimed = (await conn.execute(sa.select(sa.func.count()).select_from(outbox_claims))).scalar_one()
    return claimed >= count


async def wait_for(check, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")



class HoldingQueue:
    """A queue whose jobs never run (a worker that keeps failing them)."""

    def __init__(self) -> None:
        self.queued: list[tuple] = []

    async def enqueue(self, func, *ids, delay=None, job_id=None) -> str:
        self.queued.append((func, ids, job_id))
        return job_id or "job"


async def test_event_whose_delivery_gave_up_waits_for_an_admin_not_for_the_lease(inproc, service):
    from hotline.jobs import failures

    await new_ticket(service, identities=[phone(7)])
    [event_id] = [r.id for r in await rows(service.engine, outbox) if r.delivered_at is None]
    holding = HoldingQueue()
    assert await relay_once(service.engine, holding, lease=0.0) == 1
    assert await relay_once(service.engine, holding, lease=0.0) == 1  # lease over, never delivered: again
    failure_id = await failures.record_failure(  # the job failed every retry: recorded for the admin
        service.engine, job_id=f"outbox-{event_id}", func="hotline.jobs.tasks.deliver_event", args=[event_id],
        backend="inprocess", attempts=4, error="RuntimeError: 坏了")
    assert await relay_once(service.engine, holding, lease=0.0) == 0  # not a new failure every few minutes
    await failures.retry_failure(service.engine, inproc.queue, failure_id, "admin")
    await inproc.drain()
    assert await undelivered_count(service.engine) == 0
    assert [m.recipient.value for m in inproc.channels["sms"].sent] == [phone(7).value]


async def test_demo_seeding_under_a_running_relay_queues_nothing(engine, clock, settings):
    """The demo's made-up citizens must never get notices, even when the relay already runs (``serve --demo``)."""
    from hotline.demo import seed_demo
    from hotline.service import TicketService

    class RecordingQueue:
        def __init__(self):
            self.jobs = []

        async def enqueue(self, func, *args, job_id=None):
            self.jobs.append((func, args, job_id))

    svc = TicketService(engine, clock=clock, settings=settings)
    queue, stop = RecordingQueue(), asyncio.Event()
    relay = asyncio.create_task(relay_forever(engine, queue, interval=0, stop=stop))
    try:
        await seed_demo(svc, users=False, extras=False)
        await asyncio.sleep(0.05)
    finally:
        stop.set()
        await relay
    assert await rows(engine, outbox, order=outbox.c.id)  # the demo tickets did write their events
    assert queue.jobs == [] and await undelivered_count(engine) == 0
