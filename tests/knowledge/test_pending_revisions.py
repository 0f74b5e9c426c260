"""Pending revisions: a unit's edit of a published article waits for an editor while the published text stays live
(knowledge/revisions.py), in the service and over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from knowledge.article_input import MissingField
from knowledge.articles import ArticleService
from knowledge.errors import Conflict, Forbidden, NotFound
from knowledge.search.base import SearchFilters
from knowledge.tables import kb_article_revisions, kb_articles
from tests.knowledge.conftest import User
from tests.knowledge.helpers import EDITOR, article_setup, seed_units
from tests.knowledge.web_helpers import AGENT, json_of, unit_header, web_client
from tests.knowledge.web_helpers import EDITOR as EDITOR_HEADER

OLD = "<p>携带户口簿到燃气营业厅办理开户。</p>"
NEW = "<p>携带身份证通过掌上燃气小程序办理开户。</p>"
PUBLISHED = SearchFilters(status=("published",))


@pytest.fixture
async def setup(engine, clock):
    service, index, gas, water, _ = await article_setup(engine, clock)
    art = await service.create(EDITOR, {"title": "燃气开户", "body": OLD, "unit": "gas", "keywords": ["开户"]})
    art = await service.transition(EDITOR, art["id"], "publish")
    return service, index, gas, water, art


async def found(index, text: str) -> list[int]:
    return [int(h.ref_id) for h in (await index.search(text, PUBLISHED)).hits]


async def actions(service, article_id) -> list[tuple]:
    return [(v["action"], v["changed_by"], v["version"], v["status"]) for v in await service.versions(article_id)]


async def test_a_units_edit_of_a_published_article_waits_and_the_old_text_stays_live(setup, engine):
    service, index, gas, _, art = setup
    edited = await service.update(gas, art["id"], {"body": NEW, "keywords": ["开户", "小程序"]}, expected_version=1)
    # the article as it was: published, same version and text; the edit is its pending revision
    assert (edited["status"], edited["version"], edited["body_html"]) == ("published", 1, OLD)
    assert edited["has_pending_revision"] is True
    rev = edited["pending_revision"]
    assert (rev["state"], rev["state_label"], rev["base_version"], rev["stale"], rev["reason"]) == (
        "pending", "待审核", 1, False, None)
    assert (rev["title"], rev["body_html"], rev["body_text"], rev["keywords"]) == (
        "燃气开户", NEW, "携带身份证通过掌上燃气小程序办理开户。", ["开户", "小程序"])
    assert (rev["created_by"], rev["updated_by"], rev["unit_code"], rev["version"]) == ("gas-editor", "gas-editor", "gas", 1)
    async with engine.connect() as conn:
        stored = (await conn.execute(sa.select(kb_articles.c.body_html, kb_articles.c.body_text, kb_articles.c.status,
                                               kb_articles.c.version).where(kb_articles.c.id == art["id"]))).one()
    assert tuple(stored) == (OLD, "携带户口簿到燃气营业厅办理开户。", "published", 1)
    # search (and so assist and the chatbot) still answers from the published text only
    assert await found(index, "户口簿") == [art["id"]]
    assert await found(index, "小程序") == []
    assert (await actions(service, art["id"]))[-1] == ("propose", "gas-editor", 1, "published")


async def test_the_revision_is_seen_by_editors_and_the_owning_unit_only(setup):
    service, _, gas, water, art = setup
    await service.update(gas, art["id"], {"body": NEW})
    assert (await service.get(art["id"], viewer=EDITOR))["pending_revision"]["body_html"] == NEW
    assert (await service.get(art["id"], viewer=gas))["pending_revision"]["body_html"] == NEW
    for other in (water, User("agent1", "agent"), User("leader1", "leader")):
        seen = await service.get(art["id"], viewer=other)
        assert (seen["pending_revision"], seen["has_pending_revision"], seen["body_html"]) == (None, False, OLD)
        with pytest.raises(NotFound):
            await service.revision_diff(art["id"], viewer=other)
        assert [a["has_pending_revision"] for a in await service.list(viewer=other)] == [False]
        assert await service.list(viewer=other, pending=True) == []
    # the review queue: editors see every article with a pending revision, a unit its own
    other = await service.create(EDITOR, {"title": "停水通知", "body": "计划停水。", "unit": "water"})
    await service.transition(EDITOR, other["id"], "publish")
    assert [a["id"] for a in await service.list(viewer=EDITOR, pending=True)] == [art["id"]]
    assert [a["id"] for a in await service.list(viewer=gas, pending=True)] == [art["id"]]
    assert [(a["id"], a["has_pending_revision"]) for a in await service.list(viewer=EDITOR)] == [
        (art["id"], True), (other["id"], False)]
    page = await service.page(viewer=gas, pending=True)
    assert (page["total"], [a["has_pending_revision"] for a in page["items"]]) == (1, [True])
    diff = await service.revision_diff(art["id"], viewer=gas)
    assert (diff["from"], diff["to"], diff["changed_by"]) == (1, "revision", "gas-editor")
    assert "-携带户口簿到燃气营业厅办理开户。" in diff["diff"] and "+携带身份证通过掌上燃气小程序办理开户。" in diff["diff"]


async def test_a_second_edit_replaces_the_pending_revision(setup, engine):
    service, _, gas, _, art = setup
    first = (await service.update(gas, art["id"], {"body": "<p>第一次修改。</p>"}))["pending_revision"]
    second = (await service.update(gas, art["id"], {"body": NEW}, expected_revision=first["version"]))["pending_revision"]
    assert (second["id"], second["version"], second["body_html"]) == (first["id"], 2, NEW)
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(kb_article_revisions))).scalar_one() == 1
    with pytest.raises(Conflict, match="待审核的修改已被更新"):  # a form opened on the first revision
        await service.update(gas, art["id"], {"body": "<p>迟到的修改。</p>"}, expected_revision=first["version"])
    # saving the revision again as it is changes nothing
    rows = len(await service.versions(art["id"]))
    again = await service.update(gas, art["id"], {"body": NEW})
    assert again["pending_revision"]["version"] == 2 and len(await service.versions(art["id"])) == rows
    assert (await service.get(art["id"]))["body_html"] == OLD


async def test_publishing_the_revision_applies_it_as_a_new_version(setup, engine, clock):
    service, index, gas, _, art = setup
    async with engine.begin() as conn:  # flagged by the review sweep: publishing an edit clears it
        await conn.execute(kb_articles.update().where(kb_articles.c.id == art["id"]).values(
            review_flagged_at=clock.now()))
    await service.update(gas, art["id"], {"body": NEW})
    clock.advance(hours=2)
    with pytest.raises(Forbidden):
        await service.revision_action(gas, art["id"], "publish_revision")
    done = await service.revision_action(EDITOR, art["id"], "publish_revision", "已核实", expected_version=1,
                                         expected_revision=1)
    assert (done["status"], done["version"], done["body_html"], done["review_due"]) == ("published", 2, NEW, False)
    assert (done["pending_revision"], done["has_pending_revision"], done["updated_by"]) == (None, False, "editor1")
    assert (await actions(service, art["id"]))[-3:] == [
        ("propose", "gas-editor", 1, "published"), ("edit", "gas-editor", 2, "published"),
        ("publish_revision", "editor1", 2, "published")]
    assert (await service.versions(art["id"]))[-1]["note"] == "已核实"
    diff = await service.diff(art["id"], 1, 2)
    assert diff["changed_by"] == "gas-editor" and "+携带身份证通过掌上燃气小程序办理开户。" in diff["diff"]
    assert await found(index, "小程序") == [art["id"]]
    assert await found(index, "户口簿") == []
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(kb_article_revisions))).scalar_one() == 0
    with pytest.raises(Conflict, match="没有待审核的修改"):
        await service.revision_action(EDITOR, art["id"], "publish_revision")


async def test_rejecting_needs_a_reason_and_the_unit_reads_it(setup):
    service, index, gas, _, art = setup
    await service.update(gas, art["id"], {"body": NEW})
    for note in (None, "  "):
        with pytest.raises(MissingField):
            await service.revision_action(EDITOR, art["id"], "reject_revision", note)
    with pytest.raises(Forbidden):
        await service.revision_action(gas, art["id"], "reject_revision", "自己退回")
    rejected = await service.revision_action(EDITOR, art["id"], "reject_revision", "小程序尚未上线，请核实")
    assert (rejected["status"], rejected["version"], rejected["body_html"]) == ("published", 1, OLD)
    seen = (await service.get(art["id"], viewer=gas))["pending_revision"]
    assert (seen["state"], seen["state_label"], seen["reason"], seen["reviewed_by"]) == (
        "rejected", "未通过", "小程序尚未上线，请核实", "editor1")
    assert (await service.get(art["id"], viewer=gas))["has_pending_revision"] is False
    assert await service.list(viewer=EDITOR, pending=True) == []
    assert (await actions(service, art["id"]))[-1] == ("reject_revision", "editor1", 1, "published")
    assert await found(index, "户口簿") == [art["id"]]
    with pytest.raises(Conflict):  # a rejected revision is not published, nor rejected twice
        await service.revision_action(EDITOR, art["id"], "publish_revision")
    with pytest.raises(Conflict):
        await service.revision_action(EDITOR, art["id"], "reject_revision", "再退一次")
    # the unit's next edit is pending again, the reason gone
    again = (await service.update(gas, art["id"], {"body": "<p>携带身份证到燃气营业厅办理开户。</p>"}))["pending_revision"]
    assert (again["state"], again["reason"], again["reviewed_by"]) == ("pending", None, None)


async def test_the_owning_unit_withdraws_its_revision(setup):
    service, _, gas, water, art = setup
    await service.update(gas, art["id"], {"body": NEW})
    with pytest.raises(Forbidden):
        await service.revision_action(water, art["id"], "withdraw_revision")
    with pytest.raises(Forbidden):
        await service.revision_action(User("agent1", "agent"), art["id"], "withdraw_revision")
    with pytest.raises(Conflict):  # pinned to a revision that is not the current one
        await service.revision_action(gas, art["id"], "withdraw_revision", expected_revision=5)
    done = await service.revision_action(gas, art["id"], "withdraw_revision", expected_revision=1)
    assert (done["pending_revision"], done["version"], done["body_html"]) == (None, 1, OLD)
    assert (await actions(service, art["id"]))[-1] == ("withdraw_revision", "gas-editor", 1, "published")
    with pytest.raises(Conflict, match="没有待审核的修改"):
        await service.revision_action(gas, art["id"], "withdraw_revision")


async def test_a_revision_written_against_an_older_version_is_not_published(setup):
    service, index, gas, _, art = setup
    await service.update(gas, art["id"], {"body": NEW})
    # an editor's own edit of a published article is still immediate
    direct = await service.update(EDITOR, art["id"], {"body": "<p>携带户口簿和房产证到燃气营业厅办理开户。</p>"})
    assert (direct["status"], direct["version"]) == ("published", 2)
    assert await found(index, "房产证") == [art["id"]]
    assert direct["pending_revision"]["stale"] is True
    with pytest.raises(Conflict, match="基于第 1 版，知识已更新为第 2 版"):
        await service.revision_action(EDITOR, art["id"], "publish_revision")
    assert (await service.get(art["id"]))["body_html"] == "<p>携带户口簿和房产证到燃气营业厅办理开户。</p>"
    # the unit edits again on the new version: it can be published
    await service.update(gas, art["id"], {"body": NEW}, expected_version=2)
    assert (await service.revision_action(EDITOR, art["id"], "publish_revision"))["version"] == 3


async def test_a_revision_past_its_end_date_is_not_published(setup, clock):
    service, _, gas, _, art = setup
    with pytest.raises(Conflict, match="失效日期已过"):
        await service.update(gas, art["id"], {"body": NEW, "valid_to": (clock.now() - dt.timedelta(days=1)).isoformat()})
    await service.update(gas, art["id"], {"body": NEW, "valid_to": (clock.now() + dt.timedelta(days=1)).isoformat()})
    clock.advance(days=2)
    with pytest.raises(Conflict, match="失效日期已过"):
        await service.revision_action(EDITOR, art["id"], "publish_revision")
    assert (await service.get(art["id"]))["version"] == 1


async def test_an_editors_edit_for_review_waits_too_and_drafts_expired_keep_todays_rules(setup):
    service, index, gas, _, art = setup
    # hotline kb import --draft: an editor's edit sent to review waits as a pending revision
    edited = await service.update(EDITOR, art["id"], {"body": NEW}, to_review=True)
    assert (edited["status"], edited["version"], edited["pending_revision"]["created_by"]) == ("published", 1, "editor1")
    assert await found(index, "小程序") == []
    # an expired article has no live text: a unit's edit sends it back to review as before
    await service.revision_action(EDITOR, art["id"], "withdraw_revision")
    await service.transition(EDITOR, art["id"], "expire")
    back = await service.update(gas, art["id"], {"body": NEW})
    assert (back["status"], back["version"], back["pending_revision"]) == ("in_review", 2, None)
    # a draft is edited in place
    draft = await service.create(gas, {"title": "燃气过户", "body": "携带房产证办理。"})
    assert (await service.update(gas, draft["id"], {"body": "携带房产证和身份证办理。"}))["version"] == 2


async def test_an_edit_made_while_there_was_no_revision_does_not_replace_one_made_meanwhile(setup):
    """Two users of one unit: A opens the form (no revision), B saves an edit, A saves: 409, B's edit stays."""
    service, _, gas, _, art = setup
    colleague = User("gas-colleague", "unit", gas.unit_id)
    made = await service.update(colleague, art["id"], {"body": NEW}, expected_version=1, expected_revision=0)
    assert made["pending_revision"]["updated_by"] == "gas-colleague"
    rows = len(await service.versions(art["id"]))
    for late in ({"body": "<p>A 的修改。</p>"}, {"body": OLD}):  # A's edit, or A's form saved as it was opened
        with pytest.raises(Conflict, match="该知识刚有人提交了修改，请刷新"):
            await service.update(gas, art["id"], late, expected_version=1, expected_revision=0)
    rev = (await service.get(art["id"]))["pending_revision"]
    assert (rev["body_html"], rev["updated_by"], rev["version"]) == (NEW, "gas-colleague", 1)
    assert len(await service.versions(art["id"])) == rows
    # an API client that pins nothing replaces the revision as before
    replaced = (await service.update(gas, art["id"], {"body": "<p>A 的修改。</p>"}))["pending_revision"]
    assert (replaced["body_html"], replaced["updated_by"], replaced["version"]) == ("<p>A 的修改。</p>", "gas-editor", 2)


