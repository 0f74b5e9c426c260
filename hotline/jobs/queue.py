"""Two queue backends behind one small protocol: in-process (default) and RQ on Redis.

A job is referenced by its dotted path ("hotline.jobs.tasks.deliver_event")
and called as ``await func(ctx, *ids)``. Both backends retry a failing job
with the configured back-off; a job that fails its last attempt is recorded
in ``job_failures`` (see :mod:`hotline.jobs.failures`) for admins.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import logging
import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

log = logging.getLogger(__name__)

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (5, 30, 120)


def func_path(func: str | Callable) -> str:
    if isinstance(func, str):
        return func
    return f"{func.__module__}.{func.__qualname__}"


def resolve(path: str) -> Callable:
    module_name, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def _seconds(delay: float | dt.timedelta | None) -> float:
    if delay is None:
        return 0.0
    if isinstance(delay, dt.timedelta):
        return max(delay.total_seconds(), 0.0)
    return max(float(delay), 0.0)


class Queue(Protocol):
    backend: str

    async def enqueue(self, func: str | Callable, *ids: Any, delay: float | dt.timedelta | None = None,
                      job_id: str | None = None) -> str:
        """Queue ``func(ctx, *ids)``; returns the job id."""


class InProcessQueue:
    """Runs jobs as tasks on the running event loop (``hotline serve`` without Redis)."""

    backend = "inprocess"

    def __init__(self, ctx: Any = None, *, retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS) -> None:
        self.ctx = ctx  # a JobContext; set after construction because the context holds the queue
        self.retry_delays = tuple(retry_delays)
        self._tasks: dict[str, asyncio.Task] = {}
        self._running: set[str] = set()  # jobs executing now (not waiting for a delay or back-off)

    async def enqueue(self, func, *ids, delay=None, job_id=None) -> str:
        job_id = job_id or uuid.uuid4().hex
        running = self._tasks.get(job_id)
        if running is not None and not running.done():
            return job_id  # the same job is already waiting or running
        task = asyncio.get_running_loop().create_task(self._run(job_id, func_path(func), ids, _seconds(delay)))
        self._tasks[job_id] = task
        task.add_done_callback(lambda t, key=job_id: self._tasks.get(key) is t and self._tasks.pop(key))
        return job_id

    async def _run(self, job_id: str, path: str, ids: tuple, delay: float) -> None:
        from hotline.jobs.failures import record_failure

        if delay:
            await asyncio.sleep(delay)
        attempt = 0
        while True:
            attempt += 1
            self._running.add(job_id)
            try:
                await resolve(path)(self.ctx, *ids)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                error = traceback.format_exc()
            finally:
                self._running.discard(job_id)
            if attempt > len(self.retry_delays):
                log.error("job %s %s%r failed after %d attempts:\n%s", job_id, path, ids, attempt, error)
                await record_failure(self.ctx.engine, job_id=job_id, func=path, args=list(ids),
                                     backend=self.backend, attempts=attempt, error=error)
                return
            log.warning("job %s %s%r failed (attempt %d), retrying:\n%s", job_id, path, ids, attempt, error)
            await asyncio.sleep(self.retry_delays[attempt - 1])

    async def join(self) -> None:
        """Wait until every queued job (and the jobs those queue) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self, timeout: float = 10.0) -> None:
        """Drop waiting jobs; let running ones finish (up to ``timeout``) so no query is cut off midway."""
        for job_id, task in list(self._tasks.items()):
            if job_id not in self._running:
                task.cancel()
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class RqQueue:
    """Jobs on Redis through RQ; ``hotline worker`` (a :class:`HotlineWorker`) runs them."""

    backend = "rq"

    def __init__(self, redis_url: str, *, name: str = "hotline",
                 retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS) -> None:
        import redis
        import rq

        self.connection = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=10)
        self.retry_delays = tuple(retry_delays)
        self.rq_queue = rq.Queue(name, connection=self.connection, job_class=HotlineJob)

    @classmethod
    def configured(cls, redis_url: str, jobs) -> "RqQueue":
        """The queue the workers read (``HOTLINE_JOBS_QUEUE_NAME``) with the configured retry delays."""
        return cls(redis_url, name=jobs.queue_name, retry_delays=jobs.retry_delays)

    async def enqueue(self, func, *ids, delay=None, job_id=None) -> str:
        return await asyncio.to_thread(self.enqueue_sync, func, *ids, delay=delay, job_id=job_id)

    def enqueue_sync(self, func, *ids, delay=None, job_id=None) -> str:
        from rq import Retry

        options: dict[str, Any] = {"job_id": job_id, "meta": {"max_retries": len(self.retry_delays)},
                                   "failure_ttl": 7 * 86400}  # admins work from job_failures, not RQ's registry
        if self.retry_delays:
            options["retry"] = Retry(max=len(self.retry_delays), interval=[int(d) for d in self.retry_delays])
        seconds = _seconds(delay)
        if seconds:
            job = self.rq_queue.enqueue_in(dt.timedelta(seconds=seconds), func_path(func), *ids, **options)
        else:
            job = self.rq_queue.enqueue(func_path(func), *ids, **options)
        return job.id

    def close(self) -> None:
        self.connection.close()


class LoopThread:
    """An event loop on its own thread: a synchronous RQ worker runs async jobs on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hotline-jobs-loop", daemon=True)
        self._thread.start()

    def run(self, coro) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _job_class():
    from rq.job import Job

    class _HotlineJob(Job):
        """Calls ``func(ctx, *args)`` on the worker's loop; records the failure of the last attempt."""

        hotline_ctx: Any = None
        hotline_loop: LoopThread | None = None

        def _execute(self) -> Any:
            from hotline.jobs.failures import record_failure

            ctx, loop = self.hotline_ctx, self.hotline_loop
            if ctx is None or loop is None:
                raise RuntimeError("hotline job run outside a HotlineWorker")
            try:
                return loop.run(self.func(ctx, *self.args, **self.kwargs))
            except Exception:
                if not self.retries_left:
                    attempts = int((self.meta or {}).get("max_retries", 0)) + 1
                    loop.run(record_failure(ctx.engine, job_id=self.id, func=self.func_name,
                                            args=list(self.args), backend="rq", attempts=attempts,
                                            error=traceback.format_exc()))
                raise

    return _HotlineJob


HotlineJob = _job_class()


COMMAND_POLL_SECONDS = 1.0


def make_worker(queue: RqQueue, ctx: Any, loop: LoopThread, **kwargs):
    """An RQ SimpleWorker (no fork: the context is built once per process) bound to ``ctx``."""
    from rq import SimpleWorker
    from rq.timeouts import TimerDeathPenalty

    class HotlineWorker(SimpleWorker):
        death_penalty_class = TimerDeathPenalty

        def perform_job(self, job, rq_queue, execution):
            job.hotline_ctx, job.hotline_loop = ctx, loop
            return super().perform_job(job, rq_queue, execution)

        def _install_signal_handlers(self):
            if threading.current_thread() is threading.main_thread():
                super()._install_signal_handlers()

        def subscribe(self):
            # rq's command channel (kill, stop) is polled by a thread with sleep_time=60, and redis-py >= 8.2
            # waits for that thread on unsubscribe: a worker's shutdown (every --burst run) could take a
            # minute. The same subscription, polled every second.
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=COMMAND_POLL_SECONDS, daemon=True,
                exception_handler=getattr(self, "_pubsub_exception_handler", None))

    return HotlineWorker([queue.rq_queue], connection=queue.connection, job_class=HotlineJob, **kwargs)
