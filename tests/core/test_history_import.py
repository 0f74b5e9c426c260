"""``hotline tickets import``: past tickets from CSV (GBK, UTF-8 with BOM) and JSONL, in their final state.

The CLI tests are plain functions (the command runs its own event loop) on both stores: the database URL
goes in HOTLINE_DATABASE_URL (SQLite URLs are accepted there too). The fixture files are written here.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hotline.cli import main
from hotline.db import make_engine
from hotline.demo_data import __file__ as _demo_init
from hotline.tables import (audit_log, outbox, ticket_counters, ticket_events, ticket_messages, ticket_units,
                            tickets, units)

DEMO = Path(_demo_init).parent
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

HEADER = ["工单编号", "诉求标题", "诉求内容", "来电时间", "处理结果", "办结时间", "承办部门", "问题分类", "诉求类别",
          "所属区县"]
GBK_ROWS = [
    ["H001", "楼道灯坏了", "我住的单元楼道灯坏了一个多星期，晚上上下楼很不方便，请尽快修理。", "2019/4/25 9:32:09",
     "经核实，已责成物业公司于4月26日更换楼道灯泡，现已恢复照明。", "2019/4/26 15:10:00", "云州市住房和城乡建设局",
     "物业管理", "求助", "云湖区"],
    ["H002", "公交站台没有遮雨棚", "8路车云湖站台没有遮雨棚，下雨天等车的老人都淋湿了，建议加装。",
     "2019-04-25 14:05:00", "已纳入今年站台改造计划，预计年底前完成。", "2019-05-09 11:00:00", "transport",
     "C030101", "建议", "云湖区"],
    ["H003", "小区流浪狗伤人", "小区里的流浪狗咬伤了一个小孩，希望有关部门管一管。", "2020/1/2 8:00", "", "",
     "云州市宠物管理站", "C010202", "投诉", ""],
    ["H004", "日期写错的行", "这一行的来电时间不是合法日期。", "2019年13月1日", "", "", "", "", "咨询", ""],
    ["H005", "遛狗不牵绳", "公园里很多人遛狗不牵绳，吓到孩子。", "2020/3/8 17:45", "已转交属地街道加强巡查劝导。",
     "2020/3/12 9:00", "云州市宠物管理站", "宠物管理", "举报", ""],
    ["H006", "社保转移咨询", "从外省调回本市工作，养老保险关系怎么转移？", "2021-03-15T10:20:30+08:00",
     "请携带身份证到市社保中心窗口办理转移接续，也可在网上经办大厅申请。", "2021-03-15T16:00:00+08:00", "hrss",
     "养老保险", "意见建议", ""],
    ["H007", "类型乱写的行", "这一行的诉求类别不认识。", "2021/5/1 10:00", "", "", "", "", "随便写", ""],
]
IMPORTED_GBK = 5  # H004 (date) and H007 (type) fail


def write_csv(path: Path, rows, encoding: str, header=HEADER) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


GBK_ARGS = ["--id-col", "工单编号", "--title-col", "诉求标题", "--text-col", "诉求内容", "--created-col", "来电时间",
            "--reply-col", "处理结果", "--replied-col", "办结时间", "--unit-col", "承办部门", "--category-col",
            "问题分类", "--type-col", "诉求类别", "--district-col", "所属区县", "--source", "old12345"]


@pytest.fixture
def cli(store_url, tmp_path, monkeypatch):
    """Invoke ``hotline`` on this test's store (units and categories of the demo city imported)."""
    monkeypatch.setenv("HOTLINE_DATABASE_URL", store_url)
    for name in ("HOTLINE_ELASTICSEARCH_URL", "HOTLINE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, [*map(str, args), "--data-dir", str(tmp_path / "data")])

    for what in ("units", "categories"):
        assert invoke(what, "import", DEMO / f"{what}.csv").exit_code == 0
    return invoke


def query(store_url: str, fn):
    """``await fn(conn)`` on a fresh engine (the tests are synchronous: the CLI runs its own loop)."""
    async def go():
        engine = make_engine(store_url)
        try:
            async with engine.connect() as conn:
                return await fn(conn)
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def counts(conn) -> dict:
    out = {}
    for table in (tickets, ticket_messages, ticket_units, ticket_events, ticket_counters, outbox, audit_log):
        out[table.name] = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
    return out


def test_import_summary_state_numbers_and_idempotent_rerun(cli, store_url, tmp_path):
    src = write_csv(tmp_path / "history_gbk.csv", GBK_ROWS, "gbk")
    before = query(store_url, counts)
    result = cli("tickets", "import", src, *GBK_ARGS, "--json")
    assert result.exit_code == 1, result.output  # some rows failed
    summary = json.loads(result.stdout)
    assert summary == {
        "rows": 7, "imported": IMPORTED_GBK, "skipped_existing": 0, "dry_run": False,
        "errors": [{"row": 5, "error": "受理时间 2019年13月1日 不是合法的日期时间（如 2019/4/25 9:32:09、"
                                        "2019-04-25 09:32:09 或 2019-04-25T09:32:09+08:00）"},
                   {"row": 8, "error": "诉求类型 随便写 不合法（可用：咨询、求助、投诉、举报、建议、表扬）"}],
        "unknown_units": [{"unit": "云州市宠物管理站", "rows": 2, "first_row": 4}],
        "missing_categories": [{"category": "宠物管理", "rows": 1, "first_row": 6}]}
    assert "已处理：7/7" in result.stderr and "第 5 行未导入" in result.stderr
    assert "云州市宠物管理站：2 行（首见第 4 行）" in result.stderr
    assert "导入完成：导入 5，已存在跳过 0，失败 2（共 7 行）" in result.stderr

    async def read(conn):
        rows = (await conn.execute(sa.select(tickets).order_by(tickets.c.id))).mappings().all()
        imported = [dict(r) for r in rows if r["channel"] == "import"]
        for t in imported:
            t["messages"] = (await conn.execute(sa.select(ticket_messages.c.direction, ticket_messages.c.author,
                                                          ticket_messages.c.text, ticket_messages.c.created_at)
                                                .where(ticket_messages.c.ticket_id == t["id"])
                                                .order_by(ticket_messages.c.id))).all()
            t["units"] = (await conn.execute(sa.select(units.c.code, ticket_units.c.role, ticket_units.c.active)
                                             .join(units, units.c.id == ticket_units.c.unit_id)
                                             .where(ticket_units.c.ticket_id == t["id"]))).all()
        return imported, await counts(conn)

    imported, after = query(store_url, read)
    by_id = {t["extra"]["imported"]["id"]: t for t in imported}
    assert sorted(by_id) == ["H001", "H002", "H003", "H005", "H006"]
    # numbers by the day each ticket was made, in the order of the file
    assert {k: t["number"] for k, t in by_id.items()} == {
        "H001": "2019042500001", "H002": "2019042500002", "H003": "2020010200001", "H005": "2020030800001",
        "H006": "2021031500001"}
    h1 = by_id["H001"]
    assert h1["state"] == "closed" and h1["request_type"] == "求助" and h1["district"] == "云湖区"
    assert h1["created_at"] == dt.datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)
    assert h1["replied_at"] == h1["closed_at"] == dt.datetime(2019, 4, 26, 15, 10, tzinfo=SHANGHAI)
    assert h1["extra"]["imported"]["source"] == "old12345" and h1["title"] == "楼道灯坏了"
    assert [(m.direction, m.author) for m in h1["messages"]] == [("in", None), ("out", "云州市住房和城乡建设局")]
    assert h1["messages"][1].text.startswith("经核实") and h1["units"] == [("housing", "lead", True)]
    # nothing live: no deadlines, no routing, no outbox row (no notices), one import event each
    assert all(t["sign_due_at"] is None and t["reply_due_at"] is None and t["routing"] is None for t in imported)
    assert after["outbox"] == before["outbox"]
    assert after["ticket_events"] - before["ticket_events"] == IMPORTED_GBK
    assert after["audit_log"] == before["audit_log"] + 1
    # never answered: closed, without reply; an unknown unit leaves none, its name kept in extra
    h3 = by_id["H003"]
    assert (h3["state"], h3["replied_at"], h3["closed_at"], h3["lead_unit_id"]) == ("closed", None, None, None)
    assert h3["units"] == [] and h3["extra"]["imported"]["unit"] == "云州市宠物管理站"
    assert [m.direction for m in h3["messages"]] == ["in"] and h3["request_type"] == "投诉"
    assert by_id["H005"]["category_id"] is None and by_id["H005"]["extra"]["imported"]["category"] == "宠物管理"
    assert by_id["H006"]["request_type"] == "建议"  # 意见建议

    again = cli("tickets", "import", src, *GBK_ARGS, "--json")
    assert again.exit_code == 1
    summary = json.loads(again.stdout)
    assert (summary["imported"], summary["skipped_existing"], len(summary["errors"])) == (0, IMPORTED_GBK, 2)
    assert summary["unknown_units"] == [] and summary["missing_categories"] == []
    assert {k: v for k, v in query(store_url, counts).items() if k != "audit_log"} == \
        {k: v for k, v in after.items() if k != "audit_log"}


