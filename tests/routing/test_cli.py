import asyncio
import csv
import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hotline.db import make_engine
from hotline.migrate import upgrade
from routing import store
from routing.build_default_model import seed_rows
from routing.classifier import RoutingModel
from hotline.cli import main
from routing.rules import RuleTable
from routing.tables import routing_corrections, routing_models
from tests.datadir import init_data_dir
from tests.routing.conftest import demo_city, insert_categories, insert_ticket, insert_unit


@pytest.fixture
def seed_csv(tmp_path):
    """The seed set as a user's export: title/text columns, a first-level label and a type column."""
    path = tmp_path / "history.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["标题", "内容", "一级分类", "诉求类型"])
        for r in seed_rows():
            w.writerow([r["text"][:8], r["text"], r["category"][:3], r["request_type"]])
    return path


def invoke(*args):
    return CliRunner().invoke(main, ["routing", *[str(a) for a in args]])


def test_train_and_evaluate_json(tmp_path, seed_csv):
    out = tmp_path / "m.pkl"
    res = invoke("train", "--data", seed_csv, "--text-col", "标题,内容", "--label-col", "一级分类",
                 "--type-col", "诉求类型", "--out", out)
    assert res.exit_code == 0, res.output
    model = RoutingModel.load(out)
    assert set(model.category.classes) == {r["category"][:3] for r in seed_rows()}
    assert model.request_type is not None

    res = invoke("evaluate", "--model", out, "--data", seed_csv, "--text-col", "标题,内容",
                 "--label-col", "一级分类", "--json")
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert {"macro_f1", "accuracy", "per_class", "texts_per_second", "texts_per_cpu_second"} <= set(body)
    assert body["n"] == len(seed_rows()) and body["macro_f1"] > 0.9  # evaluated on its own training data
    assert set(body["per_class"]["C08"]) == {"precision", "recall", "f1", "support"}


def test_train_without_type_column_keeps_default_type_head(tmp_path, seed_csv):
    out = tmp_path / "m.pkl"
    res = invoke("train", "--data", seed_csv, "--text-col", "内容", "--label-col", "一级分类", "--out", out)
    assert res.exit_code == 0, res.output
    assert RoutingModel.load(out).predict("我想咨询公积金怎么提取")["request_type"]["label"] == "咨询"


@pytest.mark.parametrize("args,message", [
    (["train", "--data", "nope.csv", "--text-col", "a", "--label-col", "b", "--out", "x.pkl"], "找不到数据文件"),
    (["train", "--data", "{csv}", "--text-col", "正文", "--label-col", "一级分类", "--out", "x.pkl"], "缺少列：正文"),
    (["evaluate", "--model", "nope.pkl", "--data", "{csv}", "--text-col", "内容", "--label-col", "一级分类"], "找不到模型文件"),
    (["evaluate", "--model", "{csv}", "--data", "{csv}", "--text-col", "内容", "--label-col", "一级分类"], "无法读取模型文件"),
])
def test_bad_input_gives_chinese_error(seed_csv, args, message):
    res = invoke(*[a.replace("{csv}", str(seed_csv)) for a in args])
    assert res.exit_code != 0
    assert message in res.stderr


