"""The knowledge plugin inside the real app (default PLUGINS, the core's token auth)."""

from __future__ import annotations

import pytest

from hotline import appkeys
from hotline.users import create_user, issue_token
from tests.knowledge.helpers import demo_app_client


@pytest.fixture
async def client(aiohttp_client, engine, clock, tmp_path):
    c = await demo_app_client(aiohttp_client, engine, clock, tmp_path)
    async with engine.begin() as conn:
        user_id = await create_user(conn, "agent7", "agent", clock.now())
        c.token = await issue_token(conn, user_id, clock.now())
    return c


async def test_search_and_assist_with_core_auth(client):
    auth = {"Authorization": f"Bearer {client.token}"}
    assert (await client.get("/api/v1/kb/search", params={"q": "公积金"})).status == 401
    resp = await client.get("/api/v1/kb/search", params={"q": "公积金贷款额度"}, headers=auth)
    assert resp.status == 200
    assert (await resp.json())["hits"][0]["title"] == "住房公积金贷款额度怎么计算"
    data = await (await client.get("/api/v1/assist", params={"text": "燃气泄漏了怎么办"}, headers=auth)).json()
    assert data["articles"][0]["title"] == "燃气泄漏应急处置"
    # the routing package's real suggester, read from app[ROUTER] per request
    assert data["routing"] is not None and "lead_unit" in data["routing"]
    assert client.app[appkeys.CHATBOT] is not None


async def test_unit_user_search_and_assist_show_only_own_tickets_masked(client, engine, clock):
    """A unit user sees only tickets dispatched to the unit, citizens' phone numbers masked."""
    import sqlalchemy as sa

    from hotline.tables import ticket_units, units
    from knowledge.jobs import ticket_docs
    from tests.knowledge.helpers import add_ticket

    now = clock.now()
    async with engine.connect() as conn:
        ids = dict((await conn.execute(sa.select(units.c.code, units.c.id))).all())
    own = await add_ticket(engine, now, "2026112300101", "翠柳小区燃气管道漏气有异味\n联系电话：13812345678",
                           unit_id=ids["gas"], replies=["已派人处置，回访号码13812345678"])
    other = await add_ticket(engine, now, "2026112300102", "湖滨街道燃气管道漏气有异味\n联系电话：13912345678",
                             unit_id=ids["water"])
    # dispatched to gas, then taken back: the index still names gas as the lead unit
    moved = await add_ticket(engine, now, "2026112300103", "商铺燃气管道漏气有异味\n联系电话：13712345678",
                             unit_id=ids["gas"])
    async with engine.begin() as conn:
        for ticket_id, unit, active in [(own, "gas", True), (other, "water", True), (moved, "gas", False)]:
            await conn.execute(ticket_units.insert().values(ticket_id=ticket_id, unit_id=ids[unit], role="lead",
                                                            active=active, dispatched_at=now))
        gas_user = await create_user(conn, "gas1", "unit", now, unit_code="gas")
        gas = {"Authorization": f"Bearer {await issue_token(conn, gas_user, now)}"}
    await client.app[appkeys.SEARCH].upsert(await ticket_docs(engine, [own, other, moved]))
    agent = {"Authorization": f"Bearer {client.token}"}

    params = {"q": "燃气管道漏气", "kind": "ticket"}
    data = await (await client.get("/api/v1/kb/search", params=params, headers=agent)).json()
    assert {int(h["id"]) for h in data["hits"]} == {own, other, moved}

    resp = await client.get("/api/v1/kb/search", params=params, headers=gas)
    assert resp.status == 200
    body = await resp.text()
    data = await resp.json()
    assert [int(h["id"]) for h in data["hits"]] == [own] and data["total"] == 1
    assert "13812345678" not in body and "13912345678" not in body and "13712345678" not in body
    assert "138****5678" in data["hits"][0]["extra"]["text"] and "138****5678" in data["hits"][0]["extra"]["reply"]
    data = await (await client.get("/api/v1/kb/search", params={"q": "燃气管道漏气"}, headers=gas)).json()
    assert [int(h["id"]) for h in data["hits"] if h["kind"] == "ticket"] == [own]

    resp = await client.get("/api/v1/assist", params={"text": "燃气管道漏气有异味"}, headers=gas)
    body = await resp.text()
    similar = (await resp.json())["similar_tickets"]
    assert [t["id"] for t in similar] == [own] and similar[0]["reply"] == "已派人处置，回访号码138****5678"
    assert "13812345678" not in body and "13912345678" not in body
    similar = (await (await client.get("/api/v1/assist", params={"text": "燃气管道漏气有异味"},
                                       headers=agent)).json())["similar_tickets"]
    assert {t["id"] for t in similar} == {own, other, moved}

    # the hidden digits cannot be probed: a unit's search refuses digit runs, its assist leaves them out
    resp = await client.get("/api/v1/kb/search", params={"q": "13812345678", "kind": "ticket"}, headers=gas)
    assert resp.status == 400 and "3 位以上的连续数字" in (await resp.json())["error"]["message"]
    data = await (await client.get("/api/v1/kb/search", params={"q": "13812345678", "kind": "ticket"},
                                   headers=agent)).json()
    assert int(data["hits"][0]["id"]) == own  # staff find it by the number as before
    similar = (await (await client.get("/api/v1/assist", params={"text": "13812345678"},
                                       headers=gas)).json())["similar_tickets"]
    assert similar == []


