"""``hotline kb``: import with progress, export, search --json, evaluate --json, reindex, bad input."""

from __future__ import annotations

import csv
import json
import random
import shutil

import pytest
from click.testing import CliRunner

from hotline.cli import main
from tests.datadir import init_data_dir
from tests.knowledge.conftest import SHARED


def write_csv(path, header, rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def runner(monkeypatch, tmp_path):
    for name in ("HOTLINE_DATABASE_URL", "HOTLINE_ELASTICSEARCH_URL", "HOTLINE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def init_data(runner, tmp_path, name="data") -> str:
    """A data dir with a migrated database (CLI commands need one)."""
    return str(init_data_dir(tmp_path / name))


ARTICLES = [
    ("faq-1", "公积金提取", "<p>租房可以提取住房公积金，每年一次。</p>", "住房公积金、租房"),
    ("faq-2", "社保卡补办", "社保卡丢失请先挂失再到银行补办。", "社保卡"),
    ("faq-3", "路灯报修", "道路路灯不亮请拨打12345。", "路灯"),
]


def test_import_search_export_reindex(runner, tmp_path):
    data = init_data(runner, tmp_path)
    src = write_csv(tmp_path / "kb.csv", ["编号", "标题", "正文", "关键词"], ARTICLES)
    result = runner.invoke(main, ["kb", "import", str(src), "--id-col", "编号", "--title-col", "标题",
                                  "--body-col", "正文", "--keywords-col", "关键词", "--data-dir", data])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"created": 3, "updated": 0, "unchanged": 0, "failed": [], "warnings": [], "missing_units": [], "missing_categories": []}
    assert "已处理：3/3" in result.stderr and "导入完成：新建 3，更新 0，未变 0，失败 0，警告 0" in result.stderr
    # re-import: unchanged, then one edit
    write_csv(src, ["编号", "标题", "正文", "关键词"],
              [ARTICLES[0], ARTICLES[1], ("faq-3", "路灯报修", "道路路灯不亮请拨打12345或在城管公众号上报。", "路灯")])
    result = runner.invoke(main, ["kb", "import", str(src), "--id-col", "编号", "--title-col", "标题",
                                  "--body-col", "正文", "--keywords-col", "关键词", "--data-dir", data])
    assert json.loads(result.stdout) == {"created": 0, "updated": 1, "unchanged": 2, "failed": [], "warnings": [], "missing_units": [], "missing_categories": []}

    result = runner.invoke(main, ["kb", "search", "社保卡丢了", "--json", "--data-dir", data])
    out = json.loads(result.stdout)
    assert out["hits"][0]["title"] == "社保卡补办" and out["hits"][0]["status"] == "published"
    result = runner.invoke(main, ["kb", "search", "城管公众号", "--json", "--data-dir", data])
    assert json.loads(result.stdout)["hits"][0]["title"] == "路灯报修"

    result = runner.invoke(main, ["kb", "reindex", "--data-dir", data])
    assert result.exit_code == 0 and "索引重建完成：3 条" in result.stderr
    assert "已处理 3 条" in result.stderr  # progress, batch by batch

    out_file = tmp_path / "export.jsonl"
    result = runner.invoke(main, ["kb", "export", str(out_file), "--data-dir", data])
    assert result.exit_code == 0
    rows = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["title"], r["version"]) for r in rows] == [
        ("faq-1", "公积金提取", 1), ("faq-2", "社保卡补办", 1), ("faq-3", "路灯报修", 2)]
    assert rows[0]["keywords"] == ["住房公积金", "租房"] and rows[0]["body"] == "<p>租房可以提取住房公积金，每年一次。</p>"