async def test_reverting_the_revision_to_the_live_text_withdraws_it(setup):
    service, index, gas, _, art = setup
    await service.update(gas, art["id"], {"body": NEW, "keywords": ["开户", "小程序"]})
    reverted = await service.update(gas, art["id"], {"body": OLD, "keywords": ["开户"]}, expected_version=1,
                                    expected_revision=1)
    assert (reverted["pending_revision"], reverted["version"], reverted["body_html"]) == (None, 1, OLD)
    last = (await service.versions(art["id"]))[-1]
    assert (last["action"], last["changed_by"], last["version"], last["note"]) == (
        "withdraw_revision", "gas-editor", 1, "修改内容与当前发布版本相同，已撤回")
    assert await service.list(viewer=gas, pending=True) == []
    # a rejected one too
    await service.update(gas, art["id"], {"body": NEW})
    await service.revision_action(EDITOR, art["id"], "reject_revision", "请核实")
    assert (await service.update(gas, art["id"], {"body": OLD}))["pending_revision"] is None
    assert (await service.versions(art["id"]))[-1]["action"] == "withdraw_revision"
    # a revision on an older version: the form started from the live text, so saving that keeps the revision
    await service.update(gas, art["id"], {"body": NEW})
    await service.update(EDITOR, art["id"], {"title": "燃气开户须知"})
    kept = await service.update(gas, art["id"], {"body": OLD})
    assert kept["pending_revision"]["stale"] is True and kept["version"] == 2
    assert await found(index, "户口簿") == [art["id"]]


