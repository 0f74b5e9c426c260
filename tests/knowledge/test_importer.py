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
                                "failed": [{"row": 4, "error": "编号 d1 与第 2 行重复"}], "warnings": [],
                                "missing_units": [], "missing_categories": []}
    (first,) = [a for a in await service.list() if a["external_id"] == "d1"]
    assert first["version"] == 1 and first["body_text"] == "社保卡丢失请先挂失，\n再到银行补办。"  # its line break kept


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
    assert report.as_json() == {"created": 4, "updated": 0, "unchanged": 0, "failed": [
        {"row": 2, "error": "字段 关键词(keywords) 不合法：最多 30 项"},
        {"row": 6, "error": "字段 标题(title) 不合法：最多 300 个字符"}],
        "warnings": [{"row": 3, "warning": "关键词“公积金公积金公积金公积金公积金公积金公积…”共 51 字，超过 50 字，已略去"},
                     {"row": 4, "warning": "分类 NOPE 不在分类表中，已留空"}], "missing_units": [],
        "missing_categories": [{"category": "NOPE", "rows": 1, "first_row": 4}]}
    stored = {a["external_id"]: a for a in await service.list()}
    assert set(stored) == {"ok", "long", "cat", "name"}
    assert stored["ok"]["keywords"] == ["燃气表", "更换"] and stored["name"]["category"] == "C1001"
    assert stored["long"]["keywords"] == ["社保"]  # the over-long keyword dropped, the article imported
    assert stored["cat"]["category"] is None  # the article is kept, without the unknown category


FULL = Columns("id", "title", "body", category="category", unit="unit", keywords="keywords")


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


async def test_columns_not_given_leave_an_existing_articles_fields_alone(engine, clock, tmp_path):
    await seed_units(engine, clock.now())
    await seed_categories(engine)
    service = ArticleService(engine, clock)
    src = _jsonl(tmp_path / "kb.jsonl", [{"id": "d1", "title": "灵活就业社保缴费", "body": "按月缴纳。",
                                         "category": "C0803", "unit": "hrss", "keywords": "社保缴费、灵活就业"}])
    assert (await import_file(service, EDITOR, src, FULL)).created == 1
    _jsonl(src, [{"id": "d1", "title": "灵活就业社保缴费", "body": "按月或按季缴纳。"},
                 {"id": "d2", "title": "路灯报修", "body": "路灯不亮请报修。"}])
    report = await import_file(service, EDITOR, src, COLS)
    assert (report.created, report.updated, report.failed) == (1, 1, [])
    stored = {a["external_id"]: a for a in await service.list()}
    assert stored["d1"]["body_text"] == "按月或按季缴纳。"
    assert (stored["d1"]["category"], stored["d1"]["unit_code"], stored["d1"]["keywords"]) == (
        "C0803", "hrss", ["社保缴费", "灵活就业"])
    assert (stored["d2"]["category"], stored["d2"]["unit_code"], stored["d2"]["keywords"]) == (None, None, [])
    # a column that is given sets the field (an empty keywords cell clears them), and the same file is unchanged
    _jsonl(src, [{"id": "d1", "title": "灵活就业社保缴费", "body": "按月或按季缴纳。", "keywords": ""}])
    cols = Columns("id", "title", "body", keywords="keywords")
    assert (await import_file(service, EDITOR, src, cols)).updated == 1
    assert (await import_file(service, EDITOR, src, cols)).unchanged == 1
    d1 = await service.get(stored["d1"]["id"])
    assert (d1["keywords"], d1["category"], d1["unit_code"]) == ([], "C0803", "hrss")