def test_dry_run_reports_the_same_and_writes_nothing(cli, store_url, tmp_path):
    src = write_csv(tmp_path / "history_gbk.csv", GBK_ROWS, "gbk")
    before = query(store_url, counts)
    result = cli("tickets", "import", src, *GBK_ARGS, "--dry-run", "--json")
    assert result.exit_code == 1
    dry = json.loads(result.stdout)
    assert dry["dry_run"] is True and dry["imported"] == IMPORTED_GBK and len(dry["errors"]) == 2
    assert "试运行完成（未写入）：可导入 5" in result.stderr and "这些工单将导入" in result.stderr
    assert query(store_url, counts) == before
    real = json.loads(cli("tickets", "import", src, *GBK_ARGS, "--json").stdout)
    assert {**dry, "dry_run": False} == real
    dry = json.loads(cli("tickets", "import", src, *GBK_ARGS, "--dry-run", "--json").stdout)
    assert (dry["imported"], dry["skipped_existing"]) == (0, IMPORTED_GBK)


def test_bad_command_line_is_chinese_exit_2_and_writes_nothing(cli, store_url, tmp_path):
    src = write_csv(tmp_path / "history_gbk.csv", GBK_ROWS, "gbk")
    before = query(store_url, counts)
    result = cli("tickets", "import", tmp_path / "missing.csv", "--text-col", "诉求内容")
    assert result.exit_code == 2 and "文件不存在" in result.stderr
    result = cli("tickets", "import", src, *GBK_ARGS, "--unit-col", "承办单位")
    assert result.exit_code == 2 and "缺少列：承办单位" in result.stderr and "已有列" in result.stderr
    result = cli("tickets", "import", src, "--text-col", "诉求内容", "--intake-line", "99999")
    assert result.exit_code == 2 and "未知的热线号码 99999" in result.stderr
    result = cli("tickets", "import", src, "--text-col", "诉求内容", "--source", "a:b")
    assert result.exit_code == 2 and "--source" in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    result = cli("tickets", "import", empty, "--text-col", "诉求内容")
    assert result.exit_code == 2 and "文件为空" in result.stderr
    assert query(store_url, counts) == before