async def test_a_units_edit_of_an_expired_article_takes_its_revision_in(setup, engine):
    service, _, gas, _, art = setup
    await service.update(gas, art["id"], {"body": NEW, "keywords": ["开户", "小程序"]})
    await service.transition(EDITOR, art["id"], "expire")
    expired = await service.get(art["id"], viewer=gas)
    assert expired["pending_revision"]["stale"] is False
    # an editor may not publish it now, and the queue leaves it out; the unit's to-do keeps it
    with pytest.raises(Conflict, match="已过期"):
        await service.revision_action(EDITOR, art["id"], "publish_revision")
    assert await service.list(viewer=EDITOR, pending=True) == []
    assert (await service.page(viewer=EDITOR, pending=True))["total"] == 0
    assert [(a["id"], a["revision_state"]) for a in await service.list(viewer=gas, pending=True)] == [
        (art["id"], "pending")]
    # the unit's next edit starts from its revision (a field it leaves out keeps the revision's) and takes it in
    back = await service.update(gas, art["id"], {"title": "燃气开户（线上办理）"}, expected_version=1, expected_revision=1)
    assert (back["status"], back["version"], back["title"], back["body_html"], back["keywords"]) == (
        "in_review", 2, "燃气开户（线上办理）", NEW, ["开户", "小程序"])
    assert back["pending_revision"] is None
    rows = (await service.versions(art["id"]))[-2:]
    assert [(v["action"], v["changed_by"], v["version"], v["status"]) for v in rows] == [
        ("edit", "gas-editor", 2, "in_review"), ("withdraw_revision", "gas-editor", 2, "in_review")]
    assert rows[1]["note"] == "知识未发布，该修改已并入本次编辑"
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(kb_article_revisions))).scalar_one() == 0
    assert (await service.transition(EDITOR, art["id"], "publish"))["body_html"] == NEW


