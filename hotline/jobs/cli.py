"""CLI: ``hotline jobs list --failed | retry ID | discard ID`` and ``hotline worker``."""

from __future__ import annotations

import click

from hotline.cli import data_dir_option, fail, run, settings_from
from hotline.validation import MAX_ROW_ID, row_id


def _engine(settings):
    from hotline.db import make_engine

    if not settings.database_url:
        settings.ensure_data_dir()
    return make_engine(settings.resolved_database_url())


@click.group()
def jobs():
    """后台任务：查看、重试、丢弃失败任务。"""


@jobs.command("list")
@data_dir_option
@click.option("--failed", "state", flag_value="failed", default=True, help="只列出失败任务（默认）。")
@click.option("--all", "state", flag_value="all", help="列出全部记录（含已重试、已丢弃）。")
def list_cmd(data_dir, state):
    """列出失败任务。"""
    from hotline.jobs.failures import list_failures

    async def go():
        engine = _engine(settings_from(data_dir))
        try:
            return await list_failures(engine, state=None if state == "all" else state)
        finally:
            await engine.dispose()

    items = run(go())
    if not items:
        click.echo("没有失败任务")
        return
    for item in items:
        error = (item["error"].strip().splitlines() or [""])[-1]
        click.echo(f"{item['id']}\t{item['state']}\t{item['backend']}\t{item['func']}{tuple(item['args'])}"
                   f"\t尝试 {item['attempts']} 次\t{item['failed_at']}\t{error}")


def _failure_id(raw: str) -> int:
    if (found := row_id(raw)) is None:
        fail(f"失败任务编号必须是 1 到 {MAX_ROW_ID} 之间的数字：{raw}")
    return found


@jobs.command("retry")
@data_dir_option
@click.argument("failure_id")
def retry_cmd(data_dir, failure_id):
    """重新执行一个失败任务（有 Redis 时交给工作进程，否则在本进程内执行）。"""
    from hotline.jobs.failures import FailureNotFound, retry_failure

    fid = _failure_id(failure_id)
    settings = settings_from(data_dir)

    async def go():
        if settings.redis_url:
            from hotline.jobs.queue import RqQueue

            engine = _engine(settings)
            from hotline.jobs.context import JobSettings

            queue = RqQueue.configured(settings.redis_url, JobSettings())
            try:
                return await retry_failure(engine, queue, fid, "cli")
            finally:
                queue.close()
                await engine.dispose()
        from hotline.jobs.context import build_context
        from hotline.jobs.queue import InProcessQueue

        queue = InProcessQueue()
        ctx = await build_context(settings, queue=queue)
        queue.ctx = ctx
        try:
            job_id = await retry_failure(ctx.engine, queue, fid, "cli")
            await queue.join()
            return job_id
        finally:
            await ctx.close()

    try:
        job_id = run(go())
    except FailureNotFound as exc:
        fail(str(exc))
    except Exception as exc:
        fail(f"无法重试：{exc}", code=1)
    click.echo(f"失败任务 {fid} 已重新执行（任务 {job_id}）")


@jobs.command("discard")
@data_dir_option
@click.argument("failure_id")
def discard_cmd(data_dir, failure_id):
    """丢弃一个失败任务（保留记录，不再列为失败）。"""
    from hotline.jobs.failures import FailureNotFound, discard_failure

    fid = _failure_id(failure_id)

    async def go():
        engine = _engine(settings_from(data_dir))
        try:
            await discard_failure(engine, fid, "cli")
        finally:
            await engine.dispose()

    try:
        run(go())
    except FailureNotFound as exc:
        fail(str(exc))
    click.echo(f"失败任务 {fid} 已丢弃")


@click.command()
@data_dir_option
@click.option("--burst", is_flag=True, help="处理完队列中的任务后退出。")
@click.option("--no-sweep", is_flag=True, help="不在本进程触发定时督办巡检。")
def worker(data_dir, burst, no_sweep):
    """运行 RQ 后台任务工作进程（需要 HOTLINE_REDIS_URL）。"""
    from hotline.jobs.worker import run_worker

    settings = settings_from(data_dir)
    if not settings.redis_url:
        fail("未配置 HOTLINE_REDIS_URL：没有 Redis 时 hotline serve 在进程内执行后台任务，"
             "无需单独的工作进程")
    click.echo(f"后台任务工作进程启动（Redis：{settings.redis_url}）")
    run_worker(settings, burst=burst, sweep=not no_sweep)