def test_utf8_bom_multiline_cells_without_id_and_jsonl(cli, store_url, tmp_path):
    header = ["主题", "详情", "时间", "回复", "回复时间", "单位"]
    # line breaks as Excel escapes them (_x000D_), as CSV exports of old systems' workbooks often leave them
    rows = [["噪音扰民", "楼下饭店排风机_x000D_\n每天开到凌晨两点，_x000D_\n吵得睡不着。", "2019-06-01 22:10:00",
             "已联系商户调整排风机运行时间。", "2019-06-03 10:00:00", "ecology"],
            ["停水通知", "为什么我们小区今天停水也没提前通知？", "2019/6/2 7:30", "", "", "水务局"]]
    src = write_csv(tmp_path / "bom.csv", rows, "utf-8-sig", header=header)
    args = ["--text-col", "主题,详情", "--title-col", "主题", "--created-col", "时间", "--reply-col", "回复",
            "--replied-col", "回复时间", "--unit-col", "单位", "--json"]
    first = json.loads(cli("tickets", "import", src, *args).stdout)
    assert (first["imported"], first["errors"]) == (2, [])
    assert first["unknown_units"] == [{"unit": "水务局", "rows": 1, "first_row": 3}]  # not the full name
    again = json.loads(cli("tickets", "import", src, *args).stdout)
    assert (again["imported"], again["skipped_existing"]) == (0, 2)  # matched by a hash of title, text, time

    lines = [{"id": 9001, "text": "医保卡丢了怎么补办？", "created": "2022-08-08 09:00:00", "reply": "可到任一医保经办网点补办。",
              "replied": "2022-08-08 11:30:00", "unit": "medical-insurance", "type": "咨询"},
             {"id": 9002, "text": "菜市场的秤缺斤短两。", "created": "2022/8/9 16:20", "reply": "", "replied": "",
              "unit": "云州市市场监督管理局", "type": "投诉"}]
    jsonl = tmp_path / "history.jsonl"
    jsonl.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    args = ["--id-col", "id", "--text-col", "text", "--created-col", "created", "--reply-col", "reply",
            "--replied-col", "replied", "--unit-col", "unit", "--type-col", "type", "--json"]
    out = json.loads(cli("tickets", "import", jsonl, *args).stdout)
    assert (out["imported"], out["errors"], out["unknown_units"]) == (2, [], [])

    async def read(conn):
        return (await conn.execute(sa.select(tickets.c.number, tickets.c.text, tickets.c.title, tickets.c.extra)
                                   .where(tickets.c.channel == "import").order_by(tickets.c.id))).all()

    found = query(store_url, read)
    assert found[0].text == "噪音扰民\n楼下饭店排风机\n每天开到凌晨两点，\n吵得睡不着。" and found[0].title == "噪音扰民"
    assert found[0].extra["imported"]["id"].startswith("sha256:")
    assert [f.number for f in found[2:]] == ["2022080800001", "2022080900001"]
    assert found[2].extra["imported"] == {"source": "history", "id": "9001", "file": "history.jsonl", "row": 1}