async def test_an_editors_edit_of_an_expired_article_leaves_the_revision(setup):
    service, _, gas, _, art = setup
    await service.update(gas, art["id"], {"body": NEW})
    await service.transition(EDITOR, art["id"], "expire")
    edited = await service.update(EDITOR, art["id"], {"title": "燃气开户须知"})
    assert (edited["status"], edited["body_html"], edited["pending_revision"]["stale"]) == ("expired", OLD, True)
    # a pinned revision that is gone answers 409 (the form showed it)
    await service.revision_action(gas, art["id"], "withdraw_revision")
    with pytest.raises(Conflict, match="已不存在"):
        await service.update(gas, art["id"], {"body": NEW}, expected_revision=1)


async def test_list_items_carry_the_revision_state_and_a_units_to_do_lists_rejected_ones(setup):
    service, _, gas, water, art = setup
    await service.update(gas, art["id"], {"body": NEW})
    await service.revision_action(EDITOR, art["id"], "reject_revision", "小程序尚未上线")
    states = lambda items: [(a["id"], a["revision_state"], a["has_pending_revision"]) for a in items]  # noqa: E731
    assert states(await service.list(viewer=gas, pending=True)) == [(art["id"], "rejected", False)]
    assert (await service.page(viewer=gas, pending=True))["total"] == 1
    assert states(await service.list(viewer=EDITOR)) == [(art["id"], "rejected", False)]
    assert await service.list(viewer=EDITOR, pending=True) == []  # the editors' queue: pending only
    for other in (water, User("agent1", "agent")):
        assert states(await service.list(viewer=other)) == [(art["id"], None, False)]
    assert (await service.get(art["id"], viewer=gas))["revision_state"] == "rejected"
    assert (await service.get(art["id"], viewer=water))["revision_state"] is None
    await service.update(gas, art["id"], {"body": "<p>携带身份证到燃气营业厅办理开户。</p>"})
    assert states(await service.list(viewer=EDITOR, pending=True)) == [(art["id"], "pending", True)]


