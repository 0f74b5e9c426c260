"""The 知识库 view's pending revisions end to end: kb.js in jsdom (node, tests/console/revision_driver.js) against
the real app (demo city, demo articles published and indexed).

- A unit editing its published article is told the change goes live after review while the current version
  stays online; after saving, the article is still published at its version, with the banner 有待审核的修改
  (who, when, the diff as del/ins) and, for the unit, 撤回修改; the list marks it 待审核修改.
- An agent sees neither banner nor mark; search still finds the old text.
- An editor's 待审核修改 filter lists it; 退回修改 needs a reason; the unit then sees 修改未通过 and the reason,
  edits again from its revision, and the editor's 发布修改 makes it the next version (the new text searchable).
- The unit's next proposal is withdrawn with 撤回修改.
"""

from __future__ import annotations

import sqlalchemy as sa

from hotline import appkeys
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