def test_rules_export_import_roundtrip(tmp_path):
    data_dir = tmp_path / "data"
    demo_city(data_dir)
    res = invoke("rules", "export", "--data-dir", data_dir)
    assert res.exit_code == 0, res.output
    assert RuleTable.from_csv_text(res.stdout).to_csv_text() == RuleTable.default().to_csv_text()
    f = tmp_path / "rules.csv"
    f.write_text("id,category,lead_unit,co_units\n7,C02,ecology,urban\n", encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code == 0, res.output
    res = invoke("rules", "export", "--data-dir", data_dir, "--out", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1].startswith("7,C02,")
    f.write_text("id,lead_unit\n1,\n", encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code != 0 and "规则表有误" in res.stderr



@pytest.mark.parametrize("column,value,message", [
    ("category", "C98", "第 3 行：未知的分类代码 C98"),
    ("request_type", "咨询X", "第 3 行：未知的诉求类型 咨询X"),
    ("area", "火星区", "第 3 行：未知的区域 火星区"),
    ("intake_line", "99999", "第 3 行：未知的热线号码 99999"),
])
def test_rules_import_refuses_values_no_ticket_can_have(tmp_path, column, value, message):
    data_dir = tmp_path / "data"
    demo_city(data_dir)
    before = invoke("rules", "export", "--data-dir", data_dir).stdout
    f = tmp_path / "rules.csv"
    f.write_text(f"id,{column},lead_unit\n1,,housing\n2,{value},housing\n", encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code == 2 and message in res.stderr, res.output
    assert invoke("rules", "export", "--data-dir", data_dir).stdout == before


def test_rules_import_of_the_export_works_in_the_demo_city(tmp_path):
    """README: ``hotline routing rules export > rules.csv && hotline routing rules import rules.csv``."""
    data_dir = tmp_path / "data"
    demo_city(data_dir)
    f = tmp_path / "rules.csv"
    f.write_text(invoke("rules", "export", "--data-dir", data_dir).stdout, encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code == 0, res.output
    assert invoke("rules", "export", "--data-dir", data_dir).stdout == RuleTable.default().to_csv_text()
    f.write_text("id,lead_unit\n1,housing\n2,nosuch\n", encoding="utf-8")  # units are checked here too
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code == 2 and "第 3 行：未知的单位代码 nosuch" in res.stderr

def _write_history(data_dir, rows, *, correction: bool = False) -> None:
    """A data dir whose tickets are ``rows`` (seed rows), labelled at first level, all with one unit; with
    ``correction`` one dispatcher correction of the first."""

    async def go():
        data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}")
        await upgrade(engine)
        async with engine.begin() as conn:
            cats = await insert_categories(conn)
            unit = await insert_unit(conn, "housing")
            ids = [await insert_ticket(conn, r["text"], number=f"N{i}", category_id=cats[r["category"][:3]],
                                       lead_unit_id=unit, request_type=r["request_type"]) for i, r in enumerate(rows)]
            if correction:
                await conn.execute(sa.insert(routing_corrections).values(
                    ticket_id=ids[0], kind="dispatch", text=rows[0]["text"], category="C99", lead_unit="platform",
                    actor="d1", created_at=__import__("datetime").datetime.now(__import__("datetime").timezone.utc)))
        await engine.dispose()

    asyncio.run(go())


def _fill_history(data_dir, *, bad_current: bool):
    """Tickets labelled from the seed set, one dispatcher correction, and optionally a useless active model."""
    rows = seed_rows()
    _write_history(data_dir, rows, correction=True)
    if bad_current:  # a model that learned nothing useful: labels shuffled against texts
        labels = [r["category"][:3] for r in rows]
        bad = RoutingModel.train([r["text"] for r in rows], labels[7:] + labels[:7])
        path = bad.save(store.models_dir(data_dir) / f"{bad.version}.pkl")
        store.activate_file(data_dir, path)
        return bad


def test_retrain_compares_and_activates_when_not_worse(tmp_path):
    data_dir = tmp_path / "data"
    bad = _fill_history(data_dir, bad_current=True)
    res = invoke("retrain", "--data-dir", data_dir, "--activate", "--no-seed")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["current"]["model_version"] == bad.version
    assert report["new"]["macro_f1"] > report["current"]["macro_f1"]
    assert report["activated"] is True and report["held_out_rows"] > 0
    assert store.active_model_path(data_dir) == store.models_dir(data_dir) / (report["new"]["model_version"] + ".pkl")

    async def registry():
        engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}")
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(routing_models))).mappings().all()
        await engine.dispose()
        return rows

    [row] = asyncio.run(registry())
    assert row["active"] and row["compared_with"]["model_version"] == bad.version


def test_retrain_needs_history(tmp_path):
    res = invoke("retrain", "--data-dir", init_data_dir(tmp_path / "empty"))
    assert res.exit_code != 0 and "历史数据不足" in res.stderr