def test_numbering_by_past_day_never_clashes_with_live_tickets(cli, store_url, tmp_path):
    from hotline.service import NewTicket, TicketService

    async def live(conn=None):
        service = TicketService(make_engine(store_url))
        try:
            made = await service.create_ticket(NewTicket(channel="phone", text="今天的来电：路口信号灯不亮"))
            async with service.engine.connect() as c:
                return made["number"], (await c.execute(sa.select(tickets.c.created_at).where(
                    tickets.c.id == made["id"]))).scalar_one()
        finally:
            await service.engine.dispose()

    number, created = asyncio.run(live())
    today = number[:8]
    header = ["id", "text", "created"]
    src = write_csv(tmp_path / "days.csv", [
        ["d1", "五年前的一张工单", "2021/12/1 9:00:00"],
        ["d2", "和今天的来电同一天的历史工单", created.astimezone(SHANGHAI).strftime("%Y/%m/%d %H:%M:%S")],
        ["d3", "同一天的另一张五年前的工单", "2021-12-01 18:30"]], "utf-8", header=header)
    out = json.loads(cli("tickets", "import", src, "--id-col", "id", "--text-col", "text", "--created-col",
                         "created", "--json").stdout)
    assert out["imported"] == 3
    number_after, _ = asyncio.run(live())

    async def numbers(conn):
        return dict((await conn.execute(sa.select(tickets.c.text, tickets.c.number))).all())

    got = query(store_url, numbers)
    assert got["五年前的一张工单"] == "2021120100001" and got["同一天的另一张五年前的工单"] == "2021120100002"
    assert got["和今天的来电同一天的历史工单"] == f"{today}{int(number[8:]) + 1:05d}"
    assert number_after == f"{today}{int(number[8:]) + 2:05d}"  # the live counter went on past it
    future = write_csv(tmp_path / "future.csv", [["f1", "来自未来", "2099-01-01 00:00:00"]], "utf-8", header=header)
    out = json.loads(cli("tickets", "import", future, "--id-col", "id", "--text-col", "text", "--created-col",
                         "created", "--json").stdout)
    assert out["errors"] == [{"row": 2, "error": "受理时间 2099-01-01 00:00:00 晚于当前时间"}]
    early = write_csv(tmp_path / "early.csv", [["e1", "先答复后受理", "2019-05-02 09:00", "已处理", "2019-05-01 09:00"],
                                                ["e2", "答复时间写错", "2019-05-02 09:00", "已处理", "五月三日"]],
                      "utf-8", header=[*header, "reply", "replied"])
    out = json.loads(cli("tickets", "import", early, "--id-col", "id", "--text-col", "text", "--created-col",
                         "created", "--reply-col", "reply", "--replied-col", "replied", "--json").stdout)
    assert [e["row"] for e in out["errors"]] == [2, 3] and out["imported"] == 0
    assert out["errors"][0]["error"] == "答复时间早于受理时间（2019-05-01 09:00:00 < 2019-05-02 09:00:00）"
    assert out["errors"][1]["error"].startswith("答复时间 五月三日 不是合法的日期时间")


def test_assist_finds_the_imported_ticket_with_reply_and_unit(cli, store_url, tmp_path):
    from hotline.config import Settings
    from knowledge.assist import Assist
    from knowledge.search import make_index

    src = write_csv(tmp_path / "history_gbk.csv", GBK_ROWS, "gbk")
    result = cli("tickets", "import", src, *GBK_ARGS)
    assert "正在更新检索索引" in result.stderr

    async def suggest():
        engine = make_engine(store_url)
        index = make_index(Settings(database_url=store_url), engine)
        await index.open()
        try:
            return await Assist(index, engine).suggest("我们楼的楼道灯坏了，晚上黑漆漆的")
        finally:
            await index.close()
            await engine.dispose()

    similar = asyncio.run(suggest())["similar_tickets"]
    hit = next(t for t in similar if t["number"] == "2019042500001")
    assert hit["state"] == "closed" and hit["unit"] == "housing" and hit["unit_name"] == "云州市住房和城乡建设局"
    assert hit["reply"].startswith("经核实，已责成物业公司") and hit["category"] == "C010202"
    assert hit["created_at"].startswith("2019-04-25")