async def test_draft_import_sends_an_edit_of_a_published_article_to_review(engine, clock, tmp_path):
    await seed_units(engine, clock.now())
    service = ArticleService(engine, clock)
    src = _jsonl(tmp_path / "kb.jsonl", [{"id": "p1", "title": "公积金提取", "body": "租房可以提取。"},
                                         {"id": "p2", "title": "社保卡补办", "body": "先挂失。"},
                                         {"id": "p3", "title": "路灯报修", "body": "请报修。"}])
    await import_file(service, EDITOR, src, COLS)
    stored = {a["external_id"]: a for a in await service.list()}
    await service.transition(EDITOR, stored["p3"]["id"], "expire")
    _jsonl(src, [{"id": "p1", "title": "公积金提取", "body": "【草稿修改】租房每年可以提取一次。"},
                 {"id": "p2", "title": "社保卡补办", "body": "先挂失。"},
                 {"id": "p3", "title": "路灯报修", "body": "请拨打12345报修。"},
                 {"id": "n1", "title": "新政策", "body": "尚未审核。"}])
    report = await import_file(service, EDITOR, src, COLS, publish=False)
    assert (report.created, report.updated, report.unchanged, report.failed) == (1, 2, 1, [])
    after = {a["external_id"]: a for a in await service.list()}
    # the published article stays live as it was; the edit waits as its pending revision (knowledge/revisions.py)
    assert (after["p1"]["status"], after["p1"]["body_text"], after["p1"]["has_pending_revision"]) == (
        "published", "租房可以提取。", True)
    pending = (await service.get(after["p1"]["id"]))["pending_revision"]
    assert pending["body_text"] == "【草稿修改】租房每年可以提取一次。"
    assert after["p2"]["status"] == "published" and after["p2"]["version"] == 1  # unchanged rows are left alone
    assert after["p3"]["status"] == "in_review" and after["n1"]["status"] == "draft"  # an expired one: to review
    # an editor publishes the reviewed edit
    done = await service.revision_action(EDITOR, after["p1"]["id"], "publish_revision")
    assert (done["status"], done["version"], done["body_text"]) == ("published", 2, "【草稿修改】租房每年可以提取一次。")


async def _knowledge_base(service) -> list[tuple]:
    keys = ("id", "external_id", "title", "body_html", "category", "unit_code", "keywords", "status", "version",
            "valid_from", "valid_to", "review_due_at")
    return [tuple(a[k] for k in keys) for a in await service.list(limit=1000)]


async def _mixed_knowledge_base(engine, clock, tmp_path) -> ArticleService:
    """Imported and console-made articles in every status, some with validity and review dates."""
    await seed_units(engine, clock.now())
    await seed_categories(engine)
    service = ArticleService(engine, clock)
    src = _jsonl(tmp_path / "seed.jsonl", [
        {"id": "demo-001", "title": "灵活就业社保缴费", "body": "<p>按月缴纳。</p>", "category": "C0803",
         "unit": "hrss", "keywords": "社保缴费、灵活就业"},
        {"id": "demo-003", "title": "退休人员养老金调整", "body": "每年七月发放。", "unit": "hrss"},
        {"id": "demo-004", "title": "住房公积金提取条件", "body": "租房可以提取。", "keywords": "公积金"}])
    await import_file(service, EDITOR, src, FULL)
    ids = {a["external_id"]: a["id"] for a in await service.list()}
    await service.transition(EDITOR, ids["demo-003"], "expire")
    await service.transition(EDITOR, ids["demo-004"], "archive")
    console = await service.create(EDITOR, {"title": "控制台新建：燃气费缴纳", "body": "可在营业厅缴纳。",
                                            "unit": "hrss", "keywords": ["燃气费"], "valid_from": "2026-01-01",
                                            "valid_to": "2030-12-31", "review_due_at": "2027-06-30"})
    await service.transition(EDITOR, console["id"], "publish")
    await service.create(EDITOR, {"title": "草稿：尚未审核的新政策", "body": "新政策内容。"})
    return service


