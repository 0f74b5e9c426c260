"""``hotline routing ...``: train, evaluate, retrain, audit, rule import/export."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import click

from hotline.cli import data_dir_option, fail, run, settings_from
from routing.rules import RuleError, RuleTable

csv.field_size_limit(sys.maxsize)


def read_labelled(path: str, text_cols: str, label_col: str, type_col: str | None = None):
    """Texts (the text columns joined), labels and optional request types from a CSV file."""
    p = Path(path)
    if not p.is_file():
        fail(f"找不到数据文件：{path}")
    cols = [c.strip() for c in text_cols.split(",") if c.strip()]
    try:
        with open(p, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in [*cols, label_col, *([type_col] if type_col else [])] if c not in header]
            if missing:
                fail(f"数据文件缺少列：{'、'.join(missing)}（现有列：{'、'.join(header)}）")
            rows = [r for r in reader if (r.get(label_col) or "").strip()]
    except UnicodeDecodeError:
        fail("数据文件必须是 UTF-8 编码的 CSV")
    if not rows:
        fail("数据文件中没有带标签的行")
    texts = [" ".join((r.get(c) or "").strip() for c in cols) for r in rows]
    labels = [r[label_col].strip() for r in rows]
    types = [(r.get(type_col) or "").strip() for r in rows] if type_col else None
    return texts, labels, types


def examples(values, limit: int = 5) -> str:
    """A few distinct values for a message, an empty one shown as （空）."""
    distinct = list(dict.fromkeys(v or "（空）" for v in values))
    return "、".join(distinct[:limit]) + ("等" if len(distinct) > limit else "")


def warn(message: str) -> None:
    click.echo(f"警告：{message}", err=True)


def progress(label: str, after: str | None = None):
    """A stderr progress bar over the texts being segmented, then an optional note for the next stage."""
    def wrap(items):
        items = list(items)
        with click.progressbar(items, label=label, file=sys.stderr) as bar:
            yield from bar
        if after:
            click.echo(after, err=True)
    return wrap


def taxonomy_option(func):
    """``--data-dir`` for the commands that need no database: check labels against the stored taxonomy."""
    return click.option(
        "--data-dir", "data_dir", type=click.Path(file_okay=False), default=None,
        help="按此数据目录（设置 HOTLINE_DATABASE_URL 则按 PostgreSQL）数据库中的分类体系检查标签；"
             "不给则按内置的 categories.csv",
    )(func)


def label_taxonomy(data_dir: str | None):
    """The taxonomy labels are checked against: the stored one (the shipped categories.csv while its table is
    empty) with ``--data-dir``, else the shipped categories.csv; and how messages name it."""
    from routing.taxonomy import Taxonomy

    if data_dir is None:
        return Taxonomy.from_csv(), "categories.csv"
    from routing import store

    taxonomy = run(_with_engine(data_dir, store.load_taxonomy))
    return taxonomy, ("数据库中的分类表" if taxonomy.source == "database" else "categories.csv，数据库中的分类表为空")


def load_model(path: str):
    from routing.classifier import RoutingModel  # sklearn only for the commands that need it

    try:
        return RoutingModel.load(path)
    except FileNotFoundError:
        fail(f"找不到模型文件：{path}")
    except ValueError as exc:  # not a model file, or a format newer than this version reads
        fail(f"无法读取模型文件：{exc}")
    except Exception:
        fail(f"无法读取模型文件：{path}")


@click.group()
def routing() -> None:
    """智能分拨：训练与评估分类模型、管理分拨规则。"""


@routing.command()
@click.option("--data", "data", required=True, help="训练数据 CSV（UTF-8）")
@click.option("--text-col", required=True, help="文本列，多列用逗号分隔，会拼接")
@click.option("--label-col", required=True, help="分类标签列")
@click.option("--type-col", default=None, help="诉求类型列（咨询/求助/投诉/举报/建议/表扬），可选")
@click.option("--out", required=True, help="输出模型文件")
@click.option("--user-dict", multiple=True, help="jieba 用户词典（每行一个词），可多次指定")
@click.option("--c", "c_value", default=2.0, show_default=True, help="线性 SVM 的正则化参数 C")
@taxonomy_option
def train(data, text_col, label_col, type_col, out, user_dict, c_value, data_dir) -> None:
    """训练分类模型。"""
    from routing.build_default_model import default_user_words, seed_rows
    from routing.classifier import REQUEST_TYPES

    if not (math.isfinite(c_value) and c_value > 0):
        fail(f"--c 必须是大于 0 的数（现为 {c_value}）")
    texts, labels, types = read_labelled(data, text_col, label_col, type_col)
    if len(set(labels)) < 2:
        fail("至少需要两个不同的分类标签")
    taxonomy, source = label_taxonomy(data_dir)
    if unknown := taxonomy.unknown(labels):
        warn(f"{len(unknown)} 个分类标签不在分类体系（{source}）中：{examples(unknown, 10)}；"
             "模型建议这些分类时没有分类代码，也匹配不到按分类设置的分拨规则")
    if types is not None and (bad := [t for t in types if t not in REQUEST_TYPES]):
        warn(f"{len(bad)} 行的诉求类型不是 {'/'.join(REQUEST_TYPES)} 之一（如：{examples(bad)}），"
             "这些行不用于训练诉求类型")
    words = default_user_words()
    for path in user_dict:
        if not Path(path).is_file():
            fail(f"找不到用户词典：{path}")
        try:
            lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
        except UnicodeDecodeError:
            fail(f"用户词典必须是 UTF-8 编码：{path}")
        words += [w.split(" ")[0] for w in lines if w.strip() and not w.startswith("#")]  # as Segmenter.load_userdict
    seed = seed_rows()
    from routing.classifier import RoutingModel

    model = RoutingModel.train(texts, labels, types, user_words=words, C=c_value,
                               progress=progress("分词", "分词完成，正在训练分类器（含概率校准）……"),
                               type_examples=([r["text"] for r in seed], [r["request_type"] for r in seed]),
                               meta={"source": str(data), "label_col": label_col})
    try:
        path = model.save(out)
    except OSError as exc:
        fail(f"无法写入模型文件：{out}（{exc.strerror or exc}）")
    click.echo(f"已训练模型 {model.version}：{len(texts)} 条，{len(set(labels))} 个分类，已保存到 {path}", err=True)


@routing.command(name="evaluate")
@click.option("--model", "model_path", required=True, help="模型文件")
@click.option("--data", "data", required=True, help="带标签的评估数据 CSV")
@click.option("--text-col", required=True)
@click.option("--label-col", required=True)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@taxonomy_option
def evaluate_cmd(model_path, data, text_col, label_col, as_json, data_dir) -> None:
    """在带标签的数据上评估模型（宏平均 F1、准确率、各类指标、吞吐量）。"""
    model = load_model(model_path)
    texts, labels, _ = read_labelled(data, text_col, label_col)
    from routing.classifier import evaluate

    label_map, classes = None, set(model.category.classes)
    if not classes & set(labels):  # e.g. a model of codes (C010302) and data of first-level names (城乡建设)
        taxonomy, source = label_taxonomy(data_dir)
        level1 = {taxonomy.level1_code(x) for x in set(labels)} & {taxonomy.level1_code(x) for x in classes}
        if not level1 - {None}:
            fail(f"数据中的标签与模型的分类没有交集（数据标签如：{examples(sorted(set(labels)))}；"
                 f"模型分类如：{examples(sorted(classes))}），无法评估；请检查 --label-col 或换用对应的模型")
        label_map = lambda label: taxonomy.level1_code(label) or label  # noqa: E731
        click.echo(f"注意：数据中的标签都不是模型的分类，已按分类体系（{source}）把两者归到一级分类后比较",
                   err=True)
    result = evaluate(model, texts, labels, progress=progress("评估"), label_map=label_map)
    result["compared_at"] = "level1" if label_map else "label"
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"样本 {result['n']}  宏平均F1 {result['macro_f1']}  准确率 {result['accuracy']}  "
               f"吞吐 {result['texts_per_second']} 条/秒" + ("  （按一级分类比较）" if label_map else ""))
    for name, m in result["per_class"].items():
        click.echo(f"  {name}\tP={m['precision']}\tR={m['recall']}\tF1={m['f1']}\tn={m['support']}")
    echo_calibration(result["calibration"])


def echo_calibration(cal: dict) -> None:
    """The confidence table an operator sets the auto-dispatch threshold by (routing.calibration)."""
    if not cal["n"]:
        return
    from routing.settings import RoutingSettings

    current = RoutingSettings().auto_threshold
    click.echo(f"置信度校准：ECE {cal['ece']}（越接近 0，置信度越可信）")
    click.echo("  阈值\t达到阈值的占比\t其中分类正确")
    for row in cal["thresholds"]:
        mark = "  ← 当前自动分拨阈值" if abs(row["threshold"] - current) < 1e-9 else ""
        accuracy = "—" if row["accuracy"] is None else f"{row['accuracy']:.1%}"
        click.echo(f"  {row['threshold']:.2f}\t{row['share']:.1%}\t{accuracy}{mark}")
    click.echo("  （服务按承办单位合计同一单位各分类的置信度，实际自动分拨的比例不低于此表）")


@routing.command()
@data_dir_option
@click.option("--holdout", default=0.2, show_default=True, help="留出评估的比例")
@click.option("--activate", is_flag=True, help="新模型不差于当前模型时立即启用（留出集须足够大，见 --force）")
@click.option("--force", is_flag=True,
              help="留出集不足 30 条或不足 2 个一级分类时也允许 --activate（比较结果不可靠）")
@click.option("--with-seed/--no-seed", default=True, show_default=True, help="训练时加入内置种子数据")
def retrain(data_dir, holdout, activate, force, with_seed) -> None:
    """用历史工单和派单纠正重新训练，并与当前模型在留出集上比较。

    \b
    新模型总会保存到模型目录并登记；--activate 只在留出集至少有 30 条、2 个一级分类，
    且新模型的宏平均 F1 不低于当前模型时才启用（太小的留出集上的比较没有意义）。
    留出集太小时加 --force 仍可启用。
    """  # 30 and 2: routing.retrain.MIN_HELD_OUT_ROWS / MIN_HELD_OUT_CLASSES (not imported here: sklearn is slow)
    from routing import store
    from routing.build_default_model import seed_rows
    from routing.retrain import (MIN_HELD_OUT_CLASSES, MIN_HELD_OUT_ROWS, Example, NotEnoughData, load_history,
                                 retrain as do_retrain)

    if not 0 < holdout < 1:
        fail("--holdout 必须在 0 和 1 之间")
    settings = settings_from(data_dir)

    async def history():
        from hotline.db import make_engine
        from hotline.migrate import upgrade

        if not settings.database_url:
            settings.ensure_data_dir()
        engine = make_engine(settings.resolved_database_url())
        try:
            await upgrade(engine)
            async with engine.connect() as conn:  # level-1 comparisons follow the stored taxonomy, as the router
                taxonomy = await store.load_taxonomy(conn)
            return await load_history(engine), taxonomy, engine
        except Exception:
            await engine.dispose()
            raise

    examples, taxonomy, engine = run(history())
    try:
        if len(examples) < 10 or len({e.category for e in examples}) < 2:
            fail(f"历史数据不足：只有 {len(examples)} 条人工确认的已分类工单/纠正记录（至少需要 10 条、2 个分类）")
        current_path = store.active_model_path(settings.data_dir)
        current = load_model(str(current_path))
        seed = [Example(r["text"], r["category"], r["request_type"]) for r in seed_rows()] if with_seed else []
        try:
            new, report = do_retrain(examples, current, taxonomy, seed_examples=seed, holdout=holdout,
                                     progress=progress("分词", "分词完成，正在训练并在留出集上比较……"))
        except NotEnoughData as exc:
            fail(str(exc))
        folder = store.models_dir(settings.data_dir)
        path = new.save(folder / f"{new.version}.pkl")
        too_small = not report["held_out_sufficient"] and not force
        do_activate = activate and report["not_worse"] and not too_small
        if do_activate:  # before registering: a file that does not load is refused and not marked active
            try:
                store.activate_file(settings.data_dir, path)
            except store.ModelFileError as exc:
                fail(str(exc))

        async def register():
            async with engine.begin() as conn:
                await store.register_model(conn, version=new.version, path=path, metrics=report["new"],
                                           compared_with=report["current"], active=do_activate)

        run(register())
    finally:
        run(engine.dispose())  # on every way out, fail() included
    report |= {"model_file": str(path), "activated": do_activate}
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    n, c = report["new"], report["current"]
    click.echo(f"新模型 {new.version}：宏平均F1 {n['macro_f1']}，准确率 {n['accuracy']}；"
               f"当前模型 {current.version}：宏平均F1 {c['macro_f1']}，准确率 {c['accuracy']}", err=True)
    if activate and not do_activate:
        if not report["not_worse"]:
            fail("新模型比当前模型差，未启用", code=1)
        fail(f"留出评估集只有 {report['held_out_rows']} 条、{report['held_out_classes']} 个一级分类"
             f"（至少需要 {MIN_HELD_OUT_ROWS} 条、{MIN_HELD_OUT_CLASSES} 个一级分类），比较结果不可靠，未启用；"
             f"新模型已保存为 {path}。请积累更多人工确认的工单后再训练，或确认无误后加 --force 启用"
             f"（也可用 hotline routing models activate {new.version}）", code=1)


@routing.command()
@data_dir_option
@click.option("--since", default=None, help="开始日期 YYYY-MM-DD（含；默认结束日期前 --days 天）")
@click.option("--until", default=None, help="结束日期 YYYY-MM-DD（含；默认今天）")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3660), help="未给开始日期时统计的天数")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def audit(data_dir, since, until, days, as_json) -> None:
    """分拨建议质量审计：按模型版本和置信度统计建议是否被采纳、自动派单是否被退回，以及不同自动派单阈值的效果。"""
    from hotline.periods import local_period, today_in
    from routing.audit import routing_audit
    from routing.settings import RoutingSettings

    settings = settings_from(data_dir)
    try:
        start, end = local_period(since, until, settings.timezone, today_in(settings.timezone), days)
    except ValueError as exc:
        fail(str(exc))
    threshold = RoutingSettings().auto_threshold

    async def go(engine):
        return await routing_audit(engine, start, end, threshold=threshold)

    report = run(_with_engine(data_dir, go, transaction=False))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(audit_text(report, settings.timezone))


def audit_text(report: dict, zone: str) -> str:
    """The audit for a terminal: figures, then bar charts per confidence band and per threshold."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    def pct(value) -> str:
        return "—" if value is None else f"{value * 100:.1f}%"

    def bar(value) -> str:
        return "█" * round((value or 0) * 30)

    day = dt.timedelta(days=1)
    first = dt.datetime.fromisoformat(report["since"]).astimezone(ZoneInfo(zone)).date()
    last = (dt.datetime.fromisoformat(report["until"]).astimezone(ZoneInfo(zone)) - day).date()
    lines = [f"分拨建议质量审计 {first} 至 {last}",
             f"工单 {report['tickets']} 件，已派单 {report['dispatched']} 件；建议单位被采纳 {pct(report['unit_accuracy'])}，"
             f"前三建议含最终单位 {pct(report['top3_accuracy'])}，退回率 {pct(report['return_rate'])}",
             f"自动派单 {report['auto_dispatched']} 件，准确率 {pct(report['auto_precision'])}，被退回 {report['auto_returned']} 件"]
    if report["versions"]:
        lines += ["", "按模型版本："]
        lines += [f"  {v['model_version']:<24} 工单 {v['tickets']:>6}  已派单 {v['dispatched']:>6}  采纳 {pct(v['unit_accuracy']):>6}  "
                  f"自动派单准确率 {pct(v['auto_precision']):>6}" for v in report["versions"]]
    lines += ["", "按置信度（建议单位被采纳的比例）："]
    lines += [f"  {b['from']:.1f}–{b['to']:.1f}  {bar(b['unit_accuracy']):<30} {pct(b['unit_accuracy']):>6}  （{b['dispatched']} 件）"
              for b in report["bands"]]
    current = report.get("threshold")
    lines += ["", "若自动派单阈值为（覆盖已派单工单的比例 / 准确率）："]
    lines += [f"  {t['threshold']:.2f}{' *' if current is not None and abs(t['threshold'] - current) < 1e-9 else '  '} "
              f"覆盖 {pct(t['coverage']):>6} {bar(t['coverage']):<30} 准确率 {pct(t['precision']):>6}"
              for t in report["thresholds"]]
    if current is not None:
        lines.append(f"  （* 当前阈值 HOTLINE_ROUTING_AUTO_THRESHOLD={current}）")
    if report["confusions"]:
        lines += ["", "最常见的改派（建议 → 最终）："]
        lines += [f"  {c['suggested_name']} → {c['final_name']}：{c['count']} 件" for c in report["confusions"]]
    return "\n".join(lines)