async def test_revision_history_rows_are_for_editors_and_the_owning_unit(setup):
    service, _, gas, water, art = setup
    await service.update(gas, art["id"], {"body": NEW})
    await service.revision_action(EDITOR, art["id"], "reject_revision", "小程序尚未上线")
    await service.revision_action(gas, art["id"], "withdraw_revision")
    full = ["create", "publish", "propose", "reject_revision", "withdraw_revision"]
    for who in (EDITOR, gas, None):
        assert [v["action"] for v in await service.versions(art["id"], viewer=who)] == full
    for who in (water, User("agent1", "agent"), User("leader1", "leader")):
        assert [v["action"] for v in await service.versions(art["id"], viewer=who)] == ["create", "publish"]


async def test_the_diff_of_a_revision_on_an_older_version_says_so(setup):
    service, _, gas, _, art = setup
    await service.update(gas, art["id"], {"body": NEW})
    diff = await service.revision_diff(art["id"], viewer=EDITOR)
    assert (diff["stale"], diff["label"]) == (False, "当前版本 v1 → 修改")
    await service.update(EDITOR, art["id"], {"title": "燃气开户须知"})
    diff = await service.revision_diff(art["id"], viewer=gas)
    assert diff["stale"] is True and diff["base_version"] == 1
    assert diff["label"].startswith("当前版本 v2 → 基于 v1 写的修改") and "显示为删除" in diff["label"]
    assert "+++ 修改（基于 v1）" in diff["diff"]


# -- over HTTP ---------------------------------------------------------------------------------
@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    return await web_client(aiohttp_client, engine, clock, tmp_path)