def test_rules_import_rejects_a_gbk_file(tmp_path):
    f = tmp_path / "rules.csv"
    f.write_bytes("id,category,lead_unit,note\n7,C02,ecology,噪音投诉转生态环境局\n".encode("gbk"))  # an Excel export
    res = invoke("rules", "import", f, "--data-dir", tmp_path / "data")
    assert res.exit_code != 0 and isinstance(res.exception, SystemExit)
    assert "文件必须是 UTF-8 编码" in res.stderr


def test_retrain_with_too_few_examples_for_a_held_out_slice(tmp_path):
    data_dir = tmp_path / "data"
    codes = ["C01", "C02", "C03", "C04", "C05"]

    async def go():  # 10 tickets over 5 categories: 2 each, none held out at 20 %
        data_dir.mkdir(parents=True)
        engine = make_engine(f"sqlite+aiosqlite:///{data_dir / 'hotline.db'}")
        await upgrade(engine)
        async with engine.begin() as conn:
            cats = await insert_categories(conn)
            unit = await insert_unit(conn, "housing")
            for i in range(10):
                await insert_ticket(conn, f"第{i}件诉求", number=f"N{i}", category_id=cats[codes[i % 5]],
                                    lead_unit_id=unit)
        await engine.dispose()

    asyncio.run(go())
    res = invoke("retrain", "--data-dir", data_dir, "--no-seed")
    assert res.exit_code != 0 and isinstance(res.exception, SystemExit), res.output
    assert "留出评估集为空" in res.stderr and "至少要有一个分类有 3 条" in res.stderr
    assert not list(store.models_dir(data_dir).glob("*.pkl"))


def test_unwritable_output_gives_chinese_error(tmp_path, seed_csv):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    res = invoke("train", "--data", seed_csv, "--text-col", "内容", "--label-col", "一级分类",
                 "--out", blocker / "m.pkl")
    assert res.exit_code != 0 and isinstance(res.exception, SystemExit), res.output
    assert "无法写入" in res.stderr and str(blocker / "m.pkl") in res.stderr
    res = invoke("rules", "export", "--data-dir", init_data_dir(tmp_path / "data"), "--out", blocker / "rules.csv")
    assert res.exit_code != 0 and isinstance(res.exception, SystemExit), res.output
    assert "无法写入" in res.stderr


def test_user_dictionary_that_is_not_utf8_gives_chinese_error(tmp_path, seed_csv):
    words = tmp_path / "words.txt"
    words.write_bytes("湖滨街道办\n占道经营\n".encode("gbk"))
    res = invoke("train", "--data", seed_csv, "--text-col", "内容", "--label-col", "一级分类",
                 "--user-dict", words, "--out", tmp_path / "m.pkl")
    assert res.exit_code != 0 and isinstance(res.exception, SystemExit), res.output
    assert "UTF-8" in res.stderr and str(words) in res.stderr


def test_user_dictionary_comment_lines_are_not_words(tmp_path, seed_csv):
    words = tmp_path / "words.txt"
    words.write_text("# 本市道路名称\n湖滨街道办 10 ns\n占道经营\n", encoding="utf-8")
    out = tmp_path / "m.pkl"
    res = invoke("train", "--data", seed_csv, "--text-col", "内容", "--label-col", "一级分类",
                 "--user-dict", words, "--out", out)
    assert res.exit_code == 0, res.output
    learned = RoutingModel.load(out).user_words
    assert {"湖滨街道办", "占道经营"} <= set(learned) and not any(w.startswith("#") for w in learned)


HEADER = "id,category,request_type,area,intake_line,keywords,lead_unit,co_units,enabled,note"


def city_dir(tmp_path):
    """A data dir with the demo city: units the rules may name."""
    demo_city(tmp_path / "data")
    return tmp_path / "data"


