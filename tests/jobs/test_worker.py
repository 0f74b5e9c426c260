"""A real ``hotline worker`` process (its own context from Settings) and the app relaying to RQ."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid

import rq
import sqlalchemy as sa
from redis import Redis

from hotline.jobs.outbox import relay_once, undelivered_count
from hotline.jobs.queue import RqQueue
from hotline.jobs.tables import notifications
from hotline.messages import Identity
from tests.jobs.conftest import quiet_outbox
from tests.jobs.helpers import new_ticket, rows


async def test_worker_process_delivers_events_through_the_real_sms_adapter(service, store_url, redis_server):
    from tests.channels.sms.fakes import API_KEY, SECRET, FakeGateway

    await quiet_outbox(service)
    queue_name = f"w-{uuid.uuid4().hex[:8]}"
    queue = RqQueue(redis_server.url, name=queue_name)
    number = await new_ticket(service, identities=[Identity(kind="phone", value="+8613800138123")])
    assert await relay_once(service.engine, queue) == 1
    async with contextlib.AsyncExitStack() as stack:
        gateway = await FakeGateway().start(stack)
        env = {**os.environ, "HOTLINE_DATABASE_URL": store_url, "HOTLINE_REDIS_URL": redis_server.url,
               "HOTLINE_JOBS_QUEUE_NAME": queue_name, "HOTLINE_JOBS_QUIET_START": "00:00",
               "HOTLINE_JOBS_QUIET_END": "00:00", "HOTLINE_SMS_SECRET": SECRET,
               "HOTLINE_SMS_API_BASE": gateway.url, "HOTLINE_SMS_API_KEY": API_KEY}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline", "worker", "--burst", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, output.decode()
        assert "后台任务工作进程启动" in output.decode()
    assert await undelivered_count(service.engine) == 0
    [notice] = await rows(service.engine, notifications)
    assert (notice.channel, notice.state) == ("sms", "sent")
    [sent] = gateway.sent
    assert sent["to"] == "+8613800138123" and number in "".join(sent["parts"])
    queue.close()


async def test_app_with_redis_only_relays_to_rq(aiohttp_client, service, settings, clock, redis_server, monkeypatch):
    from hotline import appkeys
    from hotline.app import create_app
    from hotline.jobs.queue import RqQueue as Rq

    await quiet_outbox(service)
    queue_name = f"a-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("HOTLINE_JOBS_QUEUE_NAME", queue_name)
    monkeypatch.setenv("HOTLINE_JOBS_RELAY_INTERVAL", "0.05")
    settings.redis_url = redis_server.url
    app = create_app(settings, engine=service.engine, clock=clock, migrate=False,
                     plugins=["hotline.api.setup:setup", "hotline.jobs.web:setup"])
    app[appkeys.SERVICE] = service
    client = await aiohttp_client(app)
    assert isinstance(client.app[appkeys.QUEUE], Rq)
    await new_ticket(service, identities=[Identity(kind="phone", value="+8613800138124")])
    queued = rq.Queue(queue_name, connection=Redis.from_url(redis_server.url))
    for _ in range(100):
        if queued.count:
            break
        await asyncio.sleep(0.05)
    [job] = queued.jobs
    assert job.func_name == "hotline.jobs.tasks.deliver_event"
    # Nothing ran in the app: the event waits for a worker, not yet delivered, and no sweep was queued.
    assert await undelivered_count(service.engine) == 1
    async with service.engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(notifications))).scalar_one() == 0
    queued.empty()


def test_periodic_sweep_is_queued_once_per_interval_across_workers(redis_server):
    from types import SimpleNamespace

    from hotline.jobs.context import JobSettings
    from hotline.jobs.worker import Ticker

    connection = Redis.from_url(redis_server.url)
    for key in connection.scan_iter("hotline:sweep:*"):
        connection.delete(key)
    queue = RqQueue(redis_server.url, name=f"p-{uuid.uuid4().hex[:8]}")
    ctx = SimpleNamespace(jobs=JobSettings(sweep_interval=3600))
    tickers = [Ticker(ctx, None, queue, relay=False, sweep=True) for _ in range(3)]
    sweep = "hotline.jobs.tasks.sweep"
    assert [t._due(sweep, 3600) for t in tickers] == [True, False, False]  # noqa: SLF001
    # Each periodic job has its own slot: the search-index catch-up is due once too.
    assert [t._due("knowledge.jobs.index_pending_job", 3600) for t in tickers] == [True, False, False]  # noqa: SLF001
    queue.close()


async def test_long_running_worker_relays_sweeps_and_stops_on_sigterm(service, store_url, redis_server):
    """``hotline worker`` (no --burst): its ticker relays the outbox and queues the sweep; SIGTERM stops it."""
    import signal

    await quiet_outbox(service)
    queue_name = f"l-{uuid.uuid4().hex[:8]}"
    connection = Redis.from_url(redis_server.url)
    for key in connection.scan_iter("hotline:sweep:*"):
        connection.delete(key)
    env = {**os.environ, "HOTLINE_DATABASE_URL": store_url, "HOTLINE_REDIS_URL": redis_server.url,
           "HOTLINE_JOBS_QUEUE_NAME": queue_name, "HOTLINE_JOBS_RELAY_INTERVAL": "0.1",
           # The worker runs on the real clock: no quiet night hours, whatever time the tests run at.
           "HOTLINE_JOBS_QUIET_START": "00:00", "HOTLINE_JOBS_QUIET_END": "00:00"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "hotline", "worker", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await new_ticket(service, identities=[Identity(kind="phone", value="+8613800138125")])
        for _ in range(300):
            if await undelivered_count(service.engine) == 0:
                break
            await asyncio.sleep(0.1)
        assert await undelivered_count(service.engine) == 0
        # The event is delivered once its notice is recorded; the send itself is a job of its own.
        for _ in range(300):
            notices = await rows(service.engine, notifications)
            if notices and notices[0].state not in ("pending", "sending"):
                break
            await asyncio.sleep(0.1)
        [notice] = notices
        assert notice.state == "failed" and "未配置" in notice.error  # no SMS gateway configured here
        assert any(True for _ in connection.scan_iter("hotline:sweep:*"))  # the sweep was queued
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, output.decode()


def test_worker_leaves_its_command_channel_promptly(redis_server):
    """rq listens for commands (kill, stop) on a pub/sub channel and polled it once a minute; redis-py 8.2
    waits for that poll on unsubscribe, so a worker's shutdown (every --burst run) could hang for a minute."""
    from hotline.jobs.queue import LoopThread, make_worker

    queue = RqQueue(redis_server.url, name=f"u-{uuid.uuid4().hex[:8]}")
    loop = LoopThread()
    try:
        worker = make_worker(queue, ctx=None, loop=loop)
        worker.subscribe()
        time.sleep(0.3)
        # the interleaving that hangs, made certain: the listening thread sees the channel left before the
        # worker stops it, and goes back to waiting for a subscription
        worker.pubsub.unsubscribe()
        time.sleep(0.5)
        started = time.monotonic()
        worker.unsubscribe()
        assert time.monotonic() - started < 10
        assert not worker.pubsub_thread.is_alive()
    finally:
        loop.stop()
        queue.close()
