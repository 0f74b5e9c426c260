"""Versions record every editable field; the diff lists field changes beside the body's, never from unknown."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from knowledge.diff import field_changes, version_diff
from knowledge.tables import kb_article_versions
from tests.knowledge.web_helpers import EDITOR, json_of, unit_header, web_client

ARTICLES = "/api/v1/kb/articles"


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    return await web_client(aiohttp_client, engine, clock, tmp_path)


async def test_keywords_category_unit_and_dates_are_versioned_and_diffed(client):
    gas = await unit_header(client, "gas")
    art = await json_of(await client.post(ARTICLES, json={
        "title": "燃气开户", "body": "<p>携带房产证明到营业厅办理。</p>", "category": "C0803",
        "keywords": ["开户", "通气"], "valid_to": "2026-12-31"}, headers=gas), 201)
    # the tester's edit: new keywords, another category and end date, the body as it was
    await json_of(await client.put(f"{ARTICLES}/{art['id']}", json={
        "keywords": ["开户", "燃气报装"], "category": "C0103", "valid_to": "2027-03-31", "unit": "water"},
        headers=EDITOR))
    d = await json_of(await client.get(f"{ARTICLES}/{art['id']}/diff?from=1&to=2", headers=EDITOR))
    fields = {c["field"]: c for c in d["changes"]}
    assert list(fields) == ["category", "unit", "keywords", "valid_to"]
    assert fields["keywords"] == {
        "field": "keywords", "label": "关键词", "op": "replace", "from": ["开户", "通气"], "to": ["开户", "燃气报装"],
        "old": "开户、通气", "new": "开户、燃气报装",
        "segments": [{"op": "equal", "text": "开户"}, {"op": "equal", "text": "、"}, {"op": "delete", "text": "通气"},
                     {"op": "equal", "text": "、"}, {"op": "insert", "text": "燃气报装"}]}
    assert (fields["category"]["label"], fields["category"]["from"], fields["category"]["to"]) == ("分类", "C0803", "C0103")
    assert fields["category"]["old"] == "供气（C0803）" and fields["category"]["new"] == "市政设施（C0103）"
    assert fields["unit"]["label"] == "单位" and fields["unit"]["from"]["code"] == "gas"
    assert fields["unit"]["to"]["code"] == "water"
    assert (fields["valid_to"]["label"], fields["valid_to"]["old"], fields["valid_to"]["new"]) == \
        ("失效日期", "2026-12-31", "2027-03-31")
    assert fields["valid_to"]["from"].startswith("2026-12-31T15:59:59")
    # the unified diff says it too (a line a field), and the HTML view escapes it with del/ins marks
    assert "-关键词：开户、通气" in d["diff"] and "+关键词：开户、燃气报装" in d["diff"]
    assert "-失效日期：2026-12-31" in d["diff"] and "+失效日期：2027-03-31" in d["diff"]
    assert "<dt>关键词</dt><dd>开户、<del>通气</del>、<ins>燃气报装</ins></dd>" in d["diff_html"]
    # each version row says what it recorded
    versions = (await json_of(await client.get(f"{ARTICLES}/{art['id']}/versions", headers=EDITOR)))["items"]
    assert versions[-1]["category"] == "C0103" and versions[-1]["valid_to"].startswith("2027-03-31T15:59:59")
    assert versions[0]["recorded"] == ["category", "unit", "valid_from", "valid_to", "review_due_at"]
    # clearing a date is a change (null recorded is a value, not unknown)
    await json_of(await client.put(f"{ARTICLES}/{art['id']}", json={"valid_to": None}, headers=EDITOR))
    d = await json_of(await client.get(f"{ARTICLES}/{art['id']}/diff?from=2&to=3", headers=EDITOR))
    assert [(c["field"], c["op"], c["old"], c["new"]) for c in d["changes"]] == [
        ("valid_to", "delete", "2027-03-31", None)]


async def test_unknown_fields_of_old_versions_report_no_change(client, engine):
    art = await json_of(await client.post(ARTICLES, json={
        "title": "停水通知", "body": "明天停水。", "category": "C0801", "keywords": ["停水"]}, headers=EDITOR), 201)
    await json_of(await client.put(f"{ARTICLES}/{art['id']}", json={"category": "C0803", "valid_to": "2027-01-31"},
                                   headers=EDITOR))
    async with engine.begin() as conn:  # version 1 as a row written before migration 0013 looks
        await conn.execute(kb_article_versions.update().where(
            kb_article_versions.c.article_id == art["id"], kb_article_versions.c.version == 1).values(
            category=None, unit_id=None, valid_from=None, valid_to=None, review_due_at=None, recorded=None))
    d = await json_of(await client.get(f"{ARTICLES}/{art['id']}/diff?from=1&to=2", headers=EDITOR))
    assert d["changes"] == [] and d["diff"] == ""  # keywords (always recorded) unchanged; the rest unknown
    versions = (await json_of(await client.get(f"{ARTICLES}/{art['id']}/versions", headers=EDITOR)))["items"]
    assert versions[0]["recorded"] == []


async def test_a_confirm_moves_the_review_date_without_showing_in_the_next_edit(client):
    gas = await unit_header(client, "gas")
    art = await json_of(await client.post(ARTICLES, json={
        "title": "燃气开户", "body": "携带房产证明办理。", "review_due_at": "2026-12-01"}, headers=gas), 201)
    await json_of(await client.post(f"{ARTICLES}/{art['id']}/actions/publish", headers=EDITOR))
    await json_of(await client.post(f"{ARTICLES}/{art['id']}/actions/confirm", json={"review_due_at": "2027-06-01"},
                                    headers=gas))
    await json_of(await client.put(f"{ARTICLES}/{art['id']}", json={"body": "携带房产证明和身份证办理。"},
                                   headers=EDITOR))
    d = await json_of(await client.get(f"{ARTICLES}/{art['id']}/diff?from=1&to=2", headers=EDITOR))
    assert [c["field"] for c in d["changes"]] == ["body"]  # v1 as it was last (after the confirm)


def test_field_changes_skip_unknown_sides_and_name_the_operation():
    old = {"keywords": (["a"], "a"), "valid_to": (None, None), "category": ("C01", "C01")}
    new = {"keywords": (["a"], "a"), "valid_to": ("2027-01-01T00:00:00+00:00", "2027-01-01"),
           "unit": ({"id": 1}, "燃气公司")}
    assert [(c["field"], c["op"], c["segments"]) for c in field_changes(old, new)] == [
        ("valid_to", "insert", [{"op": "insert", "text": "2027-01-01"}])]
    # without fields the diff is as before: title and body only
    d = version_diff("t", "三个工作日内办结。", "t", "五个工作日内办结。", "v1", "v2")
    assert [c["field"] for c in d["changes"]] == ["body"] and "kb-diff-fields" not in d["diff_html"]


async def test_recorded_fields_are_stored_on_every_row(client, engine):
    art = await json_of(await client.post(ARTICLES, json={"title": "t", "body": "b", "valid_from": "2026-01-01"},
                                          headers=EDITOR), 201)
    await json_of(await client.post(f"{ARTICLES}/{art['id']}/actions/submit", headers=EDITOR))
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(kb_article_versions.c.action, kb_article_versions.c.valid_from,
                                             kb_article_versions.c.recorded)
                                   .where(kb_article_versions.c.article_id == art["id"])
                                   .order_by(kb_article_versions.c.id))).all()
    assert [r.action for r in rows] == ["create", "submit"]
    assert all(r.valid_from is not None and len(r.recorded) == 5 for r in rows)