async def test_export_then_import_gives_the_same_knowledge_base(engine, clock, tmp_path):
    from knowledge.exporter import export_file

    service = await _mixed_knowledge_base(engine, clock, tmp_path)
    before = await _knowledge_base(service)
    statuses = {"published", "expired", "archived", "draft"}
    assert {row[7] for row in before} == statuses
    cols = Columns("id", "title", "body", "category", "unit", "keywords", status="status",
                   valid_from="valid_from", valid_to="valid_to", review_due_at="review_due_at")
    for name in ("kb.csv", "kb.jsonl"):
        assert await export_file(engine, tmp_path / name) == 5
        report = await import_file(service, EDITOR, tmp_path / name, cols)
        assert report.as_json() == {"created": 0, "updated": 0, "unchanged": 5, "failed": [], "warnings": [], "missing_units": [], "missing_categories": []}
        assert await _knowledge_base(service) == before
    # without the status and date columns: an archived or expired article the row leaves as it is stays so
    report = await import_file(service, EDITOR, tmp_path / "kb.csv", FULL)
    assert report.as_json() == {"created": 0, "updated": 1, "unchanged": 4, "failed": [], "warnings": [], "missing_units": [], "missing_categories": []}
    after = {a["title"]: a for a in await service.list()}
    assert after["草稿：尚未审核的新政策"]["status"] == "published"  # without --status-col rows are published
    assert after["退休人员养老金调整"]["status"] == "expired" and after["住房公积金提取条件"]["status"] == "archived"
    assert len(after) == 5 and after["控制台新建：燃气费缴纳"]["valid_to"] is not None


async def test_status_column_moves_articles_through_the_workflow(engine, clock, tmp_path):
    service = await _mixed_knowledge_base(engine, clock, tmp_path)
    ids = {a["title"]: a["id"] for a in await service.list()}
    cols = Columns("id", "title", "body", status="status", valid_to="valid_to")
    src = _jsonl(tmp_path / "kb.jsonl", [
        {"id": f"#{ids['草稿：尚未审核的新政策']}", "title": "草稿：尚未审核的新政策", "body": "新政策内容。",
         "status": "已发布", "valid_to": ""},
        {"id": "demo-001", "title": "灵活就业社保缴费", "body": "<p>按月缴纳。</p>", "status": "draft", "valid_to": ""},
        {"id": "demo-004", "title": "住房公积金提取条件", "body": "租房每年可以提取一次。", "status": "in_review",
         "valid_to": ""},
        {"id": "demo-003", "title": "退休人员养老金调整", "body": "每年七月发放。", "status": "停用", "valid_to": ""},
        {"id": "new-exp", "title": "旧政策", "body": "已失效。", "status": "expired", "valid_to": "2020-12-31"},
        {"id": "new-pub", "title": "过期的新知识", "body": "正文。", "status": "published", "valid_to": "2020-12-31"},
        {"id": "#99999", "title": "别处导出的", "body": "正文。", "status": "draft", "valid_to": ""},
    ])
    report = await import_file(service, EDITOR, src, cols)
    assert report.as_json() == {"created": 1, "updated": 2, "unchanged": 0, "warnings": [], "missing_units": [], "missing_categories": [], "failed": [
        {"row": 2, "error": "不能把“已发布”的知识直接改为“草稿”（请在控制台的知识库中操作）"},
        {"row": 4, "error": "状态 停用 不合法（可用：草稿、待审核、已发布、已过期、已归档，"
                            "或 draft、in_review、published、expired、archived）"},
        {"row": 6, "error": "失效日期已过，不能发布；请修改失效日期，或把状态写为“已过期”"},
        {"row": 7, "error": "编号 #99999 指本库第 99999 条知识，但本库没有这条知识"
                            "（# 加数字的编号由导出生成，只能导回导出它的知识库）"}]}
    after = {a["title"]: a for a in await service.list()}
    assert after["草稿：尚未审核的新政策"]["status"] == "published"
    assert after["灵活就业社保缴费"]["status"] == "published" and after["灵活就业社保缴费"]["version"] == 1
    restored = after["住房公积金提取条件"]
    assert restored["status"] == "in_review" and restored["body_text"] == "租房每年可以提取一次。"
    old = after["旧政策"]
    assert old["status"] == "expired" and old["valid_to"].startswith("2020-12-31T15:59:59")
    assert "过期的新知识" not in after and "别处导出的" not in after
