"""Who reads which article over HTTP, who archives, article dates as plain days, version conflicts, plain text.

An article that is not published (draft, in review, expired, archived) is read only by platform editors and
its own unit's users; everyone else gets 404 for it, does not list it and does not find it in search.
"""

from __future__ import annotations

import datetime as dt

import pytest

from hotline import appkeys
from knowledge.search.base import SearchDoc
from tests.knowledge.web_helpers import AGENT, EDITOR, json_of, unit_header, web_client

LEADER = {"X-Test-User": "leader:leader1"}
ARTICLES = "/api/v1/kb/articles"
SEARCH = "/api/v1/kb/search"


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    return await web_client(aiohttp_client, engine, clock, tmp_path)


async def _search_ids(client, headers, **params) -> list[str]:
    result = await json_of(await client.get(SEARCH, params=params, headers=headers))
    return [h["id"] for h in result["hits"] if h["kind"] == "article"]


async def _listed_ids(client, headers, **params) -> list[int]:
    return [a["id"] for a in (await json_of(await client.get(ARTICLES, params=params, headers=headers)))["items"]]


async def _hidden_from(client, headers, article_id: int) -> None:
    """404 (as for a missing article) for the article, its versions and its diff."""
    for path in (f"{ARTICLES}/{article_id}", f"{ARTICLES}/{article_id}/versions",
                 f"{ARTICLES}/{article_id}/diff?from=1&to=1"):
        body = await json_of(await client.get(path, headers=headers), 404)
        assert body["error"] == {"code": "not_found", "message": f"知识条目 {article_id} 不存在"}, path


async def test_unpublished_articles_are_read_only_by_editors_and_their_own_unit(client):
    gas, water = await unit_header(client, "gas"), await unit_header(client, "water")
    draft = await json_of(await client.post(ARTICLES, json={
        "title": "内部草稿：棚户区改造补偿标准（未定稿）", "body": "<p>棚改补偿标准尚在讨论，请勿外传。</p>"}, headers=gas), 201)
    aid = draft["id"]
    for status in ("draft", "in_review"):
        if status == "in_review":
            await json_of(await client.post(f"{ARTICLES}/{aid}/actions/submit", headers=gas))
        for other in (AGENT, LEADER, water):
            await _hidden_from(client, other, aid)
            assert aid not in await _listed_ids(client, other, status=status)
            assert aid not in await _listed_ids(client, other, q="棚改补偿")
            assert await _search_ids(client, other, q="棚改补偿") == []
            assert await _search_ids(client, other, q="棚改补偿", status=status) == []
        for reader in (gas, EDITOR):
            assert (await json_of(await client.get(f"{ARTICLES}/{aid}", headers=reader)))["status"] == status
            assert len((await json_of(await client.get(f"{ARTICLES}/{aid}/versions", headers=reader)))["items"]) >= 1
            assert aid in await _listed_ids(client, reader, status=status)
            assert await _search_ids(client, reader, q="棚改补偿", status=status) == [str(aid)]
        # the unit's default search is published articles only; an editor's finds everything
        assert await _search_ids(client, gas, q="棚改补偿") == []
        assert await _search_ids(client, EDITOR, q="棚改补偿") == [str(aid)]
    # the counts match what is listed: the other unit sees none of the gas drafts
    listed = await json_of(await client.get(ARTICLES, params={"status": "in_review"}, headers=water))
    assert listed == {"items": [], "total": 0}
    # an agent cannot insert it into a reply either (no telling it exists)
    assert (await client.post("/api/v1/assist/insert", json={"article_id": aid}, headers=AGENT)).status == 404

    # published: everyone reads it and finds it
    await json_of(await client.post(f"{ARTICLES}/{aid}/actions/publish", headers=EDITOR))
    for reader in (AGENT, LEADER, water, gas, EDITOR):
        assert (await json_of(await client.get(f"{ARTICLES}/{aid}", headers=reader)))["status"] == "published"
        assert await _search_ids(client, reader, q="棚改补偿") == [str(aid)]


async def test_default_search_of_non_editors_ranks_published_articles_only(client):
    def first_hit(headers, **params):
        return _search_ids(client, headers, q="社保卡丢了", kind="article", **params)

    (card, *_) = await first_hit(AGENT)
    expired_title = "出租车拒载绕路投诉"
    (taxi, *_) = await _search_ids(client, AGENT, q=expired_title, kind="article")
    await json_of(await client.post(f"{ARTICLES}/{card}/actions/archive", headers=EDITOR))
    await json_of(await client.post(f"{ARTICLES}/{taxi}/actions/expire", headers=EDITOR))
    for headers in (AGENT, LEADER, await unit_header(client, "water")):
        assert card not in await first_hit(headers)
        assert card not in await first_hit(headers, status="archived")
        assert taxi not in await _search_ids(client, headers, q=expired_title)
        assert taxi not in await _search_ids(client, headers, q=expired_title, status="expired,published")
        await _hidden_from(client, headers, int(card))
        await _hidden_from(client, headers, int(taxi))
    # editors keep seeing every status, by default and when they ask for one
    assert (await first_hit(EDITOR))[0] == card
    assert await first_hit(EDITOR, status="archived") == [card]
    assert taxi in await _search_ids(client, EDITOR, q=expired_title)
    # the owning unit (human resources owns the 社保卡 article) finds its archived article when it asks for it
    owner = (await json_of(await client.get(f"{ARTICLES}/{card}", headers=EDITOR)))["unit_code"]
    assert card in await first_hit(await unit_header(client, owner), status="archived")


