"""Importing service guides (办事指南) as exported by government systems: JSON-list cells in a CSV,
placeholder values (无), units the unit table lacks, keyword cells, and what ``hotline kb import`` says.

The fixtures are small invented guides in the shape of a 政务服务事项 export (one row per item, list
fields JSON-encoded in the CSV).
"""

from __future__ import annotations

import csv
import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.cli import main
from knowledge import import_cells as cells
from knowledge.articles import ArticleService
from knowledge.importer import Columns, import_file
from tests.datadir import init_data_dir
from tests.knowledge.helpers import EDITOR, seed_categories, seed_units

README = Path(__file__).resolve().parents[2] / "knowledge" / "README.md"
HEADER = ["TASK_CODE", "TASK_NAME", "DEPT_NAME", "AREA_CODE_TEXT", "matter_level", "matter_type", "theme_category",
          "service_object_name", "handle_location", "handle_time", "handle_time_limit", "consult_phone",
          "complain_phone", "accept_standard", "material_intro", "URL"]


def guide(code, name, dept, *, theme='["其他"]', objects='["自然人", "企业法人"]', place="办理地点：云州市民中心2楼",
          days="20(工作日)", limit="5(工作日)", phone="023-88812345", standard="符合条件的申请人均可申请。",
          materials='["申请表", "居民身份证"]'):
    return {"TASK_CODE": code, "TASK_NAME": name, "DEPT_NAME": dept, "AREA_CODE_TEXT": "云州市", "matter_level": "市级",
            "matter_type": "公共服务", "theme_category": theme, "service_object_name": objects, "handle_location": place,
            "handle_time": days, "handle_time_limit": limit, "consult_phone": phone, "complain_phone": "023-12345",
            "accept_standard": standard, "material_intro": materials, "URL": f"https://zwfw.yunzhou.example/{code}"}


GUIDES = [
    guide("YZ001", "居住证签注", "云州市公安局", theme='["户籍办理", "证件办理"]'),
    guide("YZ002", "中小学地方课程教材初审、审定、复查", "云州省教育厅", place="无线下办理窗口", days="无", limit="无",
          standard="无", materials="无"),
    guide("YZ003", "民办学校设立审批", "云州省教育厅", place="办理地点：无", materials='["无"]', standard="无。"),
    guide("YZ004", "职业技能等级认定", "云州市人力资源和社会保障局", standard="无条件受理", phone="暂无"),
    guide("YZ005", "体育赛事备案", "云州市体育局", materials='["赛事方案", "安全预案"]'),
]
BODY = ("accept_standard,办理地点=handle_location,法定时限=handle_time,承诺时限=handle_time_limit,"
        "咨询电话=consult_phone,所需材料=material_intro")
GUIDE_COLS = Columns("TASK_CODE", "TASK_NAME", BODY, category="theme_category", unit="DEPT_NAME",
                     keywords="service_object_name")


def write_guides(path: Path, rows=GUIDES) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


async def _service(engine, clock) -> ArticleService:
    await seed_units(engine, clock.now())
    await seed_categories(engine)
    return ArticleService(engine, clock)


# --- JSON lists in CSV cells, placeholders ---------------------------------------------------------------

