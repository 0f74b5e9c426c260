"""``hotline kb``: import, export, search, evaluate and reindex the knowledge base."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass

import click

from hotline.cli import data_dir_option, fail, run, settings_from
from knowledge.evaluate import InputError
from knowledge.import_cells import DEFAULT_EMPTY_VALUES


@dataclass
class CliUser:
    username: str = "cli"
    role: str = "admin"
    unit_id: int | None = None


def row_progress(label: str, total: int | None = None):
    def report(done: int) -> None:
        if done % 100 == 0 or done == total:
            suffix = f"/{total}" if total else ""
            click.echo(f"{label}：{done}{suffix}", err=True)
    return report


async def _open(settings, *, migrate: bool = True):
    from hotline.clock import SystemClock
    from hotline.db import make_engine
    from knowledge.search import make_index
    from knowledge.synonyms_store import load_synonyms

    if not settings.database_url:
        settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url())
    if migrate:
        from hotline.migrate import upgrade

        await upgrade(engine)
    index = make_index(settings, engine, synonyms=await load_synonyms(engine))
    await index.open()
    return engine, index, SystemClock()


@click.group("kb")
def kb() -> None:
    """知识库：导入、导出、检索、评测与重建索引。"""


@kb.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--id-col", required=True, help="编号列")
@click.option("--title-col", required=True, help="标题列")
@click.option("--body-col", required=True,
              help="正文列（可含 HTML，导入时清洗）；多列用逗号分隔并可加标签，如 \"说明,办理地点=handle_location\"，"
                   "按纯文本逐段拼接，列表值显示为项目列表")
@click.option("--category-col", default=None,
              help="分类列（分类编码或分类名称；分类表中没有的留空并提示；列表值取第一项）；不指定则已有知识的分类不变")
@click.option("--unit-col", default=None, help="责任单位列（单位编码或单位全称）；不指定或单元格为空则已有知识的单位不变")
@click.option("--unknown-unit", type=click.Choice(["fail", "empty"]), default="fail", show_default=True,
              help="责任单位列中的单位在单位表中不存在时：fail 该行不导入；empty 照常导入、不设责任单位"
                   "（已有知识保持原单位）并提示。缺少的单位都会汇总列出一次；新建单位请用 hotline units import")
@click.option("--keywords-col", default=None,
              help="关键词列（最多 30 个；超过 50 字的关键词略去并提示）。按单元格中出现的第一种分隔符拆分："
                   "换行、分号、逗号或竖线（；;，,|）；没有时按顿号（、）；再没有时按空格。"
                   "JSON 列表（[\"甲\",\"乙\"]）每项一个关键词，不再拆分。不指定则已有知识的关键词不变")
@click.option("--status-col", default=None,
              help="状态列（draft/in_review/published/expired/archived 或 草稿/待审核/已发布/已过期/已归档）："
                   "每条知识按该列改为相应状态；单元格为空的按默认处理。不能与 --draft 同用")
@click.option("--valid-from-col", default=None, help="生效日期列（ISO 日期或带时区的时间；空则清除）；不指定则不变")
@click.option("--valid-to-col", default=None, help="失效日期列（同上）；不指定则不变")
@click.option("--review-due-col", default=None, help="复审日期列（同上）；不指定则不变")
@click.option("--empty-values", default=",".join(DEFAULT_EMPTY_VALUES), show_default=True,
              help="视为空值的内容，逗号分隔：整格（或列表中的一项）等于其中之一（忽略首尾空格和末尾句号）即视为空："
                   "带标签的正文段落不写入，关键词、分类、单位留空。只比较整格，“无线下办理窗口”不算空。"
                   "编号、标题、状态和日期列不受影响。传 \"\" 则不把任何内容视为空")
@click.option("--draft", is_flag=True,
              help="导入为草稿，不直接发布：新知识为草稿；修改已发布的知识时，新内容作为待审核修改，"
                   "经平台编辑发布后才对外答复（其间原内容照常答复）；修改已过期的知识时转为待审核")
@data_dir_option
def import_cmd(file, id_col, title_col, body_col, category_col, unit_col, unknown_unit, keywords_col, status_col,
               valid_from_col, valid_to_col, review_due_col, empty_values, draft, data_dir):
    """从 CSV 或 JSONL 导入知识（按编号新增或更新）。

    只修改指定了列的字段；未指定列的字段，已有知识保持不变，新知识留空。
    CSV 单元格中的 JSON 字符串列表（如 ["居民身份证","户口簿"]）按列表处理，与 JSONL 相同。
    标准输出为完整结果（JSON）；标准错误输出进度、最多 20 条警告和 20 条失败，以及汇总。

    \b
    导入办事指南（正文由多列拼接，每列一段并加标签）：
      --id-col TASK_CODE --title-col TASK_NAME --unit-col DEPT_NAME --unknown-unit empty
      --body-col "accept_standard,办理地点=handle_location,法定时限=handle_time,
      承诺时限=handle_time_limit,咨询电话=consult_phone,所需材料=material_intro"
      --keywords-col service_object_name

    \b
    导回 hotline kb export 导出的文件（编号 #N 指本库第 N 条知识）：
      --id-col id --title-col title --body-col body --category-col category --unit-col unit
      --keywords-col keywords --status-col status --valid-from-col valid_from
      --valid-to-col valid_to --review-due-col review_due_at
    """
    from knowledge.articles import ArticleService
    from knowledge.import_cells import parse_empty_values
    from knowledge.importer import Columns, count_rows, import_file
    from knowledge.jobs import index_pending

    if draft and status_col:
        fail("--draft 与 --status-col 不能同时使用：状态列已写明每条知识的状态")

    async def go():
        try:
            total = count_rows(file)
        except InputError as exc:
            fail(exc.message if hasattr(exc, "message") else str(exc))
        engine, index, clock = await _open(settings_from(data_dir))
        try:
            service = ArticleService(engine, clock, index=None)  # indexed in one batch below
            report = await import_file(service, CliUser(), file, Columns(
                id_col, title_col, body_col, category_col, unit_col, keywords_col, status_col, valid_from_col,
                valid_to_col, review_due_col),
                publish=not draft, progress=row_progress("已处理", total),
                empty_values=parse_empty_values(empty_values), unknown_unit=unknown_unit)
            if report.created or report.updated:
                click.echo("正在更新检索索引…", err=True)
            await index_pending(engine, index)
            return report
        finally:
            await index.close()
            await engine.dispose()

    try:
        report = run(go())
    except InputError as exc:
        fail(str(exc))
    click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    _print_import_report(report, unknown_unit)
    if report.failed:
        sys.exit(1)


SHOWN_LINES = 20  # rows' warnings and failures printed on stderr (each); all of them are in the JSON
SHOWN_UNITS = 30  # missing units or categories listed on stderr


def print_missing(named: list[tuple[str, list[int]]], what: str, table: str, outcome: str, key: str) -> None:
    """Each unit or category the file names but the database lacks, once, the most used first."""
    click.echo(f"有 {len(named)} 个{what}在{table}中不存在，涉及 {sum(len(rows) for _, rows in named)} 行，{outcome}：",
               err=True)
    for name, rows in named[:SHOWN_UNITS]:
        click.echo(f"  {name}：{len(rows)} 行（首见第 {rows[0]} 行）", err=True)
    if len(named) > SHOWN_UNITS:
        click.echo(f"  ……另有 {len(named) - SHOWN_UNITS} 个{what}，完整列表见标准输出的 JSON（{key}）", err=True)


def _print_import_report(report, unknown_unit: str) -> None:
    """stderr: the rows' warnings and failures (at most SHOWN_LINES each), the missing units and
    categories once each, and a closing line with the counts."""
    failed, warnings = report.unsummarised()
    for lines, kind, form in ((warnings, "警告", "第 {} 行：{}"), (failed, "失败", "第 {} 行未导入：{}")):
        for number, message in lines[:SHOWN_LINES]:
            click.echo(form.format(number, message), err=True)
        if len(lines) > SHOWN_LINES:
            click.echo(f"……另有 {len(lines) - SHOWN_LINES} 条{kind}未显示，完整列表见标准输出的 JSON"
                       f"（{'warnings' if kind == '警告' else 'failed'}）", err=True)
    if report.missing_units:
        outcome = "这些行未导入" if unknown_unit == "fail" else "这些行已导入，未设置责任单位（已有知识保持原单位）"
        print_missing(report.missing_units_by_rows(), "单位", "单位表", outcome, "missing_units")
        advice = "请先用 hotline units import 导入这些单位（本命令不新建单位）后再导入"
        if unknown_unit == "fail":
            advice += "，或加 --unknown-unit empty 先导入为无责任单位的知识"
        click.echo(advice + "。", err=True)
    if report.missing_categories:
        print_missing(report.missing_categories_by_rows(), "分类", "分类表", "这些行已导入，分类留空",
                       "missing_categories")
        click.echo("如需保留这些分类，请先用 hotline categories import 导入分类表后再导入。", err=True)
    click.echo(f"导入完成：新建 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
               f"失败 {len(report.failed)}，警告 {len(report.warnings)}", err=True)


@kb.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--status", default=None, help="只导出该状态（draft、in_review、published、expired、archived 或中文名称）")
@data_dir_option
def export_cmd(file, status, data_dir):
    """导出知识到 CSV（UTF-8 带 BOM，Excel 可直接打开）或 JSONL。

    编号列为知识的外部编号，没有外部编号的（控制台新建的）写作 #本库编号；
    同时导出状态和生效、失效、复审日期，可用 hotline kb import 原样导回（见 import 的说明）。
    """
    from knowledge.exporter import export_file, status_code

    if status:
        try:
            status_code(status)
        except InputError as exc:
            fail(str(exc))

    async def go():
        from hotline.db import make_engine

        settings = settings_from(data_dir)
        engine = make_engine(settings.resolved_database_url())
        try:
            return await export_file(engine, file, status=status)
        finally:
            await engine.dispose()

    try:
        count = run(go())
    except InputError as exc:
        fail(str(exc))
    except OSError:  # a folder that does not exist, no permission, a full disk ...
        fail(f"无法写入文件 {file}：请检查目录是否存在、是否有写入权限")
    click.echo(f"已导出 {count} 条知识到 {file}", err=True)


@kb.command("search")
@click.argument("query")
@click.option("--kind", type=click.Choice(["article", "ticket"]), default=None)
@click.option("--category", default=None, help="分类编码（含其下级分类）")
@click.option("--unit", default=None, help="单位编码或全称")
@click.option("--status", default=None,
              help="知识状态（draft、in_review、published、expired、archived）或工单状态，多个用逗号分隔")
@click.option("--date-from", default=None, help="起始日期（如 2026-01-01，或带时间）")
@click.option("--date-to", default=None, help="截止日期（只写日期时含当天）")
@click.option("--limit", type=click.IntRange(1, 100), default=10)
@click.option("--json", "as_json", is_flag=True)
@data_dir_option
def search_cmd(query, kind, category, unit, status, date_from, date_to, limit, as_json, data_dir):
    """检索知识和工单（平台编辑视角：包括未发布的知识，结果中标明状态和是否在有效期内）。"""
    from knowledge.search.base import SearchFilters
    from knowledge.visibility import mark_in_force

    if not query.strip():
        fail("检索词不能为空")
    statuses = _search_statuses(status)
    since, until = _search_date(date_from, "--date-from"), _search_date(date_to, "--date-to", end_of_day=True)
    if since and until and since > until:
        fail("--date-from 不能晚于 --date-to")

    async def go():
        engine, index, clock = await _open(settings_from(data_dir))
        try:
            code = await _check_search_filters(engine, unit, category)
            result = await index.search(query, SearchFilters(
                kinds=(kind,) if kind else (), category=category, unit=code, status=statuses,
                date_from=since, date_to=until), limit=limit)
            await mark_in_force(engine, clock.now(), result.hits)
            return result
        finally:
            await index.close()
            await engine.dispose()

    try:
        result = run(go())
    except InputError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps({"query": query, **result.as_json()}, ensure_ascii=False))
        return
    if not result.hits:
        click.echo("没有找到相关结果。")
    for i, hit in enumerate(result.hits, 1):
        click.echo(f"{i}. [{hit.kind} {hit.ref_id}｜{_status_label(hit)}] {hit.title}  ({hit.score:.3f})\n"
                   f"   {_terminal_text(hit.highlight)}")


def _search_statuses(status: str | None) -> tuple[str, ...]:
    """The --status values (comma-separated codes, as the API's ``status``); exit 2 naming an unknown one."""
    from hotline.lifecycle import STATE_LABELS
    from knowledge.articles import STATUSES

    names = tuple(dict.fromkeys(s.strip() for s in (status or "").replace("，", ",").split(",") if s.strip()))
    for name in names:
        if name not in STATUSES and name not in STATE_LABELS:
            fail(f"未知的状态 {name}（知识状态为 {'、'.join(STATUSES)}；工单状态为 {'、'.join(STATE_LABELS)}）")
    return names


def _search_date(value: str | None, option: str, end_of_day: bool = False):
    from knowledge.dates import parse_when

    if not value:
        return None
    try:
        return parse_when(value.strip(), end_of_day=end_of_day)
    except ValueError:
        fail(f"{option} 不是合法日期（如 2026-01-31）")


async def _check_search_filters(engine, unit: str | None, category: str | None) -> str | None:
    """The unit's code (the unit given by code or full name); InputError for a unit or category code that
    does not exist (nothing could match it)."""
    import sqlalchemy as sa

    from hotline.tables import categories
    from knowledge.articles import unit_code_of
    from knowledge.errors import InvalidInput

    async with engine.connect() as conn:
        try:
            code = await unit_code_of(conn, unit) if unit else None
        except InvalidInput as exc:
            raise InputError(str(exc)) from None
        if category and (await conn.execute(
                sa.select(categories.c.id).where(categories.c.code == category))).scalar() is None:
            raise InputError(f"分类 {category} 不存在（请使用分类编码）")
    return code


def _status_label(hit) -> str:
    from hotline.lifecycle import STATE_LABELS
    from knowledge.articles import STATUS_LABELS

    labels = STATUS_LABELS if hit.kind == "article" else STATE_LABELS
    label = labels.get(hit.status, hit.status or "未知状态")
    if hit.kind == "article" and hit.extra.get("in_force") is False:
        label += "，不在有效期内"  # not yet valid, or past its end before the nightly sweep expires it
    return label


def _terminal_text(highlight: str) -> str:
    """A search highlight (escaped HTML, matches in <em>) for a terminal: matches in 【】."""
    import html

    return html.unescape(highlight.replace("<em>", "【").replace("</em>", "】"))


@kb.command("evaluate")
@click.option("--articles", required=True, type=click.Path(dir_okay=False))
@click.option("--id-col", required=True)
@click.option("--text-col", "text_cols", required=True, multiple=True,
              help="正文列；可重复或用逗号分隔多个列（同一编号的多行合并为一篇）")
@click.option("--title-col", default=None, help="标题列（可选）；同一编号各行的标题去重后每行一个，作为文章标题（如常见问题的各个问法）")
@click.option("--queries", required=True, type=click.Path(dir_okay=False))
@click.option("--query-col", required=True)
@click.option("--gold-col", required=True)
@click.option("--no-baseline", is_flag=True, help="不计算 BM25 基线")
@click.option("--semantic/--no-semantic", default=None,
              help="启用/不启用语义重排（默认按 HOTLINE_SEMANTIC 设置；需安装 hotline[semantic]）")
@click.option("--json", "as_json", is_flag=True)
def evaluate_cmd(articles, id_col, text_cols, title_col, queries, query_col, gold_col, no_baseline, semantic,
                 as_json):
    """评测检索效果：recall@1、recall@5、MRR、每次查询耗时（同时计算 BM25 基线）。"""
    from hotline.config import Settings
    from knowledge.evaluate import run_evaluation
    from knowledge.semantic import SemanticUnavailable

    settings = Settings()  # no database needed: the evaluation indexes the given files in memory
    semantic = settings.semantic if semantic is None else semantic
    cols = [c.strip() for spec in text_cols for c in spec.split(",") if c.strip()]
    try:
        result = run(run_evaluation(articles, id_col, cols, queries, query_col, gold_col, title_col=title_col,
                                    baseline=not no_baseline, log=lambda m: click.echo(m, err=True),
                                    semantic=settings.data_dir / "models" if semantic else None))
    except (InputError, SemanticUnavailable) as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    ranker = "ranker+semantic" if result["semantic"] else "ranker"
    for name, m in [(ranker, result), *([("bm25", result["bm25"])] if "bm25" in result else [])]:
        click.echo(f"{name}: recall@1={m['recall_at_1']:.3f} recall@5={m['recall_at_5']:.3f} "
                   f"mrr={m['mrr']:.3f} ms/query={m['ms_per_query']:.2f} (queries={m['queries']}, "
                   f"skipped={m['skipped']})")


@kb.command("reindex")
@data_dir_option
def reindex_cmd(data_dir):
    """重建检索索引（新索引建好后切换，期间检索不中断）。"""
    from knowledge.jobs import reindex

    async def go():
        engine, index, _ = await _open(settings_from(data_dir))
        try:
            t0 = time.perf_counter()
            click.echo("正在重建索引…", err=True)
            count = await reindex(engine, index, progress=lambda n: click.echo(f"已处理 {n} 条", err=True))
            return count, time.perf_counter() - t0
        finally:
            await index.close()
            await engine.dispose()

    count, seconds = run(go())
    click.echo(f"索引重建完成：{count} 条，用时 {seconds:.1f} 秒", err=True)


@kb.command("seed-demo")
@data_dir_option
@click.pass_context
def seed_demo_cmd(ctx, data_dir):
    """导入云州市示例知识库（需先导入示例单位和分类）。"""
    from knowledge.data import DEMO_ARTICLES

    ctx.invoke(import_cmd, file=str(DEMO_ARTICLES), id_col="id", title_col="title", body_col="body",
               category_col="category", unit_col="unit", keywords_col="keywords", draft=False, data_dir=data_dir)