async def test_agent_default_search_keeps_tickets_of_every_state(client):
    await client.app[appkeys.SEARCH].upsert([SearchDoc(
        kind="ticket", ref_id="77", title="", body="楼道声控灯坏了一个月没人修", unit="gas", status="closed",
        extra={"number": "2026110100077"})])
    result = await json_of(await client.get(SEARCH, params={"q": "声控灯"}, headers=AGENT))
    assert [(h["kind"], h["id"]) for h in result["hits"]] == [("ticket", "77")]
    result = await json_of(await client.get(SEARCH, params={"q": "声控灯", "status": "closed"}, headers=AGENT))
    assert [h["id"] for h in result["hits"]] == ["77"]


async def test_an_index_lagging_behind_does_not_show_an_unpublished_article(client):
    gas = await unit_header(client, "gas")
    draft = await json_of(await client.post(ARTICLES, json={"title": "燃气阶梯价格调整草案", "body": "草案内容"},
                                          headers=gas), 201)
    # the index still says published (it was down when the article changed): the database decides
    await client.app[appkeys.SEARCH].upsert([SearchDoc(
        kind="article", ref_id=str(draft["id"]), title=draft["title"], body="草案内容", unit="gas", status="published")])
    aid = str(draft["id"])
    assert aid not in await _search_ids(client, AGENT, q="阶梯价格调整草案")
    assert aid not in await _search_ids(client, await unit_header(client, "water"), q="阶梯价格调整草案")
    assert (await _search_ids(client, gas, q="阶梯价格调整草案"))[0] == aid
    assert (await _search_ids(client, EDITOR, q="阶梯价格调整草案"))[0] == aid


async def test_only_editors_archive_an_article_once_published(client):
    gas = await unit_header(client, "gas")

    async def create(title):
        return (await json_of(await client.post(ARTICLES, json={"title": title, "body": "燃气业务说明"}, headers=gas),
                            201))["id"]

    def act(aid, action, headers):
        return client.post(f"{ARTICLES}/{aid}/actions/{action}", headers=headers)

    # a unit withdraws its own draft, or its submission, while it was never published
    draft = await create("燃气草稿")
    assert (await json_of(await act(draft, "archive", gas)))["status"] == "archived"
    submitted = await create("燃气送审稿")
    await json_of(await act(submitted, "submit", gas))
    assert (await json_of(await act(submitted, "archive", gas)))["status"] == "archived"
    # once published (published, also with the unit's edit pending, or expired) only an editor archives it
    published = await create("燃气开户须知")
    await json_of(await act(published, "publish", EDITOR))
    refused = await json_of(await act(published, "archive", gas), 403)
    assert refused["error"] == {"code": "forbidden",
                                "message": "已发布过的知识只能由平台编辑归档；成员单位只能撤回本单位从未发布过的草稿或待审核知识"}
    await json_of(await client.put(f"{ARTICLES}/{published}", json={"body": "燃气开户须知（修订）"}, headers=gas))
    assert (await json_of(await client.get(f"{ARTICLES}/{published}", headers=gas)))["status"] == "published"
    await json_of(await act(published, "archive", gas), 403)
    expired = await create("燃气停气通知")
    await json_of(await act(expired, "publish", EDITOR))
    await json_of(await act(expired, "expire", EDITOR))
    await json_of(await act(expired, "archive", gas), 403)
    for aid in (published, expired):
        assert (await json_of(await act(aid, "archive", EDITOR)))["status"] == "archived"
    # another unit archives nothing of gas's
    other = await create("燃气另一篇草稿")
    await json_of(await act(other, "archive", await unit_header(client, "water")), 403)