@routing.group()
def rules() -> None:
    """分拨规则表的导入与导出。"""


async def _with_engine(data_dir, fn, *, transaction: bool = True):
    """Run ``fn`` on the configured (migrated) database: with a transaction's connection, or the engine."""
    from hotline.db import make_engine
    from hotline.migrate import upgrade

    settings = settings_from(data_dir)
    if not settings.database_url:
        settings.ensure_data_dir()
    engine = make_engine(settings.resolved_database_url())
    try:
        await upgrade(engine)
        if not transaction:
            return await fn(engine)
        async with engine.begin() as conn:
            return await fn(conn)
    finally:
        await engine.dispose()


@rules.command(name="import")
@click.argument("file")
@data_dir_option
@click.option("--dry-run", is_flag=True, help="只检查并显示将会新增、删除、修改哪些规则和每行的问题，不写入")
def import_rules(file, data_dir, dry_run) -> None:
    """从 CSV 导入分拨规则（整表替换）。

    \b
    category、request_type、area、intake_line、keywords 列中的多个值用 | 分隔
    （如 公积金|住房公积金，命中任意一个即可）；co_units 中的多个单位用 ; 分隔。
    用 ，,、；; 分隔或有空项（如 公积金|| 或只有 |）的行会被拒绝；不限条件请整格留空。
    没有任何条件的规则会匹配所有诉求，不在最后时会给出警告。
    """
    from routing import store
    from routing.rules import Vocabulary, import_report
    from routing.gazetteer import build_gazetteer
    from routing.settings import RoutingSettings

    if not Path(file).is_file():
        fail(f"找不到规则文件：{file}")
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail("规则文件必须是 UTF-8 编码（Excel 中请另存为“CSV UTF-8”）")

    gazetteer = build_gazetteer(RoutingSettings())

    async def go(conn):
        # What the router can match rules against: the same taxonomy (the stored one, the shipped categories.csv
        # while the table is empty) and gazetteer RoutingService loads.
        vocabulary = Vocabulary.of(await store.load_taxonomy(conn), gazetteer)
        known = await store.rule_units(conn)
        current = await store.load_rules(conn) or RuleTable.default()  # what the router uses now
        if dry_run:
            problems: list[str] = []
            try:
                table = RuleTable.from_csv_text(text, known, vocabulary, strict=True, problems=problems)
            except RuleError as exc:  # a header that cannot be read: no row can be
                table, problems = RuleTable(), [str(exc)]
            return import_report(table, current, problems, dry_run=True, check=store.check_rule_sizes)
        table = RuleTable.from_csv_text(text, known, vocabulary, strict=True)
        await store.replace_rules(conn, table, actor="cli")
        return import_report(table, current, dry_run=False)

    try:
        report = run(_with_engine(data_dir, go))
    except RuleError as exc:
        fail(f"规则表有误：{exc}")
    if dry_run:
        click.echo(import_text(report))
    for warning in report["warnings"]:
        warn(warning)
    if dry_run:
        for problem in report["problems"]:
            click.echo(f"错误：{problem}", err=True)
        if report["problems"]:
            fail(f"规则表有 {len(report['problems'])} 处错误（预演，未写入）")
        return
    click.echo(f"已导入 {report['rules']} 条分拨规则（运行中的服务会在几秒内自动加载）", err=True)


