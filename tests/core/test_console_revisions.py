"""The 知识库 view's pending revisions end to end: kb.js in jsdom (node, tests/console/revision_driver.js) against
the real app (demo city, demo articles published and indexed).

- A unit editing its published article is told the change goes live after review while the current version
  stays online; after saving, the article is still published at its version, with the banner 有待审核的修改
  (who, when, the diff as del/ins) and, for the unit, 撤回修改; the list marks it 待审核修改.
- An agent sees neither banner nor mark; search still finds the old text.
- An editor's 待审核修改 filter lists it; 退回修改 needs a reason; the unit then sees 修改未通过 and the reason,
  edits again from its revision, and the editor's 发布修改 makes it the next version (the new text searchable).
- The unit's next proposal is withdrawn with 撤回修改.

The edge cases (revision_driver.js, mode "edge"): two users of one unit (the second one's revision is not lost to
a form the first opened before it existed); an editor's direct edit (warned in the form) making the revision out
of date (no 发布修改, each role told what to do, the diff labelled); a revision reverted to the live text
(withdrawn); a rejected one in the unit's to-do but not the editors' queue, its history rows hidden from agents;
the 退回原因 box as long as the API allows; an expired article's revision (out of the queue, shelved, taken in
by the unit's next edit).
"""

from __future__ import annotations

import sqlalchemy as sa

from hotline import appkeys
from hotline.users import create_user
from knowledge.jobs import index_pending
from knowledge.search.base import SearchFilters
from knowledge.tables import kb_articles
from tests.core.console_app import start
from tests.core.test_console_kb import ROOT, run_driver

DRIVER = ROOT / "tests" / "console" / "revision_driver.js"
TITLE = "公租房申请条件"
SCENARIO = {
    "unit": {"username": "housing-r", "password": "unit-pass-123"},
    "agent": {"username": "agent-r", "password": "agent-pass-123"},
    "editor": {"username": "editor-r", "password": "editor-pass-123"},
    "title": TITLE,
    "edit": {"from": "向户籍所在街道申请", "to": "通过政务服务网或户籍所在街道申请"},
    "edit2": {"from": "政务服务网", "to": "浙里办"},
    "reason": "请写明政务服务网的具体入口",
    "third_title": "公租房申请条件（待定）",
}


async def found(app, text: str) -> list[str]:
    return [h.title for h in (await app[appkeys.SEARCH].search(text, SearchFilters(status=("published",)))).hits]


async def test_pending_revisions_in_the_kb_view(aiohttp_server, tmp_path):
    app, server, service = await start(aiohttp_server, tmp_path, "r")
    await index_pending(service.engine, app[appkeys.SEARCH])
    result = await run_driver(DRIVER, server, SCENARIO)

    # the unit's edit: told it waits, saved as a revision; the article stays published at v1
    assert result["unit_opened"]["status"] == "published" and result["unit_opened"]["banner"] is None
    assert "审核通过后才会生效" in result["unit_form"]["note"] and "当前版本继续对外答复" in result["unit_form"]["note"]
    proposed = result["proposed"]
    assert (proposed["status"], proposed["version"]) == ("published", 1)
    assert "向户籍所在街道申请" in proposed["body"]  # the live text shown is unchanged
    banner = proposed["banner"]
    assert (banner["state"], banner["title"], banner["buttons"]) == ("pending", "有待审核的修改", ["撤回修改"])
    assert banner["text"].startswith("housing-r ") and "基于 v1" in banner["text"]
    assert banner["ins"] == ["通过政务服务网或"] and banner["dels"] == ["向"]
    assert result["unit_list_badges"] == ["待审核修改"]

    # an agent: the live article, no banner, no mark
    assert result["agent_opened"]["banner"] is None and result["agent_list_badges"] == 0
    assert "向户籍所在街道申请" in result["agent_opened"]["body"]

    # the editor's queue; a reason is required to send it back; the unit reads it
    assert result["editor_filter"] == "待审核修改"
    assert result["editor_queue"] == [TITLE] and result["editor_queue_badges"] == ["待审核修改"]
    assert "pending=1" in result["editor_queue_request"]
    assert result["editor_opened"]["banner"]["buttons"] == ["发布修改", "退回修改"]
    assert result["alerts_after_empty_reason"] == ["请填写退回原因"]
    rejected = result["editor_rejected"]["banner"]
    assert (rejected["state"], rejected["title"], rejected["buttons"]) == ("rejected", "修改未通过", [])
    seen = result["unit_sees_rejection"]["banner"]
    assert seen["title"] == "修改未通过" and SCENARIO["reason"] in seen["text"] and seen["buttons"] == ["撤回修改"]
    assert "通过政务服务网或户籍所在街道申请" in result["unit_form_again"]["body"]  # the form starts from the revision
    assert result["proposed_again"]["banner"]["state"] == "pending"

    # published by the editor: the next version, live; the queue empties
    assert "浙里办" in "".join(result["editor_reopened"]["banner"]["ins"])  # against the live v1
    published = result["published"]
    assert (published["status"], published["version"], published["banner"]) == ("published", 2, None)
    assert "通过浙里办或户籍所在街道申请" in published["body"]
    assert result["queue_after"] == []
    assert result["versions"][-3:] == [["v1", "提交修改"], ["v2", "修改"], ["v2", "发布修改"]]
    assert await found(app, "浙里办") == [TITLE]

    # the next proposal, withdrawn
    assert result["third"]["banner"]["state"] == "pending" and result["third"]["version"] == 2
    assert result["withdrawn"]["banner"] is None and result["withdrawn"]["version"] == 2
    assert result["confirms"] == ["撤回后该修改将被丢弃，确定撤回？"]
    assert result["alerts"] == {"unit": [], "agent": [], "editor": ["请填写退回原因"]}
    async with service.engine.connect() as conn:
        title = (await conn.execute(sa.select(kb_articles.c.title).where(kb_articles.c.title.startswith("公租房")))).scalar_one()
    assert title == TITLE