async def test_unit_user_sees_knowledge_gaps_with_numbers_masked(client, engine, clock):
    from knowledge.tables import kb_chat_log

    now = clock.now()
    async with engine.begin() as conn:
        await conn.execute(kb_chat_log.insert().values(
            channel="wechat", user_key="wechat:o1", question="我家燃气表不走字怎么办，电话13812345678",
            outcome="unanswered", created_at=now))
        gas_user = await create_user(conn, "gas2", "unit", now, unit_code="gas")
        gas = {"Authorization": f"Bearer {await issue_token(conn, gas_user, now)}"}
    seen = (await (await client.get("/api/v1/kb/gaps", headers=gas)).json())["items"]
    assert [i["question"] for i in seen] == ["我家燃气表不走字怎么办，电话138****5678"]
    staff = (await (await client.get("/api/v1/kb/gaps", headers={"Authorization": f"Bearer {client.token}"})).json())
    assert staff["items"][0]["question"].endswith("13812345678")


async def test_unit_user_finds_tickets_it_co_handles(client, engine, clock):
    """A co-handling unit finds the tickets it actively co-handles (the index names only the lead unit)."""
    import sqlalchemy as sa

    from hotline.tables import ticket_units, units
    from knowledge.jobs import ticket_docs
    from tests.knowledge.helpers import add_ticket

    now = clock.now()
    async with engine.connect() as conn:
        ids = dict((await conn.execute(sa.select(units.c.code, units.c.id))).all())
    shared = await add_ticket(engine, now, "2026112300201", "翠柳小区门口道路开挖后燃气管道漏气\n联系电话：13812345678",
                              unit_id=ids["water"])
    dropped = await add_ticket(engine, now, "2026112300202", "湖滨小区道路开挖后燃气管道漏气", unit_id=ids["water"])
    async with engine.begin() as conn:
        for ticket_id, unit, role, active in [(shared, "water", "lead", True), (shared, "gas", "co", True),
                                              (dropped, "water", "lead", True), (dropped, "gas", "co", False)]:
            await conn.execute(ticket_units.insert().values(ticket_id=ticket_id, unit_id=ids[unit], role=role,
                                                            active=active, dispatched_at=now))
        gas_user = await create_user(conn, "gas2", "unit", now, unit_code="gas")
        gas = {"Authorization": f"Bearer {await issue_token(conn, gas_user, now)}"}
    await client.app[appkeys.SEARCH].upsert(await ticket_docs(engine, [shared, dropped]))

    data = await (await client.get("/api/v1/kb/search", params={"q": "道路开挖 燃气管道漏气", "kind": "ticket"},
                                   headers=gas)).json()
    assert [int(h["id"]) for h in data["hits"]] == [shared] and data["total"] == 1
    assert "138****5678" in data["hits"][0]["extra"]["text"]
    similar = (await (await client.get("/api/v1/assist", params={"text": "道路开挖后燃气管道漏气"},
                                       headers=gas)).json())["similar_tickets"]
    assert [t["id"] for t in similar] == [shared]


async def test_web_chatbot_takes_the_place_from_the_problem_with_the_routers_gazetteer(client, engine):
    async def say(text: str) -> dict:
        resp = await client.post("/api/v1/chatbot/messages", json={"user_id": "visitor-1", "text": text})
        assert resp.status == 200
        return await resp.json()

    # the noise article answers (it says 12345 takes such reports); the citizen wants to report it
    answer = await say("东山区凤凰路夜间施工噪音扰民，晚上11点以后还在打桩")
    assert answer["kind"] == "answer" and "来源：《施工噪音扰民投诉》" in answer["text"]
    assert answer["text"].endswith("仍需反映诉求请回复“提交”。")
    collect = await say("提交")
    assert collect["kind"] == "collect"
    assert collect["text"].endswith("已记下地点：东山区凤凰路。请留下您的联系电话，方便承办单位与您联系。")
    done = await say("13812345678")
    assert done["kind"] == "ticket"
    ticket = await client.app[appkeys.SERVICE].get_ticket_by_number(done["ticket_number"])
    assert "地点：东山区凤凰路\n联系电话：13812345678" in ticket["text"]
    assert ticket["district"] == "东山区"  # intake routed the same place
    assert "（智能客服曾提供知识《施工噪音扰民投诉》" in ticket["text"]  # what the citizen was told already