async def test_pending_revisions_over_http(client):
    gas, water = await unit_header(client, "gas"), await unit_header(client, "water")
    art = await json_of(await client.post("/api/v1/kb/articles", json={
        "title": "燃气开户须知", "body": OLD, "unit": "gas"}, headers=EDITOR_HEADER), 201)
    base = f"/api/v1/kb/articles/{art['id']}"
    await json_of(await client.post(f"{base}/actions/publish", json={}, headers=EDITOR_HEADER))
    edited = await json_of(await client.put(base, json={"body": NEW, "version": 1}, headers=gas))
    assert (edited["status"], edited["version"], edited["pending_revision"]["state"]) == ("published", 1, "pending")

    # agents and other units see the live article only; search and assist answer from it
    for who in (AGENT, water):
        seen = await json_of(await client.get(base, headers=who))
        assert (seen["pending_revision"], seen["has_pending_revision"], seen["body_html"]) == (None, False, OLD)
        await json_of(await client.get(f"{base}/revision/diff", headers=who), 404)
    hits = await json_of(await client.get("/api/v1/kb/search?q=户口簿&kind=article", headers=AGENT))
    assert art["id"] in [int(h["id"]) for h in hits["hits"]]
    hits = await json_of(await client.get("/api/v1/kb/search?q=小程序&kind=article", headers=AGENT))
    assert art["id"] not in [int(h["id"]) for h in hits["hits"]]
    insert = await json_of(await client.post("/api/v1/assist/insert", json={"article_id": art["id"]}, headers=AGENT))
    assert "户口簿" in insert["text"] and "小程序" not in insert["text"]

    # the editor's queue, the diff
    queue = await json_of(await client.get("/api/v1/kb/articles?pending=1", headers=EDITOR_HEADER))
    assert [(a["id"], a["has_pending_revision"]) for a in queue["items"]] == [(art["id"], True)] and queue["total"] == 1
    assert (await json_of(await client.get("/api/v1/kb/articles?pending=1", headers=AGENT)))["total"] == 0
    diff = await json_of(await client.get(f"{base}/revision/diff", headers=EDITOR_HEADER))
    assert [c["field"] for c in diff["changes"]] == ["body"] and diff["changed_by"].startswith("gas-")

    # a reason is required to send it back; the unit reads it
    resp = await client.post(f"{base}/actions/reject_revision", json={"note": ""}, headers=EDITOR_HEADER)
    assert (await json_of(resp, 422))["error"]["message"] == "备注(note)：缺少必填字段（退回修改须写明原因）"
    await json_of(await client.post(f"{base}/actions/reject_revision", json={"note": "请核实小程序名称"},
                                     headers=EDITOR_HEADER))
    seen = (await json_of(await client.get(base, headers=gas)))["pending_revision"]
    assert (seen["state"], seen["reason"]) == ("rejected", "请核实小程序名称")

    # edited again; the editor changes the article meanwhile: publishing the older revision is refused
    again = await json_of(await client.put(base, json={"body": NEW, "revision_version": seen["version"]}, headers=gas))
    revision = again["pending_revision"]["version"]
    resp = await client.put(base, json={"body": "<p>另一次修改。</p>", "revision_version": 1}, headers=gas)
    assert "待审核的修改已被更新" in (await json_of(resp, 409))["error"]["message"]
    await json_of(await client.put(base, json={"title": "燃气开户须知（2027版）"}, headers=EDITOR_HEADER))
    resp = await client.post(f"{base}/actions/publish_revision", json={"revision_version": revision}, headers=EDITOR_HEADER)
    error = (await json_of(resp, 409))["error"]
    assert error["code"] == "conflict" and "基于第 1 版，知识已更新为第 2 版" in error["message"]
    resp = await client.post(f"{base}/actions/publish_revision", json={"revision_version": "2"}, headers=EDITOR_HEADER)
    await json_of(resp, 400)

    # the unit writes it again on version 2, the editor publishes it
    resp = await client.put(base, json={"body": NEW, "version": 2, "revision_version": revision}, headers=gas)
    revision = (await json_of(resp))["pending_revision"]["version"]
    published = await json_of(await client.post(f"{base}/actions/publish_revision", json={
        "version": 2, "revision_version": revision, "note": "已核实"}, headers=EDITOR_HEADER))
    assert (published["status"], published["version"], published["body_html"]) == ("published", 3, NEW)
    assert published["title"] == "燃气开户须知（2027版）"  # the editor's title, which the unit's revision kept
    hits = await json_of(await client.get("/api/v1/kb/search?q=小程序&kind=article", headers=AGENT))
    assert art["id"] in [int(h["id"]) for h in hits["hits"]]

    # a form opened while there was no revision, saved after another user of the unit made one: 409
    resp = await client.put(base, json={"body": "<p>再改一次。</p>", "revision_version": 0}, headers=gas)
    await json_of(resp)
    resp = await client.put(base, json={"body": "<p>又一次。</p>", "revision_version": 0}, headers=gas)
    assert "该知识刚有人提交了修改" in (await json_of(resp, 409))["error"]["message"]
    await json_of(await client.put(base, json={"body": "<p>又一次。</p>", "revision_version": -1}, headers=gas), 400)
    assert (await json_of(await client.get(base, headers=gas)))["pending_revision"]["body_html"] == "<p>再改一次。</p>"
    # reverted to the live text: withdrawn
    done = await json_of(await client.put(base, json={"body": NEW, "revision_version": 1}, headers=gas))
    assert done["pending_revision"] is None and done["version"] == 3

    # withdrawn by the unit
    await json_of(await client.put(base, json={"body": "<p>再改一次。</p>"}, headers=gas))
    await json_of(await client.post(f"{base}/actions/withdraw_revision", json={}, headers=water), 403)
    done = await json_of(await client.post(f"{base}/actions/withdraw_revision", json={}, headers=gas))
    assert done["pending_revision"] is None and done["version"] == 3
    for who in (EDITOR_HEADER, gas):  # the revision's history: editors and the owning unit
        versions = await json_of(await client.get(f"{base}/versions", headers=who))
        assert [v["action"] for v in versions["items"]] == [
            "create", "publish", "propose", "reject_revision", "propose", "edit", "propose", "edit", "publish_revision",
            "propose", "withdraw_revision", "propose", "withdraw_revision"]
    for who in (AGENT, {"X-Test-User": "leader:leader1"}, water):  # everyone else: the article's real changes only
        versions = await json_of(await client.get(f"{base}/versions", headers=who))
        assert [v["action"] for v in versions["items"]] == ["create", "publish", "edit", "edit", "publish_revision"]
        assert "请核实小程序名称" not in str(versions)
        diff = await json_of(await client.get(f"{base}/diff?from=1&to=3", headers=who))
        assert diff["changed_by"].startswith("gas-") and "+携带身份证通过掌上燃气小程序办理开户。" in diff["diff"]