EDGE = {
    "mode": "edge",
    "unit": {"username": "housing-e", "password": "unit-pass-123"},
    "colleague": {"username": "housing-e2", "password": "unit-pass-123"},
    "agent": {"username": "agent-e", "password": "agent-pass-123"},
    "editor": {"username": "editor-e", "password": "editor-pass-123"},
    "title": TITLE,
    "edit": {"from": "向户籍所在街道申请", "to": "通过政务服务网或户籍所在街道申请"},
    "other_edit": "向户籍所在社区申请",
    "editor_edit": {"from": "可向", "to": "均可向"},
    "reason": "入口" * 700,  # 1400 characters: longer than the box used to take (500), within the API's 2000
}


async def test_revision_edge_cases_in_the_kb_view(aiohttp_server, tmp_path):
    app, server, service = await start(aiohttp_server, tmp_path, "e")
    async with service.engine.begin() as conn:  # a second user of the housing bureau
        await create_user(conn, "housing-e2", "unit", service.now(), unit_code="housing", password="unit-pass-123")
    await index_pending(service.engine, app[appkeys.SEARCH])
    r = await run_driver(DRIVER, server, EDGE)

    # two users of one unit: the form opened before the colleague's edit is refused, the colleague's edit stays
    assert r["colleague_saved"]["banner"]["state"] == "pending"
    assert "该知识刚有人提交了修改" in r["unit_late_save"]["error"]
    reopened = r["unit_reopened"]["banner"]
    assert reopened["text"].startswith("housing-e2 ") and reopened["ins"] == ["通过政务服务网或"]

    # the editor's edit form warns; saved, the revision is out of date: no 发布修改, the editor told to send it back
    assert "直接保存会使该修改过期" in r["editor_form"]["note"]
    stale = r["editor_saved"]
    assert (stale["version"], stale["banner"]["buttons"]) == (2, ["退回修改"])
    assert "基于 v1，知识已更新为 v2" in stale["banner"]["stale"] and "退回修改" in stale["banner"]["stale"]
    assert "基于 v1 写的修改" in r["editor_diff_label"] and "显示为删除" in r["editor_diff_label"]
    unit_stale = r["unit_stale"]["banner"]
    assert "在最新版本上重新编辑" in unit_stale["stale"] and "撤回" in unit_stale["stale"]
    assert "请退回" not in unit_stale["stale"] and unit_stale["buttons"] == ["撤回修改"]

    # reverted to the live text: withdrawn
    assert "通过政务服务网或户籍所在街道申请" in r["revert_form_body"]
    assert r["reverted"]["banner"] is None and r["reverted"]["version"] == 2
    assert r["reverted_versions"] == [["撤回修改", "housing-e", "修改内容与当前发布版本相同，已撤回"]]

    # rejected: in the unit's to-do, not in the editors' queue; agents see no revision rows
    assert r["reject_maxlength"] == 2000
    assert r["editor_queue_after_reject"] == []
    assert r["unit_todo"] == [TITLE] and r["unit_todo_badges"] == ["修改未通过"]
    assert set(r["agent_versions"]) <= {"新建", "发布", "修改"} and "修改" in r["agent_versions"]
    assert {"提交修改", "修改未通过", "撤回修改"} <= set(r["unit_versions"])

    # expired: out of the queue; shelved (nothing to publish); the unit's edit starts from it and takes it in
    assert r["proposed_before_expiry"]["banner"]["state"] == "pending"
    expired = r["editor_expired"]
    assert (expired["status"], expired["banner"]["title"], expired["banner"]["buttons"]) == ("expired", "修改已搁置", ["退回修改"])
    assert "“已过期”" in expired["banner"]["offline"] and "不能发布" in expired["banner"]["offline"]
    assert "审核通过前" not in expired["banner"]["text"] and "重新发布后" in expired["banner"]["offline"]
    assert r["editor_queue_after_expiry"] == []
    assert r["unit_todo_after_expiry"] == [TITLE] and r["unit_todo_badges_after_expiry"] == ["修改已搁置"]
    assert "审核通过前" not in r["unit_expired"]["banner"]["text"]
    assert "再次编辑时将以该修改为底稿" in r["unit_expired"]["banner"]["offline"]
    assert r["unit_expired"]["banner"]["buttons"] == ["撤回修改"]
    assert "通过政务服务网或户籍所在街道申请" in r["unit_expired_form"]["body"]
    assert "并入本次编辑" in r["unit_expired_form"]["note"]
    taken = r["taken_in"]
    assert (taken["status"], taken["version"], taken["banner"]) == ("in_review", 3, None)
    assert "通过政务服务网或户籍所在街道申请" in taken["body"]
    assert r["taken_in_versions"] == [["修改", "housing-e", ""], ["撤回修改", "housing-e", "知识未发布，该修改已并入本次编辑"]]
    assert r["alerts"] == {"unit": [], "colleague": [], "agent": [], "editor": []}