def test_bad_input_fails_in_chinese(runner, tmp_path):
    data = init_data(runner, tmp_path)
    src = write_csv(tmp_path / "kb.csv", ["id", "title"], [("1", "x")])
    result = runner.invoke(main, ["kb", "import", str(src), "--id-col", "id", "--title-col", "title",
                                  "--body-col", "body", "--data-dir", data])
    assert result.exit_code != 0 and "缺少列：body" in result.stderr
    result = runner.invoke(main, ["kb", "import", str(tmp_path / "nope.csv"), "--id-col", "id",
                                  "--title-col", "t", "--body-col", "b", "--data-dir", data])
    assert result.exit_code != 0 and "文件不存在" in result.stderr
    result = runner.invoke(main, ["kb", "search", "  ", "--data-dir", data])
    assert result.exit_code != 0 and "检索词不能为空" in result.stderr
    result = runner.invoke(main, ["kb", "export", str(tmp_path / "x.txt"), "--data-dir", data])
    assert result.exit_code != 0 and "csv" in result.stderr
    # a row naming a unit that does not exist is reported, the others imported
    src = write_csv(tmp_path / "units.csv", ["id", "title", "body", "unit"],
                    [("1", "甲", "正文甲", ""), ("2", "乙", "正文乙", "no-such-unit")])
    result = runner.invoke(main, ["kb", "import", str(src), "--id-col", "id", "--title-col", "title",
                                  "--body-col", "body", "--unit-col", "unit", "--data-dir", data])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["created"] == 1
    assert json.loads(result.stdout)["failed"] == [{"row": 3, "error": "单位 no-such-unit 不存在"}]
    # stderr names each missing unit once, with its rows (the CSV's line: header = line 1)
    assert "no-such-unit：1 行（首见第 3 行）" in result.stderr and "第 3 行未导入" not in result.stderr