async def test_csv_json_list_cells_are_lists_and_placeholders_are_left_out(engine, clock, tmp_path):
    service = await _service(engine, clock)
    report = await import_file(service, EDITOR, write_guides(tmp_path / "guides.csv"), GUIDE_COLS,
                               unknown_unit="empty")
    assert (report.created, report.failed) == (5, [])
    stored = {a["external_id"]: a for a in await service.list()}
    first = stored["YZ001"]
    assert first["body_html"] == (
        "<p>符合条件的申请人均可申请。</p><p><strong>办理地点：</strong>云州市民中心2楼</p>"
        "<p><strong>法定时限：</strong>20(工作日)</p><p><strong>承诺时限：</strong>5(工作日)</p>"
        "<p><strong>咨询电话：</strong>023-88812345</p>"
        "<p><strong>所需材料：</strong></p><ul><li>申请表</li><li>居民身份证</li></ul>")
    assert first["keywords"] == ["自然人", "企业法人"]  # the JSON list, not ['["自然人"', '"企业法人"]']
    assert first["unit_code"] == "police"
    # 无 in a labelled part (also after its label, 办理地点：无, or as a list's only item) is no part of the body
    assert stored["YZ002"]["body_html"] == ("<p><strong>办理地点：</strong>无线下办理窗口</p>"
                                            "<p><strong>咨询电话：</strong>023-88812345</p>")
    assert "无" not in stored["YZ003"]["body_text"].replace("无线下", "")
    assert "所需材料" not in stored["YZ003"]["body_html"] and "办理地点" not in stored["YZ003"]["body_html"]
    # text that merely begins with 无 is text; 暂无 is a placeholder
    assert stored["YZ004"]["body_text"].startswith("无条件受理") and "咨询电话" not in stored["YZ004"]["body_html"]
    # the category cell ["户籍办理", "证件办理"]: its first item, named by name, not found here: left out
    assert ("分类 户籍办理 不在分类表中，已留空") in [w for _, w in report.warnings]
    assert not any("[" in w for _, w in report.warnings)


async def test_a_json_list_category_names_its_first_item(engine, clock, tmp_path):
    service = await _service(engine, clock)
    src = write_guides(tmp_path / "guides.csv", [guide("YZ010", "治安许可", "云州市公安局", theme='["无", "治安"]')])
    report = await import_file(service, EDITOR, src, GUIDE_COLS)
    assert (report.created, report.warnings) == (1, [])
    (article,) = await service.list()
    assert article["category"] == "C1001"


async def test_only_well_formed_json_arrays_of_strings_are_lists(engine, clock, tmp_path):
    service = await _service(engine, clock)
    path = tmp_path / "kb.csv"
    path.write_text('id,title,body\n'
                    'a1,数组,"[""申请表"",""营业执照""]"\n'
                    'a2,不是合法JSON,"[申请表, 营业执照]"\n'
                    'a3,数字数组,"[1, 2]"\n', encoding="utf-8")
    report = await import_file(service, EDITOR, path, Columns("id", "title", "body"))
    assert report.created == 3
    stored = {a["external_id"]: a for a in await service.list()}
    assert stored["a1"]["body_html"] == "<p></p><ul><li>申请表</li><li>营业执照</li></ul>"
    assert stored["a2"]["body_text"] == "[申请表, 营业执照]" and stored["a3"]["body_text"] == "[1, 2]"


