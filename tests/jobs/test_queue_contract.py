"""One contract over both queue backends: run, retry with back-off, failures listed/retried/discarded, delay."""

from __future__ import annotations

import asyncio
import time

from hotline.jobs import failures
from tests.jobs import jobfuncs


async def test_job_runs_with_its_ids(queue_harness):
    harness = queue_harness
    job_id = await harness.queue.enqueue(jobfuncs.mark, "alpha")
    assert isinstance(job_id, str) and job_id
    await harness.drain()
    assert (await jobfuncs.counts(harness.ctx, "alpha"))["mark"] == 1


async def test_dotted_path_is_accepted(queue_harness):
    harness = queue_harness
    await harness.queue.enqueue("tests.jobs.jobfuncs.mark", "beta")
    await harness.drain()
    assert (await jobfuncs.counts(harness.ctx, "beta"))["mark"] == 1


async def test_failing_job_is_retried_until_it_succeeds(queue_harness):
    harness = queue_harness
    await harness.queue.enqueue(jobfuncs.flaky, "gamma", 2)
    await harness.drain()
    assert await jobfuncs.counts(harness.ctx, "gamma") == {"mark": 1, "attempt": 3}
    assert await failures.list_failures(harness.ctx.engine) == []


async def test_exhausted_job_is_listed_then_retried(queue_harness):
    harness = queue_harness
    await harness.queue.enqueue(jobfuncs.broken, "delta")
    await harness.drain()
    assert await jobfuncs.counts(harness.ctx, "delta") == {"mark": 0, "attempt": 3}  # 1 + 2 retries
    [failed] = await failures.list_failures(harness.ctx.engine)
    assert failed["func"] == "tests.jobs.jobfuncs.broken"
    assert failed["args"] == ["delta"]
    assert failed["backend"] == harness.backend
    assert failed["attempts"] == 3
    assert "坏了 delta" in failed["error"]

    await jobfuncs.fix(harness.ctx, "delta")
    await failures.retry_failure(harness.ctx.engine, harness.queue, failed["id"], "admin")
    await harness.drain()
    assert (await jobfuncs.counts(harness.ctx, "delta"))["mark"] == 1
    assert await failures.list_failures(harness.ctx.engine) == []
    [retried] = await failures.list_failures(harness.ctx.engine, state="retried")
    assert retried["resolved_by"] == "admin"


async def test_failed_job_can_be_discarded_once(queue_harness):
    harness = queue_harness
    await harness.queue.enqueue(jobfuncs.broken, "epsilon")
    await harness.drain()
    [failed] = await failures.list_failures(harness.ctx.engine)
    await failures.discard_failure(harness.ctx.engine, failed["id"], "admin")
    assert await failures.list_failures(harness.ctx.engine) == []
    try:
        await failures.retry_failure(harness.ctx.engine, harness.queue, failed["id"], "admin")
    except failures.FailureNotFound as exc:
        assert "已处理" in str(exc)
    else:
        raise AssertionError("a discarded job was retried")


async def test_delayed_job_waits(queue_harness):
    harness = queue_harness
    await harness.queue.enqueue(jobfuncs.mark, "zeta", delay=1.5)
    if harness.backend == "inprocess":
        await asyncio.sleep(0.3)
    else:
        await harness.drain()
    assert (await jobfuncs.counts(harness.ctx, "zeta"))["mark"] == 0
    await asyncio.sleep(1.5)
    await harness.drain()
    assert (await jobfuncs.counts(harness.ctx, "zeta"))["mark"] == 1


async def test_success_does_not_wait_for_any_back_off(queue_harness):
    harness = queue_harness
    harness.use_retry_delays([30, 30])
    started = time.monotonic()
    await harness.queue.enqueue(jobfuncs.mark, "eta")
    await asyncio.wait_for(harness.drain(), 20)
    assert (await jobfuncs.counts(harness.ctx, "eta"))["mark"] == 1
    assert time.monotonic() - started < 20


async def test_retry_waits_for_its_back_off(queue_harness):
    harness = queue_harness
    harness.use_retry_delays([1.5])
    await harness.queue.enqueue(jobfuncs.flaky, "theta", 1)
    if harness.backend == "inprocess":
        await asyncio.sleep(0.5)
    else:
        await harness.drain()
    assert await jobfuncs.counts(harness.ctx, "theta") == {"mark": 0, "attempt": 1}
    await asyncio.sleep(1.5)
    await harness.drain()
    assert await jobfuncs.counts(harness.ctx, "theta") == {"mark": 1, "attempt": 2}
