"""Plug jobs into the web app (plugin "hotline.jobs.web:setup") and the admin/console routes.

Without ``redis_url`` the app runs everything itself: an in-process queue,
the outbox relay and the periodic sweep. With ``redis_url`` it only relays
the outbox to RQ; ``hotline worker`` processes run the jobs and the sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from redis.exceptions import RedisError

from hotline import appkeys
from hotline.api.auth import require
from hotline.api.errors import ApiError, json_response
from hotline.validation import row_id
from hotline.jobs import callbacks, failures
from hotline.jobs.context import JobContext, JobSettings, periodic_jobs
from hotline.jobs.outbox import pause, relay_forever
from hotline.jobs.queue import InProcessQueue, RqQueue

log = logging.getLogger(__name__)

JOB_CONTEXT: web.AppKey[JobContext] = web.AppKey("job_context", JobContext)


async def periodic(queue, func: str, interval: float, stop: asyncio.Event) -> None:
    """Queue ``func`` every ``interval`` seconds until ``stop`` is set (in-process mode)."""
    while not stop.is_set():
        await queue.enqueue(func, job_id=func)
        await pause(stop, interval)


def make_context(app: web.Application, jobs: JobSettings | None = None) -> JobContext:
    settings = app[appkeys.SETTINGS]
    jobs = jobs or JobSettings()
    ctx = JobContext(settings, jobs, app[appkeys.ENGINE], app[appkeys.SERVICE], app.get(appkeys.CHANNELS) or {})
    ctx.search = app.get(appkeys.SEARCH)
    if settings.redis_url:
        ctx.queue = RqQueue.configured(settings.redis_url, jobs)
    else:
        ctx.queue = InProcessQueue(ctx, retry_delays=jobs.retry_delays)
    return ctx


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    ctx = make_context(app)
    app[JOB_CONTEXT] = ctx
    app[appkeys.QUEUE] = ctx.queue
    stop = asyncio.Event()
    loops = [asyncio.create_task(relay_forever(ctx.engine, ctx.queue, interval=ctx.jobs.relay_interval,
                                               lease=ctx.jobs.relay_lease, stop=stop))]
    if isinstance(ctx.queue, InProcessQueue):
        loops += [asyncio.create_task(periodic(ctx.queue, func, interval, stop))
                  for func, interval in periodic_jobs(ctx.jobs)]
    yield
    stop.set()  # let a relay pass in progress finish rather than cutting a query off
    done, pending = await asyncio.wait(loops, timeout=10)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if isinstance(ctx.queue, InProcessQueue):
        await ctx.queue.close()
    else:
        ctx.queue.close()


def _failure_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if (found := row_id(raw)) is None:
        raise ApiError(404, "not_found", f"失败任务 {raw} 不存在")
    return found


async def list_jobs(request: web.Request) -> web.Response:
    """List failed jobs (admin): ?failed=1 (default) or ?state=retried|discarded|all."""
    require(request, "admin")
    state = request.query.get("state", "failed")
    if state not in ("failed", "retried", "discarded", "all"):
        raise ApiError(422, "invalid_params", "state 只能是 failed、retried、discarded 或 all")
    items = await failures.list_failures(request.app[appkeys.ENGINE], state=None if state == "all" else state)
    return json_response({"items": items, "total": len(items)})


async def retry_job(request: web.Request) -> web.Response:
    """Queue a failed job again (admin)."""
    actor = require(request, "admin")
    failure_id = _failure_id(request)
    try:
        job_id = await failures.retry_failure(request.app[appkeys.ENGINE], request.app[appkeys.QUEUE],
                                              failure_id, actor.username)
    except failures.FailureNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except (OSError, RedisError) as exc:  # Redis down or unreachable
        raise ApiError(503, "queue_unavailable", f"任务队列不可用：{exc}") from None
    return json_response({"id": failure_id, "state": "retried", "job_id": job_id})


async def discard_job(request: web.Request) -> web.Response:
    """Discard a failed job (admin): it is kept for the record but no longer listed as failed."""
    actor = require(request, "admin")
    try:
        await failures.discard_failure(request.app[appkeys.ENGINE], _failure_id(request), actor.username)
    except failures.FailureNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return json_response({"id": _failure_id(request), "state": "discarded"})


async def callback_queue(request: web.Request) -> web.Response:
    """Callback tasks waiting for an agent to phone the citizen (回访队列)."""
    require(request, "agent", "dispatcher", "admin")
    async with request.app[appkeys.ENGINE].connect() as conn:
        items = await callbacks.phone_queue(conn)
    return json_response({"items": items, "total": len(items)})


async def callback_unanswered(request: web.Request) -> web.Response:
    """Record an unanswered callback phone call; after N calls the task is marked unreachable."""
    require(request, "agent", "dispatcher", "admin")
    raw = request.match_info["id"]
    if row_id(raw) is None:
        raise ApiError(404, "not_found", f"回访任务 {raw} 不存在")
    state = await callbacks.phone_unanswered(request.app[JOB_CONTEXT], int(raw))
    if state == "missing":
        raise ApiError(404, "not_found", f"回访任务 {raw} 不存在")
    return json_response({"id": int(raw), "state": state})


def setup(app: web.Application) -> None:
    app.router.add_routes([
        web.get("/api/v1/jobs", list_jobs),
        web.post("/api/v1/jobs/{id}/retry", retry_job),
        web.post("/api/v1/jobs/{id}/discard", discard_job),
        web.get("/api/v1/callbacks", callback_queue),
        web.post("/api/v1/callbacks/{id}/unanswered", callback_unanswered),
    ])
    app.cleanup_ctx.append(jobs_ctx)