def import_text(report: dict) -> str:
    """A dry run's figures for a terminal: the rule count and the rules added, removed and changed."""
    def ids(values: list[int], limit: int = 20) -> str:
        return ("：" + "、".join(map(str, values[:limit])) + ("等" if len(values) > limit else "")) if values else ""

    c = report["changes"]
    lines = [f"预演（未写入）：导入后共 {report['rules']} 条规则" + ("（有错误的行未计入）" if report["problems"] else ""),
             f"  新增 {len(c['added'])} 条{ids(c['added'])}",
             f"  删除 {len(c['removed'])} 条{ids(c['removed'])}",
             f"  修改 {len(c['changed'])} 条{ids(c['changed'])}",
             f"  未变 {c['unchanged']} 条"]
    if c["reordered"]:
        lines.append("  规则顺序有变（先匹配的规则优先）")
    return "\n".join(lines)


@rules.command(name="export")
@data_dir_option
@click.option("--out", default=None, help="输出文件（默认输出到标准输出）")
def export_rules(data_dir, out) -> None:
    """导出分拨规则为 CSV（--out 写入的文件带 UTF-8 BOM，Excel 可直接打开）。"""
    from routing import store

    table = run(_with_engine(data_dir, store.rules_or_seed))
    text = table.to_csv_text()
    if out:
        try:
            Path(out).write_text("\ufeff" + text, encoding="utf-8")  # the BOM tells Excel it is UTF-8
        except OSError as exc:
            fail(f"无法写入文件：{out}（{exc.strerror or exc}）")
    else:
        click.echo(text, nl=False)


from routing import cli_models  # noqa: E402,F401  (registers "hotline routing models")