@pytest.mark.parametrize("content,message", [
    ("id,catgory,request_type,area,intake_line,keywords,lead_unit,co_units,enabled,note\n1,C0401,,,,,education,,1,typo\n",
     "第 1 行（表头）：未知字段 catgory（可用：id、category"),
    (f"{HEADER}\n1,,,,,,education,,1,x,extra,more\n", "第 2 行：单元格比表头多（多出：extra、more）"),
    (f"{HEADER}\n", "规则表中没有任何规则"),
    (f"{HEADER}\n1,,,,,,education,,1,x\n2,,,,,,education,,maybe,x\n", "第 3 行：无法识别的启用值 maybe"),
])
def test_rules_import_refuses_a_table_it_would_misread_and_writes_nothing(tmp_path, content, message):
    data_dir = city_dir(tmp_path)
    before = invoke("rules", "export", "--data-dir", data_dir).stdout
    f = tmp_path / "rules.csv"
    f.write_text(content, encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code == 2 and message in res.stderr, res.output
    assert "已导入" not in res.stderr
    assert invoke("rules", "export", "--data-dir", data_dir).stdout == before


@pytest.mark.parametrize("value,enabled", [("off", "0"), ("停用", "0"), ("禁用", "0"), ("n", "0"), ("ON", "1"),
                                           ("启用", "1"), ("y", "1")])
def test_rules_import_understands_enabled_spellings(tmp_path, value, enabled):
    data_dir = city_dir(tmp_path)
    f = tmp_path / "rules.csv"
    f.write_text(f"{HEADER}\n1,,,,,,education,,{value},x\n", encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code == 0, res.output
    assert invoke("rules", "export", "--data-dir", data_dir).stdout.splitlines()[1] == f"1,,,,,,education,,{enabled},x"


def test_rules_export_file_has_a_bom_for_excel_and_round_trips(tmp_path):
    data_dir = city_dir(tmp_path)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    assert invoke("rules", "export", "--data-dir", data_dir, "--out", first).exit_code == 0
    raw = first.read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8")) and raw[3:].decode("utf-8") == RuleTable.default().to_csv_text()
    res = invoke("rules", "import", first, "--data-dir", data_dir)
    assert res.exit_code == 0, res.output
    assert invoke("rules", "export", "--data-dir", data_dir, "--out", second).exit_code == 0
    assert second.read_bytes() == raw


@pytest.mark.parametrize("c", ["0", "-1", "nan", "inf"])
def test_train_refuses_a_bad_c_before_any_work(tmp_path, seed_csv, c):
    out = tmp_path / "m.pkl"
    res = invoke("train", "--data", seed_csv, "--text-col", "内容", "--label-col", "一级分类", "--out", out, "--c", c)
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
    assert "--c 必须是大于 0 的数" in res.stderr
    assert "分词" not in res.stderr and not out.exists()


def test_train_warns_about_labels_outside_the_taxonomy_and_invalid_request_types(tmp_path):
    rows = seed_rows()
    path = tmp_path / "history.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["内容", "一级分类", "诉求类型"])
        for i, r in enumerate(rows):
            label = "党务政务" if i % 10 == 0 else r["category"][:3]
            kind = "抱怨" if i % 7 == 0 else ("" if i % 11 == 0 else r["request_type"])
            w.writerow([r["text"], label, kind])
    bad_types = sum(1 for i in range(len(rows)) if i % 7 == 0 or i % 11 == 0)
    res = invoke("train", "--data", path, "--text-col", "内容", "--label-col", "一级分类", "--type-col", "诉求类型",
                 "--out", tmp_path / "m.pkl")
    assert res.exit_code == 0, res.output
    assert "警告：1 个分类标签不在分类体系（categories.csv）中：党务政务" in res.stderr
    assert f"警告：{bad_types} 行的诉求类型不是 咨询/求助/投诉/举报/建议/表扬 之一（如：抱怨、（空））" in res.stderr


def test_train_on_clean_data_has_no_warnings(tmp_path, seed_csv):
    res = invoke("train", "--data", seed_csv, "--text-col", "内容", "--label-col", "一级分类", "--type-col", "诉求类型",
                 "--out", tmp_path / "m.pkl")
    assert res.exit_code == 0, res.output
    assert "警告" not in res.stderr


def test_evaluate_compares_at_the_first_level_when_labels_do_not_overlap(tmp_path):
    """The shipped model predicts deep codes (C010302); the data has first-level names (城乡建设)."""
    from routing.taxonomy import Taxonomy

    taxonomy = Taxonomy.from_csv()
    path = tmp_path / "named.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["内容", "一级分类"])
        for r in seed_rows():
            w.writerow([r["text"], taxonomy.by_code[r["category"][:3]].name])
    res = invoke("evaluate", "--model", store.DEFAULT_MODEL, "--data", path, "--text-col", "内容",
                 "--label-col", "一级分类", "--json")
    assert res.exit_code == 0, res.output
    body = json.loads(res.stdout)
    assert body["compared_at"] == "level1" and "归到一级分类后比较" in res.stderr
    assert body["macro_f1"] > 0.8 and "C01" in body["per_class"]  # the model was trained on these texts

    res = invoke("evaluate", "--model", store.DEFAULT_MODEL, "--data", path, "--text-col", "内容",
                 "--label-col", "一级分类")
    assert res.exit_code == 0 and "（按一级分类比较）" in res.stdout


def test_evaluate_refuses_labels_the_model_cannot_know(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("内容,标签\n路灯坏了,甲类\n工资拖欠,乙类\n", encoding="utf-8")
    res = invoke("evaluate", "--model", store.DEFAULT_MODEL, "--data", path, "--text-col", "内容", "--label-col", "标签")
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
    assert "数据中的标签与模型的分类没有交集" in res.stderr and "甲类" in res.stderr


@pytest.mark.parametrize("option,value", [("--since", "0001-01-01"), ("--until", "9999-12-31")])
def test_audit_with_a_date_out_of_range_is_a_clear_error(tmp_path, option, value):
    data_dir = init_data_dir(tmp_path / "data")
    res = invoke("audit", "--data-dir", data_dir, option, value)
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
    assert "日期超出范围" in res.stderr and value in res.stderr


def test_rules_import_into_a_store_without_units_is_refused(tmp_path):
    # every rule would name a unit that does not exist: refused, not taken unchecked
    data_dir = init_data_dir(tmp_path / "data")
    f = tmp_path / "rules.csv"
    f.write_text("id,category,lead_unit\n1,C02,ecology\n", encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code == 2 and "还没有任何承办单位" in res.stderr, res.output


def test_rules_import_refuses_a_keywords_cell_without_a_keyword(tmp_path):
    """The tester's row: a keywords cell of just ``|`` used to import and then match every text."""
    data_dir = city_dir(tmp_path)
    before = invoke("rules", "export", "--data-dir", data_dir).stdout
    f = tmp_path / "rules.csv"
    for row in ("5,,,,,|,housing,,1,空关键词", "5,,,,,公积金||,housing,,1,x", "5,,,,,公积金、住房公积金,housing,,1,x",
                "5,,,,,,housing,urban;,1,x"):
        f.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
        res = invoke("rules", "import", f, "--data-dir", data_dir)
        assert res.exit_code == 2 and "规则表有误：第 2 行：" in res.stderr, res.output
        assert "中有空项" in res.stderr or "多个值只能用 | 分隔" in res.stderr
    assert invoke("rules", "export", "--data-dir", data_dir).stdout == before


def test_rules_import_dry_run_shows_changes_and_problems_and_writes_nothing(tmp_path):
    data_dir = city_dir(tmp_path)
    before = invoke("rules", "export", "--data-dir", data_dir).stdout
    f = tmp_path / "rules.csv"
    f.write_text(f"{HEADER}\n10,,,,12333,,hrss,,1,人社热线来电\n11,,,,12315,,market,,1,x\n5,,,,,,housing,,1,兜底\n"
                 f"6,C05,,,,,hrss,,1,x\n", encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir, "--dry-run")
    assert res.exit_code == 0, res.output
    removed = len(RuleTable.default().rules) - 2
    assert res.stdout.splitlines()[:5] == ["预演（未写入）：导入后共 4 条规则", "  新增 2 条：5、6",
                                           res.stdout.splitlines()[2], "  修改 1 条：11", "  未变 1 条"]
    assert res.stdout.splitlines()[2].startswith(f"  删除 {removed} 条：12、13、")
    warning = "警告：第 4 行（规则 5）没有任何条件，会匹配所有诉求，排在它后面的 1 条规则永远不会生效"
    assert warning in res.stderr and "已导入" not in res.stderr
    assert invoke("rules", "export", "--data-dir", data_dir).stdout == before

    f.write_text(f"{HEADER}\n5,,,,,|,housing,,1,空关键词\n6,C05,,,,,hrss,,1,x\n7,,,,,,nosuch,,1,x\n"
                 f"8,,,,,,civil,,maybe,x\n", encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir, "--dry-run")
    assert res.exit_code == 2, res.output
    assert "导入后共 1 条规则（有错误的行未计入）" in res.stdout
    for line in ("错误：第 2 行：关键词（keywords）“|”中有空项", "错误：第 4 行：未知的单位代码 nosuch",
                 "错误：第 5 行：无法识别的启用值 maybe", "错误：规则表有 3 处错误（预演，未写入）"):
        assert line in res.stderr, line
    assert invoke("rules", "export", "--data-dir", data_dir).stdout == before

    # the import says the same warning, and writes
    f.write_text(f"{HEADER}\n5,,,,,,housing,,1,兜底\n6,C05,,,,,hrss,,1,x\n", encoding="utf-8")
    res = invoke("rules", "import", f, "--data-dir", data_dir)
    assert res.exit_code == 0 and "已导入 2 条分拨规则" in res.stderr, res.output
    assert "警告：第 2 行（规则 5）没有任何条件，会匹配所有诉求，排在它后面的 1 条规则永远不会生效" in res.stderr
    assert invoke("rules", "export", "--data-dir", data_dir).stdout.splitlines()[1:] == [
        "5,,,,,,housing,,1,兜底", "6,C05,,,,,hrss,,1,x"]


def _small_history(data_dir):
    """20 person-confirmed tickets over two first-level categories (4 held out at 20 %) and a useless active
    model (labels swapped), so that the new model is 'not worse' on the tiny held-out slice."""
    rows = seed_rows()
    picked = [r for r in rows if r["category"].startswith("C01")][:10] + \
             [r for r in rows if r["category"].startswith("C05")][:10]
    _write_history(data_dir, picked)
    swapped = {"C01": "C05", "C05": "C01"}
    bad = RoutingModel.train([r["text"] for r in picked], [swapped[r["category"][:3]] for r in picked])
    store.activate_file(data_dir, bad.save(store.models_dir(data_dir) / f"{bad.version}.pkl"))
    return bad


def test_retrain_refuses_to_activate_on_a_tiny_held_out_slice_unless_forced(tmp_path):
    data_dir = tmp_path / "data"
    bad = _small_history(data_dir)
    active = store.models_dir(data_dir) / f"{bad.version}.pkl"
    res = invoke("retrain", "--data-dir", data_dir, "--activate", "--no-seed")
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output
    report = json.loads(res.stdout)
    assert report["held_out_rows"] == 4 and report["held_out_classes"] == 2 and report["not_worse"] is True
    assert report["held_out_sufficient"] is False and report["activated"] is False
    assert "错误：留出评估集只有 4 条、2 个一级分类（至少需要 30 条、2 个一级分类），比较结果不可靠，未启用" in res.stderr
    assert "--force" in res.stderr
    candidate = store.models_dir(data_dir) / f"{report['new']['model_version']}.pkl"
    assert candidate.is_file() and store.active_model_path(data_dir) == active  # kept, not activated

    res = invoke("retrain", "--data-dir", data_dir, "--no-seed")  # without --activate: figures, exit 0
    assert res.exit_code == 0 and json.loads(res.stdout)["held_out_sufficient"] is False, res.output

    res = invoke("retrain", "--data-dir", data_dir, "--activate", "--force", "--no-seed")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["activated"] is True
    assert store.active_model_path(data_dir) == store.models_dir(data_dir) / f"{report['new']['model_version']}.pkl"
