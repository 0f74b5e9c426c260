"""Import of odd files: duplicate ids, a JSONL whose first line is not an object, re-import keeping dates."""

from __future__ import annotations

import datetime as dt
import json

from hotline.tables import categories
from knowledge.articles import ArticleService
from knowledge.importer import Columns, import_file
from tests.knowledge.helpers import EDITOR, seed_categories, seed_units

COLS = Columns("id", "title", "body")


async def test_duplicate_ids_in_one_file_are_reported_not_overwritten(engine, clock, tmp_path):
    await seed_units(engine, clock.now())
    service = ArticleService(engine, clock)
    src = tmp_path / "kb.csv"
    src.write_text('\ufeffid,title,body\nd1,社保卡补办,"社保卡丢失请先挂失，\n再到银行补办。"\nd2,路灯报修,路灯不亮请报修。\n'
                   "d1,社保卡补办,旧的说法\n", encoding="utf-8")
    report = await import_file(service, EDITOR, src, COLS)
    assert report.as_json() == {"created": 2, "updated": 0, "unchanged": 0,
                                "failed": [{"row": 3, "error": "编号 d1 与第 1 行重复"}], "warnings": []}
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


async def test_service_guides_compose_the_body_from_labelled_columns_and_lists(engine, clock, tmp_path):
    await seed_units(engine, clock.now())
    async with engine.begin() as conn:  # the file names the category as people write it
        await conn.execute(categories.insert().values(code="C1003", name="户籍办理", level=1))
    service = ArticleService(engine, clock)
    guide = {"code": "g1", "name": "居住证办理", "dept": "云州市公安局", "theme": ["户籍办理", "其他"],
             "standard": "在本市居住半年以上<且>有合法稳定就业", "place": "办理地点：各派出所户籍窗口",
             "materials": ["居民身份证", "", "租房合同"], "phone": None, "objects": ["自然人"]}
    src = tmp_path / "guides.jsonl"
    src.write_text(json.dumps(guide, ensure_ascii=False) + "\n", encoding="utf-8")
    cols = Columns("code", "name", "standard,办理地点=place,所需材料=materials,咨询电话=phone",
                   category="theme", unit="dept", keywords="objects")
    report = await import_file(service, EDITOR, src, cols)
    assert report.as_json()["created"] == 1, report.as_json()
    (article,) = await service.list()
    assert article["body_html"] == ("<p>在本市居住半年以上&lt;且&gt;有合法稳定就业</p>"
                                    "<p><strong>办理地点：</strong>各派出所户籍窗口</p>"
                                    "<p><strong>所需材料：</strong></p><ul><li>居民身份证</li><li>租房合同</li></ul>")
    assert article["unit_code"] == "police" and article["category"] == "C1003"
    assert article["keywords"] == ["自然人"] and article["status"] == "published"
    # the same file again changes nothing
    assert (await import_file(service, EDITOR, src, cols)).as_json()["unchanged"] == 1


async def test_a_missing_body_column_is_named(engine, clock, tmp_path):
    import pytest

    from knowledge.evaluate import InputError

    service = ArticleService(engine, clock)
    src = tmp_path / "guides.jsonl"
    src.write_text(json.dumps({"code": "g1", "name": "居住证办理", "standard": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="缺少列：place"):
        await import_file(service, EDITOR, src, Columns("code", "name", "standard,办理地点=place"))
    with pytest.raises(InputError, match="正文列不能为空"):
        await import_file(service, EDITOR, src, Columns("code", "name", " , "))


async def test_rows_over_the_article_limits_are_reported_an_unknown_category_left_out_the_others_imported(
        engine, clock, tmp_path):
    await seed_units(engine, clock.now())
    await seed_categories(engine)
    service = ArticleService(engine, clock)
    rows = [
        {"id": "ok", "title": "燃气表更换", "body": "满十年免费更换。", "category": "C0803", "keywords": "燃气表、更换"},
        {"id": "many", "title": "关键词太多", "body": "正文", "keywords": "、".join(f"词{i}" for i in range(31))},
        {"id": "long", "title": "关键词太长", "body": "正文", "keywords": ["公积金" * 17, "社保"]},
        {"id": "cat", "title": "分类不存在", "body": "正文", "category": "NOPE"},
        {"id": "name", "title": "分类写名称", "body": "正文", "category": "治安"},
        {"id": "title", "title": "长" * 301, "body": "正文"},
    ]
    src = tmp_path / "kb.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    report = await import_file(service, EDITOR, src, Columns("id", "title", "body", category="category",
                                                             keywords="keywords"))
    assert report.as_json() == {"created": 3, "updated": 0, "unchanged": 0, "failed": [
        {"row": 2, "error": "字段 keywords 不合法：最多 30 项"},
        {"row": 3, "error": "字段 keywords 不合法：第 1 个关键词超过 50 个字符"},
        {"row": 6, "error": "字段 title 不合法：最多 300 个字符"}],
        "warnings": [{"row": 4, "warning": "分类 NOPE 不在分类表中，已留空"}]}
    stored = {a["external_id"]: a for a in await service.list()}
    assert set(stored) == {"ok", "cat", "name"}
    assert stored["ok"]["keywords"] == ["燃气表", "更换"] and stored["name"]["category"] == "C1001"
    assert stored["cat"]["category"] is None  # the article is kept, without the unknown category