# -- migration 0015 ------------------------------------------------------------------------------
async def test_migration_adds_the_revisions_table_to_an_existing_database(engine, clock):
    from alembic import command

    from tests.core.test_migrations import migrated

    ids = await seed_units(engine, clock.now())
    step = await migrated(engine)

    def tables(sync_conn) -> set[str]:
        return set(sa.inspect(sync_conn).get_table_names())

    async with engine.begin() as conn:
        await conn.run_sync(step, command.downgrade, "0014_kb_body_structure")
        assert "kb_article_revisions" not in await conn.run_sync(tables)
        article_id = (await conn.execute(kb_articles.insert().values(
            title="燃气开户", body_html=OLD, body_text="携带户口簿到燃气营业厅办理开户。", unit_id=ids["gas"],
            keywords=[], status="published", version=1, created_by="t", updated_by="t", created_at=clock.now(),
            updated_at=clock.now(), published_at=clock.now()).returning(kb_articles.c.id))).scalar_one()
        await conn.run_sync(step, command.upgrade, "heads")
        assert "kb_article_revisions" in await conn.run_sync(tables)
    # the article made before the migration takes a unit's edit as a pending revision
    service = ArticleService(engine, clock)
    edited = await service.update(User("gas-editor", "unit", ids["gas"]), article_id, {"body": NEW})
    assert (edited["status"], edited["body_html"], edited["pending_revision"]["body_html"]) == ("published", OLD, NEW)
    async with engine.begin() as conn:  # and back: the table goes, the article stays as it was
        await conn.run_sync(step, command.downgrade, "0014_kb_body_structure")
        assert "kb_article_revisions" not in await conn.run_sync(tables)
        assert (await conn.execute(sa.select(kb_articles.c.body_html))).scalar_one() == OLD
        await conn.run_sync(step, command.upgrade, "heads")