async def test_web_chatbot_tickets_keep_a_place_the_gazetteer_lacks_and_skip_it_for_consultations(client):
    async def say(user: str, text: str) -> dict:
        resp = await client.post("/api/v1/chatbot/messages", json={"user_id": user, "text": text})
        assert resp.status == 200
        return await resp.json()

    service = client.app[appkeys.SERVICE]
    for text in ("提交", "楼道里的灯坏了一个星期", "西湖小区3栋楼下"):
        await say("visitor-w", text)
    done = await say("visitor-w", "13812345678")
    ticket = await service.get_ticket_by_number(done["ticket_number"])
    assert ticket["address"] == "西湖小区3栋楼下"  # the citizen's words, where the gazetteer finds nothing
    # a question for information (the shipped routing model says 咨询): the place is not asked for
    await say("visitor-q", "提交")
    asked = await say("visitor-q", "我想咨询一下养老保险缴费年限怎么计算")
    assert asked["kind"] == "collect" and asked["text"] == "请留下您的联系电话，方便承办单位与您联系。"
    done = await say("visitor-q", "13812345679")
    ticket = await service.get_ticket_by_number(done["ticket_number"])
    assert "地点：不涉及具体地点" in ticket["text"] and ticket["address"] is None


async def test_web_chatbot_message_ids_are_only_unique_per_visitor(client):
    """A widget may number each visitor's messages 1, 2, 3 …: the same message_id from two visitors is two
    messages (two tickets), while the same visitor resending one gets the same reply and no second ticket."""
    async def say(user: str, text: str, message_id: str) -> dict:
        resp = await client.post("/api/v1/chatbot/messages",
                                 json={"user_id": user, "text": text, "message_id": message_id})
        assert resp.status == 200
        return await resp.json()

    numbers = {}
    for user, problem, place, phone in [("visitor-a", "楼道里的灯坏了", "东山区幸福小区5号楼", "13800138011"),
                                        ("visitor-b", "垃圾堆了三天没人清理", "西山区和平街道", "13900139022")]:
        await say(user, "提交", "m1")
        await say(user, problem, "m2")
        await say(user, place, "m3")
        done = await say(user, phone, "m4")
        assert done["kind"] == "ticket"
        assert await say(user, phone, "m4") == done  # a retry of the same message
        numbers[user] = done["ticket_number"]
    assert numbers["visitor-a"] != numbers["visitor-b"]
    service = client.app[appkeys.SERVICE]
    a, b = [await service.get_ticket_by_number(numbers[u]) for u in ("visitor-a", "visitor-b")]
    assert "楼道里的灯坏了" in a["text"] and "垃圾堆了三天没人清理" in b["text"]
    # visitor-a again in a new session, the widget numbering from m1 again, the same phone last: a new request
    await say("visitor-a", "提交", "m1")
    await say("visitor-a", "楼上装修噪音从早到晚", "m2")
    await say("visitor-a", "东山区幸福小区5号楼", "m3")
    again = await say("visitor-a", "13800138011", "m4")
    assert again["kind"] == "ticket" and again["ticket_number"] not in numbers.values()
    assert "楼上装修噪音从早到晚" in (await service.get_ticket_by_number(again["ticket_number"]))["text"]


async def test_a_ticket_number_with_more_to_say_is_recorded_on_the_citizens_open_ticket(client, engine):
    import sqlalchemy as sa

    from hotline.tables import ticket_messages

    async def say(user: str, text: str) -> dict:
        resp = await client.post("/api/v1/chatbot/messages", json={"user_id": user, "text": text})
        assert resp.status == 200
        return await resp.json()

    for text in ("提交", "楼道里的灯坏了一个星期", "东山区幸福小区5号楼"):
        await say("visitor-f", text)
    number = (await say("visitor-f", "13800138011"))["ticket_number"]
    follow = await say("visitor-f", f"工单{number}的灯还是没修好，晚上老人上下楼很危险，请尽快处理")
    assert follow["kind"] == "progress" and f"已将您的补充内容记入工单 {number}" in follow["text"]
    ticket = await client.app[appkeys.SERVICE].get_ticket_by_number(number)
    async with engine.connect() as conn:
        texts = (await conn.execute(sa.select(ticket_messages.c.text)
                                    .where(ticket_messages.c.ticket_id == ticket["id"]).order_by(ticket_messages.c.id))).scalars().all()
    assert len(texts) == 2 and "老人上下楼很危险" in texts[1]
    # someone else's number with a complaint: not recorded there; it may become the citizen's own request
    other = await say("visitor-g", f"工单{number}的答复我不满意，要求重新处理")
    assert other["kind"] == "progress" and "未找到您名下的工单" in other["text"] and other["text"].endswith("请回复“提交”。")
    collect = await say("visitor-g", "提交")
    assert collect["kind"] == "collect" and collect["text"].endswith("请告诉我们问题发生的地点（区、街道、小区或门牌号）；与具体地点无关请回复“无”。")
