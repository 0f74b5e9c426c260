"""Knowledge articles past their review date: the daily sweep tells the owning unit once, and the unit sees them."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa

from hotline.jobs.tables import notifications
from hotline.tables import units
from hotline.users import Actor
from knowledge.articles import ArticleService
from tests.jobs.helpers import rows

EDITOR = Actor(username="t-editor", role="dispatcher")
REVIEW = "knowledge.jobs.review_sweep_job"


async def _contact(engine, code: str) -> dict:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(units.c.id, units.c.contacts, units.c.notify_channels)
                                  .where(units.c.code == code))).one()
    return {"id": row.id, **row.contacts[0], "channels": list(row.notify_channels)}


async def _published(articles: ArticleService, title: str, unit: str | None, review_due_at: dt.datetime) -> dict:
    art = await articles.create(EDITOR, {"title": title, "body": f"{title}的办理流程和所需材料。", "unit": unit,
                                         "review_due_at": review_due_at.isoformat()})
    return await articles.transition(EDITOR, art["id"], "publish")


async def _review_notices(engine) -> list:
    return await rows(engine, notifications, notifications.c.kind == "kb_review")


async def _run_review(harness) -> None:
    await harness.queue.enqueue(REVIEW)
    await harness.drain()


async def test_overdue_articles_notify_their_unit_once(harness, service, clock):
    articles = ArticleService(service.engine, clock)
    fund = await _published(articles, "住房公积金提取指南", "housing", clock.now() + dt.timedelta(days=1))
    rent = await _published(articles, "公租房申请条件", "housing", clock.now() + dt.timedelta(days=1))
    await _published(articles, "公交卡办理", "transport", clock.now() + dt.timedelta(days=90))
    housing = await _contact(service.engine, "housing")
    assert housing["channels"] == ["sms", "email"]

    await _run_review(harness)  # nothing due yet
    assert await _review_notices(service.engine) == []

    clock.advance(days=2)
    await _run_review(harness)
    notices = await _review_notices(service.engine)
    # one notice for the unit (its contact, on each of the unit's channels), listing both articles
    assert sorted((n.audience, n.channel, n.recipient) for n in notices) == [
        ("unit", "email", housing["email"]), ("unit", "sms", housing["phone"])]
    text = "【12345热线知识库】知识库文章已到复审日期：《住房公积金提取指南》、《公租房申请条件》共2篇，请及时复核更新。"
    assert {n.text for n in notices} == {text} and {n.state for n in notices} == {"sent"}
    assert {n.ticket_id for n in notices} == {None}
    assert harness.channels["sms"].texts(housing["phone"]) == [text]
    assert [m.text for m in harness.channels["email"].sent] == [text]
    flagged = await articles.list(review_flagged=True)
    assert [a["id"] for a in flagged] == [fund["id"], rent["id"]] and all(a["review_due"] for a in flagged)

    # the sweep runs again (next day, or twice by accident): nothing new is recorded or sent
    await _run_review(harness)
    clock.advance(days=1)
    await _run_review(harness)
    assert len(await _review_notices(service.engine)) == 2
    assert len(harness.channels["sms"].sent) == 1


async def test_edited_article_due_again_is_notified_again(inproc, service, clock):
    articles = ArticleService(service.engine, clock)
    art = await _published(articles, "燃气开户办理", "housing", clock.now() + dt.timedelta(days=1))
    clock.advance(days=2)
    await _run_review(inproc)
    assert len(await _review_notices(service.engine)) == 2
    # the editor reviews it (an edit clears the flag) and sets the next review date
    art = await articles.update(EDITOR, art["id"], {"title": art["title"], "body": "更新后的办理流程。",
                                                    "unit": "housing",
                                                    "review_due_at": (clock.now() + dt.timedelta(days=30)).isoformat()})
    assert art["review_due"] is False and art["review_flagged_at"] is None
    await _run_review(inproc)
    assert len(await _review_notices(service.engine)) == 2
    clock.advance(days=31)
    await _run_review(inproc)
    notices = await _review_notices(service.engine)
    assert len(notices) == 4 and len({n.key for n in notices}) == 4


async def test_article_without_unit_goes_to_the_platform(inproc, service, clock):
    articles = ArticleService(service.engine, clock)
    await _published(articles, "12345热线受理范围", None, clock.now() + dt.timedelta(hours=1))
    clock.advance(hours=2)
    await _run_review(inproc)
    platform = await _contact(service.engine, "platform")
    notices = await _review_notices(service.engine)
    assert {(n.audience, n.recipient) for n in notices} == {("platform", platform["phone"]),
                                                            ("platform", platform["email"])}
    assert "《12345热线受理范围》" in notices[0].text


async def test_two_sweeps_at_once_notify_once(inproc, service, clock):
    from knowledge.jobs import review_sweep_job

    articles = ArticleService(service.engine, clock)
    await _published(articles, "居住证办理", "housing", clock.now() + dt.timedelta(hours=1))
    clock.advance(hours=2)
    results = await asyncio.gather(review_sweep_job(inproc.ctx), review_sweep_job(inproc.ctx))
    assert sorted(len(r["notices"]) for r in results) == [0, 2]
    await inproc.drain()
    assert len(await _review_notices(service.engine)) == 2
    assert len(inproc.channels["sms"].sent) == 1


async def test_unit_sees_its_review_due_articles_in_the_api(aiohttp_client, service, settings, clock, tokens):
    from hotline import appkeys
    from hotline.app import create_app
    from knowledge.jobs import review_sweep_job
    from tests.conftest import auth

    articles = ArticleService(service.engine, clock)
    due = await _published(articles, "住房公积金提取指南", "housing", clock.now() + dt.timedelta(days=1))
    await _published(articles, "公租房申请条件", "housing", clock.now() + dt.timedelta(days=60))
    await _published(articles, "公交卡办理", "transport", clock.now() + dt.timedelta(days=1))
    clock.advance(days=2)
    ctx = type("Ctx", (), {"engine": service.engine, "service": service, "queue": None})()
    await review_sweep_job(ctx)

    app = create_app(settings, engine=service.engine, clock=clock, migrate=False,
                     plugins=["hotline.api.setup:setup", "knowledge.web:setup"])
    app[appkeys.SERVICE] = service
    client = await aiohttp_client(app)
    resp = await client.get("/api/v1/kb/articles", params={"mine": "1", "review_due": "1"},
                            headers=auth(tokens["housing"]))
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert [(a["id"], a["review_due"], a["unit_code"]) for a in items] == [(due["id"], True, "housing")]
    assert items[0]["review_flagged_at"] is not None
    mine = (await (await client.get("/api/v1/kb/articles", params={"mine": "1"},
                                    headers=auth(tokens["housing"]))).json())["items"]
    assert sorted((a["title"], a["review_due"]) for a in mine) == [("住房公积金提取指南", True), ("公租房申请条件", False)]
    # the older spelling of the filter still works; an account without a unit cannot ask for "mine"
    flagged = (await (await client.get("/api/v1/kb/articles", params={"review_flagged": "1"},
                                       headers=auth(tokens["agent"]))).json())["items"]
    assert {a["unit_code"] for a in flagged} == {"housing", "transport"}
    resp = await client.get("/api/v1/kb/articles", params={"mine": "1"}, headers=auth(tokens["agent"]))
    assert resp.status == 400