async def test_a_jsonl_string_is_not_decoded(engine, clock, tmp_path):
    service = await _service(engine, clock)
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps({"id": "j1", "title": "原样", "body": '["甲", "乙"]'}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    assert (await import_file(service, EDITOR, path, Columns("id", "title", "body"))).created == 1
    (article,) = await service.list()
    assert article["body_text"] == '["甲", "乙"]'


async def test_empty_values_can_be_changed_or_turned_off(engine, clock, tmp_path):
    service = await _service(engine, clock)
    rows = [guide("YZ020", "测试事项", "云州市公安局", days="详见通知", limit="无", phone="/")]
    src = write_guides(tmp_path / "guides.csv", rows)
    await import_file(service, EDITOR, src, GUIDE_COLS, empty_values=("详见通知",))
    (article,) = await service.list()
    assert "法定时限" not in article["body_html"]
    assert "<strong>承诺时限：</strong>无" in article["body_html"] and "<strong>咨询电话：</strong>/" in article["body_html"]
    report = await import_file(service, EDITOR, src, GUIDE_COLS, empty_values=())
    assert report.updated == 1
    (article,) = await service.list()
    assert "<strong>法定时限：</strong>详见通知" in article["body_html"]


async def test_a_body_that_is_only_a_placeholder_is_reported(engine, clock, tmp_path):
    service = await _service(engine, clock)
    path = tmp_path / "kb.csv"
    path.write_text("id,title,body\na1,空的,无\na2,有内容,无需预约，直接到窗口办理。\n", encoding="utf-8")
    report = await import_file(service, EDITOR, path, Columns("id", "title", "body"))
    assert report.created == 1 and report.failed == [(2, "字段 正文(body) 不合法：不能为空")]


def test_blank_values_are_compared_whole():
    blank = cells.Blank()
    assert all(blank(v) for v in ("无", " 无 ", "无。", "暂无", "/", "-", "—", "", None))
    assert not any(blank(v) for v in ("无线下办理窗口", "无条件受理", "无受理条件", "0", "无需材料"))
    assert cells.parse_empty_values("无, 暂无，/") == ("无", "暂无", "/") and cells.parse_empty_values("") == ()


# --- keywords -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, words", [
    ("社保卡、挂失、补卡", ["社保卡", "挂失", "补卡"]),
    ("社保卡 挂失", ["社保卡", "挂失"]),
    ("中小学地方课程教材初审、审定、复查；教材审定", ["中小学地方课程教材初审、审定、复查", "教材审定"]),
    ("甲、乙,丙", ["甲、乙", "丙"]),
    ("公积金 提取|租房", ["公积金 提取", "租房"]),
    ("医保\n异地就医", ["医保", "异地就医"]),
    ("无", []),
    (["初审、审定、复查", " 教材 ", "无", ""], ["初审、审定、复查", "教材"]),  # a list is never split
])
def test_keyword_cells_split_on_their_first_kind_of_separator(cell, words):
    assert cells.keywords(cell, cells.Blank()) == words


async def test_csv_keywords_cell_holding_a_json_list_is_not_split(engine, clock, tmp_path):
    service = await _service(engine, clock)
    path = tmp_path / "kb.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["id", "title", "body", "keywords"],
                                  ["k1", "教材审定", "正文。", '["中小学地方课程教材初审、审定、复查", "教材"]'],
                                  ["k2", "长关键词", "正文。", "社保；" + "很长的关键词" * 9],
                                  ["k3", "年份", "正文。", '[2023, "社保", 12345]'],
                                  ["k4", "年度", "正文。", "[2023, 2024]"]])
    report = await import_file(service, EDITOR, path, Columns("id", "title", "body", keywords="keywords"))
    assert report.created == 4 and report.failed == []
    assert report.warnings == [(3, "关键词“很长的关键词很长的关键词很长的关键词很长…”共 54 字，超过 50 字，已略去")]
    stored = {a["external_id"]: a for a in await service.list()}
    assert stored["k1"]["keywords"] == ["中小学地方课程教材初审、审定、复查", "教材"]
    assert stored["k2"]["keywords"] == ["社保"]
    assert stored["k3"]["keywords"] == ["2023", "社保", "12345"]  # numbers too: not split into "[2023" ... "12345]"
    assert stored["k4"]["keywords"] == ["2023", "2024"]


@pytest.mark.parametrize("cell, kept", [
    ('[1, 2.5, "三"]', ["1", "2.5", "三"]), ("[]", []), ("[1, 2]", "[1, 2]"), ('[true, "a"]', '[true, "a"]'),
    ('[["a"], "b"]', '[["a"], "b"]'), ('[{"a": 1}]', '[{"a": 1}]'), ("[1, 2", "[1, 2"), ("社保", "社保")])
def test_a_json_array_cell_of_strings_and_numbers_is_a_list(cell, kept):
    assert cells.json_list(cell) == kept


# --- units the unit table lacks -------------------------------------------------------------------------

