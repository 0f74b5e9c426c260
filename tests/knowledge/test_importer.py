"""Import of odd files: duplicate ids, a JSONL whose first line is not an object, re-import keeping dates."""

from __future__ import annotations

import datetime as dt
import json

from knowledge.articles import ArticleService
from knowledge.importer import Columns, import_file
from tests.knowledge.helpers import EDITOR, seed_units

COLS = Columns("id", "title", "body")


async def test_duplicate_ids_in_one_file_are_reported_not_overwritten(engine, clock, tmp_path):
    await seed_units(engine, clock.now())
    service = ArticleService(engine, clock)
    src = tmp_path / "kb.csv"
    src.write_text('\ufeffid,title,body\nd1,社保卡补办,"社保卡丢失请先挂失，\n再到银行补办。"\nd2,路灯报修,路灯不亮请报修。\n'
                   "d1,社保卡补办,旧的说法\n", encoding="utf-8")
    report = await import_file(service, EDITOR, src, COLS)
    assert report.as_json() == {"created": 2, "updated": 0, "unchanged": 0,
                                "failed": [{"row": 3, "error": "编号 d1 与第 1 行重复"}]}
    (first,) = [a for a in await service.list() if a["external_id"] == "d1"]
    assert first["version"] == 1 and first["body_text"] == "社保卡丢失请先挂失， 再到银行补办。"


async def test_jsonl_whose_first_line_is_not_an_object(engine, clock, tmp_path):
    await seed_units(engine, clock.now())
    service = ArticleService(engine, clock)
    src = tmp_path / "kb.jsonl"
    src.write_text("1\n" + json.dumps({"id": "j1", "title": "路灯报修", "body": "路灯不亮请报修。"},
                                      ensure_ascii=False) + "\n", encoding="utf-8")
    report = await import_file(service, EDITOR, src, COLS)
    assert report.created == 1 and report.failed == [(1, "不是 JSON 对象")]


async def test_reimport_keeps_the_validity_and_review_dates(engine, clock, tmp_path):
    await seed_units(engine, clock.now())
    service = ArticleService(engine, clock)
    src = tmp_path / "kb.csv"
    src.write_text("id,title,body\nd1,社保卡补办,社保卡丢失请先挂失。\n", encoding="utf-8")
    await import_file(service, EDITOR, src, COLS)
    (art,) = await service.list()
    due = clock.now() + dt.timedelta(days=30)
    until = clock.now() + dt.timedelta(days=365)
    await service.update(EDITOR, art["id"], {"title": art["title"], "body": art["body_html"],
                                             "review_due_at": due.isoformat(), "valid_to": until.isoformat()})
    src.write_text("id,title,body\nd1,社保卡补办,社保卡丢失请先挂失，再到银行补办。\n", encoding="utf-8")
    assert (await import_file(service, EDITOR, src, COLS)).updated == 1
    art = await service.get(art["id"])
    assert art["body_text"] == "社保卡丢失请先挂失，再到银行补办。"
    assert dt.datetime.fromisoformat(art["review_due_at"]) == due
    assert dt.datetime.fromisoformat(art["valid_to"]) == until