async def test_article_dates_take_a_plain_day_in_china_time(client):
    def at(value):
        return dt.datetime.fromisoformat(value)

    china = dt.timezone(dt.timedelta(hours=8))
    created = await json_of(await client.post(ARTICLES, json={
        "title": "供暖期安排", "body": "供暖期为每年11月15日至次年3月15日。", "valid_from": "2026-11-15",
        "valid_to": "2027-03-15", "review_due_at": "2026-12-31"}, headers=EDITOR), 201)
    assert at(created["valid_from"]) == dt.datetime(2026, 11, 15, tzinfo=china)
    assert at(created["valid_to"]) == dt.datetime(2027, 3, 15, 23, 59, 59, 999999, tzinfo=china)
    assert at(created["review_due_at"]) == dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=china)
    url = f"{ARTICLES}/{created['id']}"
    # one day as both ends is a valid range: that whole day
    edited = await json_of(await client.put(url, json={"valid_from": "2020-01-01", "valid_to": "2020-01-01"},
                                          headers=EDITOR))
    assert at(edited["valid_to"]) - at(edited["valid_from"]) == dt.timedelta(days=1, microseconds=-1)
    # a time without a zone is still refused, and so is a date that does not exist
    for value, reason in [("2026-12-31T10:00", "日期需要带时区"), ("2026-13-01", None), ("明年", None)]:
        body = await json_of(await client.put(url, json={"valid_to": value}, headers=EDITOR), 400)
        assert body["error"]["message"].startswith("字段 失效日期(valid_to) 不合法："), value
        if reason:
            assert body["error"]["message"] == f"字段 失效日期(valid_to) 不合法：{reason}"
    # a published article given a day already past is refused as before (409), not for the date's form
    await json_of(await client.put(url, json={"valid_from": None, "valid_to": "2099-12-31"}, headers=EDITOR))
    await json_of(await client.post(f"{url}/actions/publish", headers=EDITOR))
    body = await json_of(await client.put(url, json={"valid_to": "2020-01-01"}, headers=EDITOR), 409)
    assert "失效日期已过" in body["error"]["message"]


async def test_a_wrong_version_names_the_current_one(client):
    gas = await unit_header(client, "gas")
    art = await json_of(await client.post(ARTICLES, json={"title": "燃气表报修", "body": "拨打热线报修"}, headers=gas), 201)
    url = f"{ARTICLES}/{art['id']}"
    expected = {"code": "conflict", "message": "版本号不符：当前为第 1 版，请刷新后重试"}
    assert (await json_of(await client.post(f"{url}/actions/submit", json={"version": 99}, headers=gas), 409))[
        "error"] == expected
    await json_of(await client.post(f"{url}/actions/submit", json={"version": 1}, headers=gas))
    assert (await json_of(await client.post(f"{url}/actions/publish", json={"version": 99}, headers=EDITOR), 409))[
        "error"] == expected
    await json_of(await client.put(url, json={"body": "拨打燃气热线报修", "version": 1}, headers=gas))
    stale = await json_of(await client.put(url, json={"body": "过期的修改", "version": 1}, headers=gas), 409)
    assert stale["error"] == {"code": "conflict", "message": "版本号不符：当前为第 2 版，请刷新后重试"}
    await json_of(await client.post(f"{url}/actions/publish", json={"version": 2}, headers=EDITOR))
    confirm = await json_of(await client.post(f"{url}/actions/confirm", json={"version": 1}, headers=gas), 409)
    assert confirm["error"]["message"] == "版本号不符：当前为第 2 版，请刷新后重试"


async def test_inline_tags_leave_no_spaces_in_the_plain_text(client):
    art = await json_of(await client.post(ARTICLES, json={
        "title": "以旧换新补贴", "body": "<p>可申请每台<b>20万元</b>补贴，<a href='https://yz.gov.cn'>点此</a>申请。</p>"
                                      "<ul><li>身份证</li><li>购车发票</li></ul>"}, headers=EDITOR), 201)
    # a link keeps its address and a list item its bullet (knowledge.sanitize.plain_text)
    assert art["body_text"] == "可申请每台20万元补贴，点此（https://yz.gov.cn）申请。\n• 身份证\n• 购车发票"


async def test_the_article_list_filters_a_category_with_those_under_it_and_every_part_of_the_text(client):
    made = {}
    for key, category, title, body in [
        ("property", "C010202", "物业费收费标准", "<p>住宅物业服务费按合同约定的标准收取。</p>"),
        ("agency", "C010203", "房屋中介费怎么收", "<p>中介服务费由双方约定，应明码标价。</p>"),
        ("fund", "C0501", "住房公积金提取条件", "<p>购房、租房、退休时可以提取住房公积金。</p>"),
    ]:
        made[key] = (await json_of(await client.post(ARTICLES, json={"title": title, "body": body,
                                                                     "category": category}, headers=EDITOR), 201))["id"]
    ids = set(await _listed_ids(client, EDITOR, category="C0102"))  # 房地产市场 and the categories under it
    assert {made["property"], made["agency"]} <= ids and made["fund"] not in ids
    assert made["property"] in await _listed_ids(client, EDITOR, category="C010202")
    assert made["agency"] not in await _listed_ids(client, EDITOR, category="C010202")
    # each space-separated part anywhere in the title or the body, not the text as one string
    assert made["fund"] in await _listed_ids(client, EDITOR, q="公积金 提取")
    assert made["fund"] in await _listed_ids(client, EDITOR, q="  退休   公积金 ")
    assert made["fund"] not in await _listed_ids(client, EDITOR, q="公积金 中介")