async def test_unknown_units_fail_their_rows_by_default_and_are_summed_up_once(engine, clock, tmp_path):
    service = await _service(engine, clock)
    report = await import_file(service, EDITOR, write_guides(tmp_path / "guides.csv"), GUIDE_COLS)
    assert report.created == 2  # 云州市公安局 by name, 云州市人力资源和社会保障局 by name
    assert report.failed == [(3, "单位 云州省教育厅 不存在"), (4, "单位 云州省教育厅 不存在"),
                             (6, "单位 云州市体育局 不存在")]
    assert report.as_json()["missing_units"] == [{"unit": "云州省教育厅", "rows": 2, "first_row": 3},
                                                 {"unit": "云州市体育局", "rows": 1, "first_row": 6}]
    assert report.unsummarised()[0] == []


async def test_unknown_unit_empty_imports_without_a_unit_and_keeps_an_existing_articles(engine, clock, tmp_path):
    service = await _service(engine, clock)
    src = write_guides(tmp_path / "guides.csv", [guide("YZ030", "体育赛事备案", "sport")])
    assert (await import_file(service, EDITOR, src, GUIDE_COLS, unknown_unit="empty")).created == 1
    (article,) = await service.list()
    assert article["unit_code"] is None
    await service.update(EDITOR, article["id"], {"title": article["title"], "body": article["body_html"],
                                                 "unit": "hrss"})
    write_guides(src, [guide("YZ030", "体育赛事备案", "云州市体育局", standard="赛事举办前30日备案。")])
    report = await import_file(service, EDITOR, src, GUIDE_COLS, unknown_unit="empty")
    assert report.updated == 1 and report.warnings == [(2, "单位 云州市体育局 不存在，未设置责任单位")]
    (article,) = await service.list()
    assert article["unit_code"] == "hrss" and article["body_text"].startswith("赛事举办前30日备案。")


# --- the command ----------------------------------------------------------------------------------------

