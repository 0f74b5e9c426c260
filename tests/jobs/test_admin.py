"""Failed jobs for admins: the API (admin only, JSON errors) and the CLI (Chinese messages, exit codes)."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from hotline import appkeys
from hotline.db import make_engine
from hotline.jobs import failures
from hotline.jobs.web import JOB_CONTEXT
from tests.conftest import auth
from tests.jobs import jobfuncs


async def _fail_one(engine, key: str) -> int:
    return await failures.record_failure(engine, job_id=f"job-{key}", func="tests.jobs.jobfuncs.mark", args=[key],
                                         backend="inprocess", attempts=3, error="Traceback ...\nRuntimeError: 坏了")


@pytest.fixture
async def jobs_client(aiohttp_client, service, settings, clock, tokens):
    from hotline.app import create_app

    app = create_app(settings, engine=service.engine, clock=clock, migrate=False,
                     plugins=["hotline.api.setup:setup", "hotline.jobs.web:setup"])
    app[appkeys.SERVICE] = service
    return await aiohttp_client(app)


async def test_api_lists_retries_and_discards_failed_jobs(jobs_client, service, tokens):
    first = await _fail_one(service.engine, "api-1")
    second = await _fail_one(service.engine, "api-2")
    resp = await jobs_client.get("/api/v1/jobs?failed=1", headers=auth(tokens["admin"]))
    assert resp.status == 200
    body = await resp.json()
    assert [i["id"] for i in body["items"]] == [second, first] and body["items"][0]["args"] == ["api-2"]

    resp = await jobs_client.post(f"/api/v1/jobs/{first}/retry", headers=auth(tokens["admin"]))
    assert resp.status == 200 and (await resp.json())["state"] == "retried"
    await jobs_client.app[appkeys.QUEUE].join()  # the app's in-process queue ran it
    ctx = jobs_client.app[JOB_CONTEXT]
    assert (await jobfuncs.counts(ctx, "api-1"))["mark"] == 1

    resp = await jobs_client.post(f"/api/v1/jobs/{second}/discard", headers=auth(tokens["admin"]))
    assert resp.status == 200
    resp = await jobs_client.get("/api/v1/jobs", headers=auth(tokens["admin"]))
    assert (await resp.json())["items"] == []
    resp = await jobs_client.post(f"/api/v1/jobs/{second}/retry", headers=auth(tokens["admin"]))
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"


@pytest.mark.parametrize("role", ["agent", "dispatcher", "leader", "housing"])
async def test_api_failed_jobs_are_admin_only(jobs_client, service, tokens, role):
    failure = await _fail_one(service.engine, "perm")
    resp = await jobs_client.get("/api/v1/jobs?failed=1", headers=auth(tokens[role]))
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "forbidden"
    resp = await jobs_client.post(f"/api/v1/jobs/{failure}/retry", headers=auth(tokens[role]))
    assert resp.status == 403
    resp = await jobs_client.get("/api/v1/jobs")
    assert resp.status == 401 and "error" in await resp.json()


async def test_api_unknown_failure_and_bad_state(jobs_client, tokens):
    for action in ("discard", "retry"):
        for bad in ("abc", "9223372036854775808", "2147483648", "０"):  # not a row id, or beyond the column
            resp = await jobs_client.post(f"/api/v1/jobs/{bad}/{action}", headers=auth(tokens["admin"]))
            assert resp.status == 404 and "不存在" in (await resp.json())["error"]["message"], bad
    resp = await jobs_client.post("/api/v1/callbacks/9223372036854775808/unanswered", headers=auth(tokens["agent"]))
    assert resp.status == 404 and "回访任务" in (await resp.json())["error"]["message"]
    resp = await jobs_client.get("/api/v1/jobs?state=bogus", headers=auth(tokens["admin"]))
    assert resp.status == 422 and "只能是" in await resp.text()  # readable Chinese, not \u escapes
    resp = await jobs_client.get("/api/v1/jobs?state=weird", headers=auth(tokens["admin"]))
    assert resp.status == 422 and (await resp.json())["error"]["code"] == "invalid_params"


def _cli(store_url, *args, redis_url=None, **extra_env):
    from hotline.cli import main

    env = {"HOTLINE_DATABASE_URL": store_url, "HOTLINE_REDIS_URL": redis_url or "", **extra_env}
    return CliRunner().invoke(main, list(args), env=env)


def _in_store(store_url, coro_fn):
    async def go():
        engine = make_engine(store_url)
        try:
            return await coro_fn(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_cli_lists_retries_and_discards(store_url):
    first = _in_store(store_url, lambda e: _fail_one(e, "cli-1"))
    second = _in_store(store_url, lambda e: _fail_one(e, "cli-2"))
    result = _cli(store_url, "jobs", "list", "--failed")
    assert result.exit_code == 0, result.output
    assert "tests.jobs.jobfuncs.mark('cli-1',)" in result.output and "RuntimeError: 坏了" in result.output

    result = _cli(store_url, "jobs", "retry", str(first))
    assert result.exit_code == 0, result.output
    assert f"失败任务 {first} 已重新执行" in result.output

    class Ctx:  # what jobfuncs.counts needs: an engine and a clock
        def __init__(self, engine):
            self.engine = engine

        def now(self):
            from hotline.db import utcnow
            return utcnow()

    assert _in_store(store_url, lambda e: jobfuncs.counts(Ctx(e), "cli-1"))["mark"] == 1

    result = _cli(store_url, "jobs", "discard", str(second))
    assert result.exit_code == 0 and f"失败任务 {second} 已丢弃" in result.output
    result = _cli(store_url, "jobs", "list", "--failed")
    assert result.exit_code == 0 and "没有失败任务" in result.output
    result = _cli(store_url, "jobs", "list", "--all")
    assert "retried" in result.output and "discarded" in result.output


def test_cli_retry_through_redis_queues_for_the_workers(store_url, redis_server):
    import rq
    from redis import Redis

    failure = _in_store(store_url, lambda e: _fail_one(e, "cli-rq"))
    result = _cli(store_url, "jobs", "retry", str(failure), redis_url=redis_server.url,
                  HOTLINE_JOBS_QUEUE_NAME="retry-q")
    assert result.exit_code == 0, result.output
    queued = rq.Queue("retry-q", connection=Redis.from_url(redis_server.url))  # the queue the workers read
    assert any(j.func_name == "tests.jobs.jobfuncs.mark" and j.args == ("cli-rq",) for j in queued.jobs)
    queued.empty()


def test_cli_bad_input_is_refused_in_chinese(store_url):
    for bad in ("abc", "9223372036854775808"):  # not a number, or beyond the id column (was a Python error)
        result = _cli(store_url, "jobs", "retry", bad)
        assert result.exit_code == 2 and "错误：失败任务编号必须是 1 到 2147483647 之间的数字" in result.output
    result = _cli(store_url, "jobs", "retry", "999")
    assert result.exit_code == 2 and "失败任务 999 不存在" in result.output
    result = _cli(store_url, "jobs", "discard", "999")
    assert result.exit_code == 2 and "不存在" in result.output
    result = _cli(store_url, "worker", "--burst")
    assert result.exit_code == 2 and "HOTLINE_REDIS_URL" in result.output


async def test_api_phone_callback_queue_and_unanswered_calls(jobs_client, service, tokens):
    from hotline.jobs.tables import callback_tasks
    from hotline.messages import Identity
    from tests.jobs.helpers import replied, rows

    number = await replied(service, channel="email", identities=[Identity(kind="email", value="lihua@example.cn")])
    for _ in range(100):  # the app's own relay and in-process queue create the task
        if await rows(service.engine, callback_tasks):
            break
        await asyncio.sleep(0.05)
    resp = await jobs_client.get("/api/v1/callbacks", headers=auth(tokens["agent"]))
    assert resp.status == 200
    [item] = (await resp.json())["items"]
    assert item["number"] == number
    states = []
    for _ in range(3):
        resp = await jobs_client.post(f"/api/v1/callbacks/{item['id']}/unanswered", headers=auth(tokens["agent"]))
        states.append((await resp.json())["state"])
    assert states == ["asked", "asked", "unreachable"]
    resp = await jobs_client.get("/api/v1/callbacks", headers=auth(tokens["agent"]))
    assert (await resp.json())["items"] == []
    resp = await jobs_client.get("/api/v1/callbacks", headers=auth(tokens["housing"]))
    assert resp.status == 403
    resp = await jobs_client.post("/api/v1/callbacks/999999/unanswered", headers=auth(tokens["agent"]))
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
