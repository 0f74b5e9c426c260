"""The RQ worker process: builds its job context once, runs jobs, relays the outbox, ticks the sweep."""

from __future__ import annotations

import logging
import threading
import time

from hotline.config import Settings
from hotline.jobs.context import JobSettings, build_context, periodic_jobs
from hotline.jobs.outbox import relay_once
from hotline.jobs.queue import LoopThread, RqQueue, make_worker

log = logging.getLogger(__name__)

class Ticker(threading.Thread):
    """Relays the outbox and queues the periodic jobs (each once per interval across all workers)."""

    def __init__(self, ctx, loop: LoopThread, queue: RqQueue, *, relay: bool, sweep: bool) -> None:
        super().__init__(name="hotline-jobs-ticker", daemon=True)
        self.ctx, self.loop, self.queue = ctx, loop, queue
        self.relay, self.sweep = relay, sweep
        self.stopped = threading.Event()

    def _due(self, func: str, interval: float) -> bool:
        """True for exactly one worker per interval slot (a Redis SET NX per slot)."""
        interval = max(int(interval), 1)
        slot = int(time.time()) // interval
        name = "sweep" if func.endswith(".sweep") else func
        return bool(self.queue.connection.set(f"hotline:{name}:{slot}", "1", nx=True, ex=interval * 2))

    def run(self) -> None:
        next_check = 0.0
        while not self.stopped.is_set():
            try:
                if self.relay:
                    self.loop.run(relay_once(self.ctx.engine, self.queue, lease=self.ctx.jobs.relay_lease))
                if self.sweep and time.monotonic() >= next_check:
                    next_check = time.monotonic() + 1.0
                    for func, interval in periodic_jobs(self.ctx.jobs):
                        if self._due(func, interval):
                            self.queue.enqueue_sync(func, job_id=f"{func}-{int(time.time())}")
            except Exception as exc:
                log.warning("jobs ticker: %s", exc)
            self.stopped.wait(self.ctx.jobs.relay_interval)

    def stop(self) -> None:
        self.stopped.set()
        self.join(10)


def run_worker(settings: Settings, *, burst: bool = False, jobs: JobSettings | None = None, clock=None,
               channels: dict | None = None, relay: bool = True, sweep: bool = True) -> bool:
    """Run an RQ worker until stopped (or, with ``burst``, until the queue is empty)."""
    if not settings.redis_url:
        raise ValueError("redis_url is required for an RQ worker")
    jobs = jobs or JobSettings()
    queue = RqQueue.configured(settings.redis_url, jobs)
    loop = LoopThread()
    ctx = loop.run(build_context(settings, queue=queue, clock=clock, channels=channels, jobs=jobs))
    ticker = None
    if (relay or sweep) and not burst:
        ticker = Ticker(ctx, loop, queue, relay=relay, sweep=sweep)
        ticker.start()
    try:
        return make_worker(queue, ctx, loop).work(burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        if ticker is not None:
            ticker.stop()
        loop.run(ctx.close())
        loop.stop()
        queue.close()
