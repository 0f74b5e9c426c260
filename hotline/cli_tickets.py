"""``hotline tickets import``: bring a city's past tickets into a new install (:mod:`hotline.history`).

Conventions as ``hotline kb import``: progress, up to 20 row errors, the missing units and categories and
a closing line on stderr; the whole report as JSON on stdout (``--json``); exit 0 when every row was
imported or already there, 1 when some rows failed, 2 for bad input (nothing written).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from hotline.cli import data_dir_option, fail, run, settings_from


@click.group("tickets")
def tickets() -> None:
    """工单：导入历史工单。"""


@tickets.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--text-col", required=True,
              help="诉求内容列；多列用逗号分隔，按顺序分行拼接（如 留言主题,留言详情）")
@click.option("--title-col", default=None, help="标题列（不指定或为空则取诉求内容前 30 字）")
@click.option("--id-col", default=None,
              help="原系统工单编号列：同一来源中按编号去重；不指定则按标题、内容和受理时间去重")
@click.option("--created-col", default=None,
              help="受理时间列（如 2019/4/25 9:32:09、2019-04-25 09:32:09 或 ISO 时间；不带时区按本地时间）；"
                   "工单编号按受理当天编排。不指定则以导入时间为受理时间")
@click.option("--reply-col", default=None, help="答复内容列：有答复的工单记为承办单位的答复")
@click.option("--replied-col", default=None, help="答复（办结）时间列，格式同受理时间")
@click.option("--unit-col", default=None,
              help="承办单位列（单位编码或单位全称）；单位表中没有的照常导入、不设承办单位，并汇总列出")
@click.option("--category-col", default=None, help="分类列（分类编码或分类名称）；分类表中没有的留空并汇总列出")
@click.option("--type-col", default=None,
              help="诉求类型列（咨询、求助、投诉、举报、建议、表扬）；不指定或为空则为求助")
@click.option("--district-col", default=None, help="区县列")
@click.option("--intake-line", default="12345", show_default=True, help="受理热线号码")
@click.option("--source", default="history", show_default=True,
              help="来源名称（原系统）：编号在同一来源内唯一，重复导入同一来源的同一编号会跳过")
@click.option("--dry-run", is_flag=True, help="只检查并报告结果，不写入数据库")
@click.option("--json", "as_json", is_flag=True, help="在标准输出打印完整结果（JSON）")
@data_dir_option
def import_cmd(file, text_col, title_col, id_col, created_col, reply_col, replied_col, unit_col, category_col,
               type_col, district_col, intake_line, source, dry_run, as_json, data_dir):
    """从 CSV（UTF-8 或 GBK）或 JSONL 导入历史工单：每行一张已办结的工单。

    导入的工单渠道为“历史导入”，不通知市民和单位、不计时限、不做分拨；导入后写入检索索引，
    坐席辅助的“相似工单”即可查到它们及其答复和承办单位。可重复执行：已导入的行会跳过。
    """
    from hotline.history import MAX_SOURCE_CHARS, Columns
    from hotline.messages import INTAKE_LINES
    from knowledge.evaluate import InputError

    texts = [c.strip() for c in text_col.replace("，", ",").split(",") if c.strip()]
    if not texts:
        fail("--text-col 不能为空")
    if intake_line not in INTAKE_LINES:
        fail(f"未知的热线号码 {intake_line}（可用：{'、'.join(INTAKE_LINES)}）")
    source = source.strip()
    if not source or len(source) > MAX_SOURCE_CHARS or ":" in source:
        fail(f"--source 须为 1 至 {MAX_SOURCE_CHARS} 个字符，且不含冒号")
    cols = Columns(texts, title_col, id_col, created_col, reply_col, replied_col, unit_col, category_col, type_col,
                   district_col)
    settings = settings_from(data_dir)
    try:
        report = run(_import(settings, Path(file), cols, source, intake_line, dry_run))
    except InputError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    _print_report(report)
    if report.errors:
        sys.exit(1)


async def _import(settings, path: Path, cols, source: str, intake_line: str, dry_run: bool):
    from hotline.clock import SystemClock
    from hotline.db import make_engine
    from hotline.history import import_history
    from hotline.history_read import scan
    from hotline.migrate import upgrade
    from knowledge.cli import row_progress

    total, _ = scan(path)  # a missing or unreadable file ends the command before the database is opened
    engine = make_engine(settings.resolved_database_url())
    try:
        await upgrade(engine)
        now = SystemClock().now()
        report = await import_history(
            engine, path, cols, source=source, now=now, intake_line=intake_line, tz=settings.timezone,
            max_text_chars=settings.max_text_chars, dry_run=dry_run, progress=row_progress("已处理", total))
        if not dry_run:
            await _audit(engine, report, path, source, now)
            if report.imported:
                await _index(settings, engine)
        return report
    finally:
        await engine.dispose()


async def _audit(engine, report, path: Path, source: str, now) -> None:
    import sqlalchemy as sa

    from hotline.tables import audit_log

    async with engine.begin() as conn:
        await conn.execute(sa.insert(audit_log).values(
            actor="cli", action="tickets.import", object_type="ticket", object_id=None, at=now,
            detail={"file": path.name, "source": source, "rows": report.rows, "imported": report.imported,
                    "skipped_existing": report.skipped_existing, "errors": len(report.errors)}))


async def _index(settings, engine) -> None:
    """Catch the search index up now (the same pass the index job makes), so assist finds the tickets at
    once; when the search engine is down the job does it later (the tickets' updated_at is the import)."""
    from knowledge.jobs import index_pending
    from knowledge.search import make_index
    from knowledge.synonyms_store import load_synonyms

    click.echo("正在更新检索索引…", err=True)
    index = make_index(settings, engine, synonyms=await load_synonyms(engine))
    try:
        await index.open()
        await index_pending(engine, index)
    except Exception as exc:  # noqa: BLE001 - the tickets are committed; the index job catches up
        click.echo(f"警告：检索索引暂未更新（{exc}），后台索引任务会补上。", err=True)
    finally:
        await index.close()


def _print_report(report) -> None:
    from knowledge.cli import SHOWN_LINES, print_missing
    from knowledge.importer import by_rows

    for number, message in report.errors[:SHOWN_LINES]:
        click.echo(f"第 {number} 行未导入：{message}", err=True)
    if len(report.errors) > SHOWN_LINES:
        click.echo(f"……另有 {len(report.errors) - SHOWN_LINES} 条失败未显示，完整列表见 --json 的输出（errors）",
                   err=True)
    done = "将" if report.dry_run else "已"
    if report.unknown_units:
        print_missing(by_rows(report.unknown_units), "单位", "单位表", f"这些工单{done}导入，未设置承办单位",
                       "unknown_units")
        click.echo("如需关联承办单位，请先用 hotline units import 导入这些单位后再导入（建议先用 --dry-run 检查）；"
                   "已导入的工单再次导入时会跳过，不会补上单位。", err=True)
    if report.missing_categories:
        print_missing(by_rows(report.missing_categories), "分类", "分类表", f"这些工单{done}导入，分类留空",
                       "missing_categories")
        click.echo("如需保留这些分类，请先用 hotline categories import 导入分类表后再导入。", err=True)
    verb = "试运行完成（未写入）：可导入" if report.dry_run else "导入完成：导入"
    click.echo(f"{verb} {report.imported}，已存在跳过 {report.skipped_existing}，失败 {len(report.errors)}"
               f"（共 {report.rows} 行）", err=True)