def test_evaluate_on_own_files(runner, tmp_path):
    articles = write_csv(tmp_path / "a.csv", ["doc", "text"], [
        ("d1", "住房公积金提取需要身份证"), ("d1", "租房提取公积金每年一次"),
        ("d2", "社保卡丢失请挂失补办"), ("d3", "路灯不亮请报修")])
    queries = write_csv(tmp_path / "q.csv", ["q", "gold"], [
        ("租房怎么提取公积金", "d1"), ("社保卡丢了", "d2"), ("路灯坏了", "d3"), ("没有这篇", "d9")])
    result = runner.invoke(main, ["kb", "evaluate", "--articles", str(articles), "--id-col", "doc",
                                  "--text-col", "text", "--queries", str(queries), "--query-col", "q",
                                  "--gold-col", "gold", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["recall_at_1"] == 1.0 and out["recall_at_5"] == 1.0 and out["mrr"] == 1.0
    assert out["queries"] == 3 and out["skipped"] == 1 and out["articles"] == 3
    assert out["ms_per_query"] > 0 and set(out["bm25"]) >= {"recall_at_1", "recall_at_5", "mrr", "ms_per_query"}
    result = runner.invoke(main, ["kb", "evaluate", "--articles", str(articles), "--id-col", "nope",
                                  "--text-col", "text", "--queries", str(queries), "--query-col", "q",
                                  "--gold-col", "gold"])
    assert result.exit_code != 0 and "缺少列：nope" in result.stderr


def test_evaluate_with_the_semantic_stage(runner, tmp_path, semantic_encoder):
    from tests.knowledge.test_semantic import KB

    articles = write_csv(tmp_path / "a.csv", ["id", "title", "body"], KB)
    queries = write_csv(tmp_path / "q.csv", ["q", "gold"], [("宝宝打预防针要带什么", "3"), ("拖欠工资去哪投诉", "20")])
    shutil.copytree(semantic_encoder.cache, tmp_path / "data" / "models")  # the model file, built once already
    base = ["kb", "evaluate", "--articles", str(articles), "--id-col", "id", "--title-col", "title",
            "--text-col", "body", "--queries", str(queries), "--query-col", "q", "--gold-col", "gold"]
    env = {"HOTLINE_DATA_DIR": str(tmp_path / "data")}
    lexical = json.loads(runner.invoke(main, [*base, "--json", "--no-baseline"], env=env).stdout)
    assert lexical["semantic"] is False and lexical["recall_at_1"] == 0.5  # the words rank the passport first
    result = runner.invoke(main, [*base, "--json", "--semantic"], env=env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["semantic"] is True and out["recall_at_1"] == 1.0 and out["bm25"]["recall_at_1"] < 1.0
    result = runner.invoke(main, base, env={**env, "HOTLINE_SEMANTIC": "1"})  # the setting turns it on, too
    assert result.exit_code == 0 and "ranker+semantic: recall@1=1.000" in result.stdout


def test_evaluate_title_col_ranks_an_faq_articles_questions_as_its_title(runner, tmp_path):
    """d1 answers the question but only its question (the title) says so; d2's answer merely mentions the words."""
    articles = write_csv(tmp_path / "a.csv", ["doc", "question", "answer"], [
        ("d1", "居住证怎么办理", "请携带身份证和租房合同到社区服务站申请。"),
        ("d1", "居住证怎么办理", "办结后凭回执领取。"),
        ("d1", "居住证多久能拿到", "一般十五个工作日。"),
        ("d2", "护照怎么办理", "护照请到出入境窗口办理，居住证请到社区服务站办理，护照需本人到场。")])
    queries = write_csv(tmp_path / "q.csv", ["q", "gold"], [("居住证怎么办理", "d1")])
    base = ["kb", "evaluate", "--articles", str(articles), "--id-col", "doc", "--text-col", "answer",
            "--queries", str(queries), "--query-col", "q", "--gold-col", "gold", "--json"]
    without = runner.invoke(main, base)
    with_titles = runner.invoke(main, [*base, "--title-col", "question"])
    assert without.exit_code == 0 and with_titles.exit_code == 0, without.output + with_titles.output
    assert json.loads(without.stdout)["recall_at_1"] == 0.0
    assert json.loads(with_titles.stdout)["recall_at_1"] == 1.0
    missing = runner.invoke(main, [*base, "--title-col", "nope"])
    assert missing.exit_code != 0 and "缺少列：nope" in missing.stderr


def test_load_articles_joins_distinct_titles_one_per_line(tmp_path):
    from knowledge.evaluate import article_text, load_articles

    path = write_csv(tmp_path / "a.csv", ["doc", "q", "a"], [
        ("d1", "问一", "答一"), ("d1", "问一", "答二"), ("d1", "问二", "答三"), ("d2", "", "答四")])
    articles = load_articles(path, "doc", ["a"], "q")
    assert articles == {"d1": ("问一\n问二", "答一\n答二\n答三"), "d2": ("", "答四")}
    assert article_text(articles["d1"]) == "问一\n问二\n答一\n答二\n答三" and article_text(articles["d2"]) == "答四"
    assert load_articles(path, "doc", ["q", "a"])["d1"] == ("", "问一 答一\n问一 答二\n问二 答三")


def test_evaluate_on_shared_policy_qa_subsample(runner, tmp_path):
    """Held-out questions of a subsample: articles from the other questions (+answers) of each document."""
    with (SHARED / "ncp_policy_qa" / "NCPPolicies_train.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    random.Random(0).shuffle(rows)
    rows = rows[:2000]
    held, kept = rows[:400], rows[400:]
    articles = write_csv(tmp_path / "a.csv", ["docid", "question", "answer"],
                         [(r["docid"], r["question"], r["answer"]) for r in kept])
    queries = write_csv(tmp_path / "q.csv", ["question", "docid"], [(r["question"], r["docid"]) for r in held])
    result = runner.invoke(main, ["kb", "evaluate", "--articles", str(articles), "--id-col", "docid",
                                  "--text-col", "question,answer", "--queries", str(queries),
                                  "--query-col", "question", "--gold-col", "docid", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    known = {r["docid"] for r in kept}
    assert out["queries"] == sum(r["docid"] in known for r in held) and out["skipped"] == 400 - out["queries"]
    assert out["bm25"]["queries"] == out["queries"]
    # a floor that broken tokenization or ranking would fall through (full comparison: bench/kb_bench.py)
    assert out["recall_at_5"] >= 0.5 and out["bm25"]["recall_at_5"] >= 0.5
    assert out["recall_at_1"] <= out["recall_at_5"] and out["mrr"] >= out["recall_at_1"]


def _import(runner, src, data, *extra):
    return runner.invoke(main, ["kb", "import", str(src), "--id-col", "id", "--title-col", "title",
                                "--body-col", "body", *extra, "--data-dir", data])


def test_import_reports_bad_rows_instead_of_aborting(runner, tmp_path):
    import sqlite3

    data = init_data(runner, tmp_path)
    src = write_csv(tmp_path / "kb.csv", ["id", "title", "body"], [("a1", "公积金提取", "租房可以提取公积金。")])
    assert _import(runner, src, data).exit_code == 0
    with sqlite3.connect(tmp_path / "data" / "hotline.db") as db:
        db.execute("UPDATE kb_articles SET status = 'archived' WHERE external_id = 'a1'")
    # an archived article in the file, and a JSONL row without a column: reported, the others imported
    write_csv(src, ["id", "title", "body"], [("a1", "公积金提取", "租房每年可以提取一次公积金。"),
                                             ("a2", "社保卡补办", "社保卡丢失请先挂失。")])
    result = _import(runner, src, data)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert json.loads(result.stdout) == {"created": 1, "updated": 0, "unchanged": 0,
                                         "failed": [{"row": 2, "error": "已归档的知识不能再编辑"}], "warnings": [],
                                         "missing_units": [], "missing_categories": []}
    assert "第 2 行未导入：已归档的知识不能再编辑" in result.stderr
    jsonl = tmp_path / "kb.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "j1", "title": "路灯报修", "body": "路灯不亮请拨打12345。"},
        {"id": "j2", "title": "只有标题"},
        {"title": "没有编号", "body": "正文"},
    ]) + "\n", encoding="utf-8")
    result = _import(runner, jsonl, data)
    assert result.exit_code == 1 and "Traceback" not in result.output
    out = json.loads(result.stdout)
    assert out["created"] == 1 and [f["row"] for f in out["failed"]] == [2, 3]
    assert "第 2 行未导入：字段 正文(body) 不合法：不能为空" in result.stderr and "第 3 行未导入：缺少编号" in result.stderr


def test_gbk_files_fail_in_chinese(runner, tmp_path):
    data = init_data(runner, tmp_path)
    src = tmp_path / "gbk.csv"
    src.write_bytes("id,title,body\n1,社保卡补办,社保卡丢失请先挂失。\n".encode("gbk"))
    result = _import(runner, src, data)
    assert result.exit_code != 0 and "文件必须是 UTF-8 编码" in result.stderr and "Traceback" not in result.output
    queries = write_csv(tmp_path / "q.csv", ["q", "gold"], [("社保卡丢了", "1")])
    result = runner.invoke(main, ["kb", "evaluate", "--articles", str(src), "--id-col", "id", "--text-col", "body",
                                  "--queries", str(queries), "--query-col", "q", "--gold-col", "gold"])
    assert result.exit_code != 0 and "文件必须是 UTF-8 编码：gbk.csv" in result.stderr


def test_odd_files_fail_or_are_reported_in_chinese(runner, tmp_path):
    data = init_data(runner, tmp_path)
    src = write_csv(tmp_path / "kb.csv", ["id", "title", "body"], [("a1", "公积金提取", "租房可以提取公积金。")])
    assert _import(runner, src, data).exit_code == 0
    # export into a folder that does not exist
    result = runner.invoke(main, ["kb", "export", str(tmp_path / "nope" / "x.csv"), "--data-dir", data])
    assert result.exit_code != 0 and "无法写入文件" in result.stderr and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    # a JSONL whose first line is not an object: that row is reported, the rest imported
    jsonl = tmp_path / "kb.jsonl"
    jsonl.write_text("[1, 2]\n" + json.dumps({"id": "j1", "title": "路灯报修", "body": "路灯不亮请报修。"},
                                             ensure_ascii=False) + "\n", encoding="utf-8")
    result = _import(runner, jsonl, data)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert json.loads(result.stdout)["created"] == 1 and "第 1 行未导入：不是 JSON 对象" in result.stderr


def test_evaluate_with_jsonl_rows_that_are_not_objects_fails_in_chinese(runner, tmp_path):
    articles = tmp_path / "a.jsonl"
    articles.write_text('{"doc": "d1", "text": "路灯不亮请报修"}\n["d2", "社保卡丢失请挂失补办"]\n', encoding="utf-8")
    queries = write_csv(tmp_path / "q.csv", ["q", "gold"], [("路灯坏了", "d1")])
    result = runner.invoke(main, ["kb", "evaluate", "--articles", str(articles), "--id-col", "doc",
                                  "--text-col", "text", "--queries", str(queries), "--query-col", "q",
                                  "--gold-col", "gold", "--json"])
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    assert "a.jsonl 的每一行都必须是 JSON 对象" in result.stderr


ROUND_TRIP = ["--category-col", "category", "--unit-col", "unit", "--keywords-col", "keywords", "--status-col",
              "status", "--valid-from-col", "valid_from", "--valid-to-col", "valid_to", "--review-due-col",
              "review_due_at"]


def test_export_writes_excel_csv_that_imports_back_unchanged(runner, tmp_path):
    data = init_data(runner, tmp_path)
    # a keyword holding 、 itself goes out and comes back whole
    named = ("faq-4", "教材审定", "教材审定请咨询教育局。", "中小学地方课程教材初审、审定、复查；教材审定")
    src = write_csv(tmp_path / "kb.csv", ["id", "title", "body", "关键词"], [*ARTICLES, named])
    assert _import(runner, src, data, "--keywords-col", "关键词").exit_code == 0
    assert _import(runner, write_csv(tmp_path / "d.csv", ["id", "title", "body"], [("d1", "草稿", "未审核。")]),
                   data, "--draft").exit_code == 0
    out = tmp_path / "export.csv"
    result = runner.invoke(main, ["kb", "export", str(out), "--data-dir", data])
    assert result.exit_code == 0 and "已导出 5 条知识" in result.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,title,body,")  # a BOM: Excel reads it as UTF-8
    assert "valid_from,valid_to,review_due_at" in raw.decode("utf-8-sig").splitlines()[0]
    result = _import(runner, out, data, *ROUND_TRIP)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"created": 0, "updated": 0, "unchanged": 5, "failed": [], "warnings": [], "missing_units": [], "missing_categories": []}
    # --draft and a status column contradict each other
    result = _import(runner, out, data, *ROUND_TRIP, "--draft")
    assert result.exit_code == 2 and "--draft 与 --status-col 不能同时使用" in result.stderr


def test_empty_files_and_unknown_filter_values_are_refused(runner, tmp_path):
    data = init_data(runner, tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = _import(runner, empty, data)
    assert result.exit_code == 2 and "文件为空：empty.csv" in result.stderr
    header_only = write_csv(tmp_path / "header.csv", ["id", "title", "body"], [])
    result = _import(runner, header_only, data)
    assert result.exit_code == 2 and "header.csv 没有数据行" in result.stderr
    result = runner.invoke(main, ["kb", "export", str(tmp_path / "x.csv"), "--status", "publised", "--data-dir", data])
    assert result.exit_code == 2 and "未知的状态 publised" in result.stderr and not (tmp_path / "x.csv").exists()
    for option, value, message in [("--unit", "nosuch", "单位 nosuch 不存在"),
                                   ("--status", "publishd", "未知的状态 publishd"),
                                   ("--category", "C9999", "分类 C9999 不存在")]:
        result = runner.invoke(main, ["kb", "search", "公积金提取", option, value, "--data-dir", data])
        assert result.exit_code == 2 and message in result.stderr, (option, result.output)
    # a unit by its full name is as good as its code
    units_csv = tmp_path / "units.csv"
    units_csv.write_text("code,name,kind,parent_code\nprovident-fund,云州市住房公积金管理中心,department,\n", encoding="utf-8")
    assert runner.invoke(main, ["units", "import", str(units_csv), "--data-dir", data]).exit_code == 0
    result = runner.invoke(main, ["kb", "search", "公积金提取", "--unit", "云州市住房公积金管理中心", "--data-dir", data])
    assert result.exit_code == 0 and "没有找到相关结果。" in result.stdout, result.output
    result = runner.invoke(main, ["kb", "search", "公积金提取", "--status", "draft", "--data-dir", data])
    assert result.exit_code == 0 and "没有找到相关结果。" in result.stdout


def test_plain_search_shows_each_hits_status_and_readable_highlights(runner, tmp_path):
    data = init_data(runner, tmp_path)
    src = write_csv(tmp_path / "kb.csv", ["id", "title", "body"], [("p1", "公积金提取", "租房可以提取公积金。")])
    assert _import(runner, src, data).exit_code == 0
    src = write_csv(tmp_path / "d.csv", ["id", "title", "body"], [("d1", "公积金贷款", "公积金贷款<尚未审核>。")])
    assert _import(runner, src, data, "--draft").exit_code == 0
    result = runner.invoke(main, ["kb", "search", "公积金", "--data-dir", data])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{n}. [article ") and "｜已发布] 公积金提取" in line for n in (1, 2) for line in lines)
    assert any("｜草稿] 公积金贷款" in line for line in lines)
    assert "<em>" not in result.stdout and "【公积金】" in result.stdout and "&lt;" not in result.stdout
    hits = json.loads(runner.invoke(main, ["kb", "search", "公积金", "--json", "--data-dir", data]).stdout)["hits"]
    assert {h["status"] for h in hits} == {"published", "draft"} and any("<em>" in h["highlight"] for h in hits)


def test_search_takes_several_statuses_and_dates_and_marks_articles_not_in_force(runner, tmp_path):
    data = init_data(runner, tmp_path)
    src = write_csv(tmp_path / "kb.csv", ["id", "title", "body", "valid_from"],
                    [("now", "公积金提取", "租房可以提取公积金。", ""),
                     ("later", "公积金新规", "2099年起公积金提取新规。", "2099-01-01")])
    assert _import(runner, src, data, "--valid-from-col", "valid_from").exit_code == 0
    src = write_csv(tmp_path / "d.csv", ["id", "title", "body"], [("d1", "公积金贷款", "公积金贷款草稿。")])
    assert _import(runner, src, data, "--draft").exit_code == 0

    def search(*options):
        result = runner.invoke(main, ["kb", "search", "公积金", "--kind", "article", *options, "--data-dir", data])
        return result

    result = search("--status", "draft,published", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)["hits"]
    assert sorted(h["status"] for h in hits) == ["draft", "published", "published"]
    assert {h["title"]: h["extra"].get("in_force") for h in hits} == {"公积金提取": True, "公积金新规": False,
                                                                      "公积金贷款": True}
    plain = search("--status", "published").stdout
    assert "｜已发布，不在有效期内] 公积金新规" in plain and "｜已发布] 公积金提取" in plain
    assert "公积金贷款" not in plain
    # dates filter what the index dates (an article's last change): all of them are from today
    assert json.loads(search("--date-from", "2000-01-01", "--json").stdout)["total"] == 3
    assert json.loads(search("--date-to", "2000-01-01", "--json").stdout)["total"] == 0
    for options, message in ((("--status", "draft,nosuch"), "未知的状态 nosuch"),
                             (("--date-from", "昨天"), "--date-from 不是合法日期"),
                             (("--date-from", "2026-02-01", "--date-to", "2026-01-01"), "不能晚于")):
        result = search(*options)
        assert result.exit_code == 2 and message in result.stderr, (options, result.output)


def test_evaluate_with_no_usable_query_fails_and_blank_queries_are_skipped(runner, tmp_path):
    articles = write_csv(tmp_path / "a.csv", ["doc", "text"], [("d1", "住房公积金提取需要身份证")])
    base = ["kb", "evaluate", "--articles", str(articles), "--id-col", "doc", "--text-col", "text",
            "--query-col", "q", "--gold-col", "gold", "--json"]
    none = write_csv(tmp_path / "none.csv", ["q", "gold"], [("问题", "zzz"), ("另一个", "yyy")])
    result = runner.invoke(main, [*base, "--queries", str(none)])
    assert result.exit_code == 2 and "没有可评测的查询：2 条的标准答案编号在文章中找不到" in result.stderr
    blank = write_csv(tmp_path / "blank.csv", ["q", "gold"], [("  ", "d1"), ("公积金提取", "d1")])
    result = runner.invoke(main, [*base, "--queries", str(blank)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["queries"], out["skipped"], out["recall_at_1"]) == (1, 1, 1.0)
    only_blank = write_csv(tmp_path / "only_blank.csv", ["q", "gold"], [("", "d1")])
    result = runner.invoke(main, [*base, "--queries", str(only_blank)])
    assert result.exit_code == 2 and "没有可评测的查询：1 条查询为空" in result.stderr


def test_import_reports_csv_line_numbers(runner, tmp_path):
    data = init_data(runner, tmp_path)
    src = tmp_path / "kb.csv"
    src.write_text("id,title,body\na1,公积金提取,租房可以提取公积金。\n\na2,,没有标题\n", encoding="utf-8")
    result = _import(runner, src, data)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["failed"] == [{"row": 4, "error": "字段 标题(title) 不合法：不能为空"}]
    assert "第 4 行未导入：字段 标题(title) 不合法：不能为空" in result.stderr