def test_retrain_history_learns_from_imported_tickets(cli, store_url, tmp_path):
    from routing.retrain import load_history

    src = write_csv(tmp_path / "history_gbk.csv", GBK_ROWS, "gbk")
    cli("tickets", "import", src, *GBK_ARGS)

    async def history():
        engine = make_engine(store_url)
        try:
            return await load_history(engine)
        finally:
            await engine.dispose()

    examples = {e.text: e for e in asyncio.run(history())}
    # with a unit and a category (H001, H002, H006); H003 has no unit, H005 neither unit nor category
    assert examples["楼道灯坏了。我住的单元楼道灯坏了一个多星期，晚上上下楼很不方便，请尽快修理。"].category == "C010202"
    assert any(e.category == "C030101" and e.request_type == "建议" for e in examples.values())
    assert any(e.category == "C050101" for e in examples.values())
    assert not any("流浪狗" in text or "遛狗" in text for text in examples)


async def test_a_crash_half_way_keeps_whole_batches_and_a_rerun_completes(service, tmp_path, monkeypatch):
    from hotline import history

    src = write_csv(tmp_path / "history_gbk.csv", GBK_ROWS, "gbk")
    cols = history.Columns(["诉求内容"], "诉求标题", "工单编号", "来电时间", "处理结果", "办结时间", "承办部门",
                           "问题分类", "诉求类别")
    write = history._write
    calls = 0

    async def dying(conn, row, info, now, tz):
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("power cut")
        return await write(conn, row, info, now, tz)

    monkeypatch.setattr(history, "_write", dying)
    with pytest.raises(RuntimeError):
        await history.import_history(service.engine, src, cols, source="s", now=service.now(), batch=2)
    async with service.engine.connect() as conn:
        kept = (await conn.execute(sa.select(tickets.c.number).where(tickets.c.channel == "import"))).scalars().all()
    assert sorted(kept) == ["2019042500001", "2019042500002"]  # the first batch; the second rolled back whole
    monkeypatch.setattr(history, "_write", write)
    report = await history.import_history(service.engine, src, cols, source="s", now=service.now(), batch=2)
    assert (report.imported, report.skipped_existing, len(report.errors)) == (3, 2, 2)
    async with service.engine.connect() as conn:
        numbers = (await conn.execute(sa.select(tickets.c.number).where(tickets.c.channel == "import"))).scalars()
        assert sorted(numbers) == ["2019042500001", "2019042500002", "2020010200001", "2020030800001",
                                   "2021031500001"]  # the rolled-back batch left no gap in its days' numbers


@pytest.mark.parametrize("text, expected", [
    ("2019/4/25 9:32:09", dt.datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)),
    ("2019-04-25 09:32:09", dt.datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)),
    ("2019-04-25T09:32:09+08:00", dt.datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)),
    ("2019-04-25T01:32:09Z", dt.datetime(2019, 4, 25, 9, 32, 9, tzinfo=SHANGHAI)),
    ("2019/4/25 9:32", dt.datetime(2019, 4, 25, 9, 32, tzinfo=SHANGHAI)),
    ("2019/4/25", dt.datetime(2019, 4, 25, tzinfo=SHANGHAI)),
    ("2019年4月25日 9时32分", dt.datetime(2019, 4, 25, 9, 32, tzinfo=SHANGHAI)),
    ("2019.04.25 09:32:09.5", dt.datetime(2019, 4, 25, 9, 32, 9, 500000, tzinfo=SHANGHAI)),
])
def test_date_formats(text, expected):
    from hotline.history_read import parse_time

    assert parse_time(text, "Asia/Shanghai") == expected


@pytest.mark.parametrize("text", ["2019/2/30", "25/4/2019", "昨天", "2019-04-25 25:00"])
def test_bad_dates(text):
    from hotline.history_read import parse_time

    with pytest.raises(ValueError):
        parse_time(text, "Asia/Shanghai")


def test_request_types():
    from hotline.history_read import request_type

    assert [request_type(v, "求助") for v in ("", "咨询", "投诉类", "意见建议", "求决")] == \
        ["求助", "咨询", "投诉", "建议", "求助"]
    with pytest.raises(ValueError, match="诉求类型 其他 不合法"):
        request_type("其他", "求助")