@pytest.fixture
def runner(monkeypatch):
    for name in ("HOTLINE_DATABASE_URL", "HOTLINE_ELASTICSEARCH_URL", "HOTLINE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def _data_dir(tmp_path) -> str:
    data = init_data_dir(tmp_path / "data")
    units = tmp_path / "units.csv"
    units.write_text("code,name,kind,parent_code\npolice,云州市公安局,department,\n"
                     "hrss,云州市人力资源和社会保障局,department,\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["units", "import", str(units), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return str(data)


def _readme_command() -> list[str]:
    """The service-guide example of knowledge/README.md, as arguments after ``hotline``."""
    text = README.read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```bash\n(.*?)```", text, re.S) if "--id-col TASK_CODE" in b]
    args = shlex.split(block.replace("\\\n", " "))
    assert args[:3] == ["hotline", "kb", "import"]
    return args[1:]


def test_the_readme_service_guide_example_imports_every_row(runner, tmp_path):
    data = _data_dir(tmp_path)
    src = write_guides(tmp_path / "policy_items_core.csv")
    args = _readme_command()
    args[2] = str(src)
    if "--data-dir" in args:
        args[args.index("--data-dir") + 1] = data
    else:
        args += ["--data-dir", data]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["created"], out["failed"]) == (5, [])
    assert out["missing_units"] == [{"unit": "云州省教育厅", "rows": 2, "first_row": 3},
                                    {"unit": "云州市体育局", "rows": 1, "first_row": 6}]
    assert "hotline units import" in result.stderr and "云州省教育厅：2 行" in result.stderr


def test_stderr_sums_up_missing_units_once_and_closes_with_the_counts(runner, tmp_path):
    data = _data_dir(tmp_path)
    rows = [guide(f"YZ{i:03}", f"事项{i}", "云州省教育厅") for i in range(30)]
    src = write_guides(tmp_path / "guides.csv", rows)
    base = ["kb", "import", str(src), "--id-col", "TASK_CODE", "--title-col", "TASK_NAME", "--body-col", BODY,
            "--unit-col", "DEPT_NAME", "--data-dir", data]
    result = runner.invoke(main, base)
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["failed"]) == 30  # every row, in the JSON
    err = result.stderr
    assert "已导入" not in err and "已处理：30/30" in err
    assert "正在更新检索索引" not in err  # nothing was imported
    assert err.count("云州省教育厅") == 1 and "云州省教育厅：30 行（首见第 2 行）" in err
    assert "--unknown-unit empty" in err and "hotline units import" in err
    assert err.rstrip().splitlines()[-1] == "导入完成：新建 0，更新 0，未变 0，失败 30，警告 0"
    # with --unknown-unit empty every row is imported, without a unit
    result = runner.invoke(main, [*base, "--unknown-unit", "empty"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 30
    err = result.stderr
    assert "正在更新检索索引…" in err and err.count("云州省教育厅") == 1 and "第 2 行：单位" not in err
    assert "这些行已导入，未设置责任单位" in err and "--unknown-unit empty" not in err
    assert err.rstrip().splitlines()[-1] == "导入完成：新建 30，更新 0，未变 0，失败 0，警告 30"


def test_a_cut_list_of_failures_says_how_many_more_and_missing_categories_are_said_once(runner, tmp_path):
    data = _data_dir(tmp_path)
    src = tmp_path / "kb.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "body", "category"])
        w.writerows([(f"w{i}", f"标题{i}", "正文。", "没有这个分类") for i in range(23)])
        w.writerows([(f"f{i}", "", "正文。", "") for i in range(25)])
    result = runner.invoke(main, ["kb", "import", str(src), "--id-col", "id", "--title-col", "title",
                                  "--body-col", "body", "--category-col", "category", "--data-dir", data])
    assert result.exit_code == 1
    err = result.stderr
    # the missing category is said once, not once a row; each row's warning is still in the JSON
    assert err.count("没有这个分类") == 1 and "有 1 个分类在分类表中不存在，涉及 23 行，这些行已导入，分类留空" in err
    assert "没有这个分类：23 行（首见第 2 行）" in err and "hotline categories import" in err
    out = json.loads(result.stdout)
    assert len(out["warnings"]) == 23 and out["missing_categories"] == [
        {"category": "没有这个分类", "rows": 23, "first_row": 2}]
    assert err.count("未导入：") == 20 and "……另有 5 条失败未显示，完整列表见标准输出的 JSON（failed）" in err
    assert "导入完成：新建 23，更新 0，未变 0，失败 25，警告 23" in err


def test_empty_values_option(runner, tmp_path):
    data = _data_dir(tmp_path)
    src = write_guides(tmp_path / "guides.csv", [guide("YZ040", "居住证签注", "云州市公安局", limit="无", phone="待定")])
    base = ["kb", "import", str(src), "--id-col", "TASK_CODE", "--title-col", "TASK_NAME", "--body-col", BODY,
            "--data-dir", data]

    def body() -> str:
        assert runner.invoke(main, ["kb", "export", str(tmp_path / "x.jsonl"), "--data-dir", data]).exit_code == 0
        return json.loads((tmp_path / "x.jsonl").read_text(encoding="utf-8"))["body"]

    assert runner.invoke(main, base).exit_code == 0
    assert "承诺时限" not in body() and "待定" in body()  # the default list: 无 is empty
    result = runner.invoke(main, [*base, "--empty-values", "待定"])
    assert json.loads(result.stdout)["updated"] == 1
    assert "<strong>承诺时限：</strong>无" in body() and "待定" not in body()
    help_text = runner.invoke(main, ["kb", "import", "--help"]).output
    assert "--empty-values" in help_text and "--unknown-unit" in help_text


async def test_a_row_not_imported_gets_no_warnings(engine, clock, tmp_path):
    service = await _service(engine, clock)
    src = write_guides(tmp_path / "guides.csv", [guide("YZ050", "甲", "云州省教育厅", theme='["教育科研"]'),
                                                 guide("YZ051", "乙", "云州市公安局", theme='["教育科研"]')])
    report = await import_file(service, EDITOR, src, GUIDE_COLS)
    assert report.failed == [(2, "单位 云州省教育厅 不存在")]
    assert report.warnings == [(3, "分类 教育科研 不在分类表中，已留空")]
    assert report.missing_categories == {"教育科研": [3]}  # row 2 left no article without a category
