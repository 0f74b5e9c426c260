"""WeChat public account: verification, the three modes, replies, threading, queries and ratings."""

from __future__ import annotations

import asyncio
import json
import secrets

import sqlalchemy as sa
import xmltodict

from hotline import appkeys
from hotline.tables import ticket_messages, tickets
from hotline.users import Actor
from tests.channels.wechat.conftest import post
from tests.channels.wechat.fakes import AES_KEY, TOKEN, fixture, text_xml

AGENT = Actor(username="agent1", role="agent")


async def count(engine, table, *where) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))).scalar_one()


def reply_content(text: str) -> str:
    return xmltodict.parse(text)["xml"]["Content"]


async def test_server_verification_echoes_echostr(make_client, citizen):
    client = await make_client()
    query = {**citizen.query(), "echostr": "6312546795453721367"}
    resp = await client.get("/channels/wechat", params=query)
    assert resp.status == 200 and await resp.text() == "6312546795453721367"
    bad = {**citizen.query(bad_signature=True), "echostr": "6312546795453721367"}
    resp = await client.get("/channels/wechat", params=bad)
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "verification_failed"


async def test_plaintext_text_creates_ticket_and_replies_with_number(make_client, citizen, engine):
    client = await make_client()
    status, body = await post(client, citizen.plain(fixture("text.xml")))
    assert status == 200
    reply = xmltodict.parse(body)["xml"]
    assert reply["ToUserName"] == "oia2TjjewbmiOUlr6X-1crbLOvLw" and reply["FromUserName"] == "gh_7f083739789a"
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets))).one()
    assert row.channel == "wechat" and "路灯坏了" in row.text
    assert reply["Content"] == f"您的诉求已受理，工单编号：{row.number}。发送该编号可查询办理进度。"


async def test_encrypted_round_trip_decrypts_with_wechatpy(make_client, citizen, engine):
    client = await make_client(aes_key=AES_KEY)
    path, headers, body, query = citizen.encrypted(text_xml("小区电梯停运三天了"))
    assert b"<Encrypt>" in body and "电梯".encode() not in body
    status, text = await post(client, (path, headers, body))
    assert status == 200
    plain = citizen.decrypt_reply(text, query)  # raises if the signature or AppId is wrong
    number = (await client.app[appkeys.SERVICE].list_tickets())[0][0]["number"]
    assert plain["Content"].startswith("您的诉求已受理") and number in plain["Content"]


async def test_compatible_mode_decrypts_and_answers_encrypted(make_client, citizen, engine):
    client = await make_client(aes_key=AES_KEY)
    path, headers, body, query = citizen.encrypted(text_xml("公交站台顶棚漏雨"), compatible=True)
    assert "公交站台".encode() in body and b"<Encrypt>" in body
    status, text = await post(client, (path, headers, body))
    assert status == 200 and "工单编号" in citizen.decrypt_reply(text, query)["Content"]


async def test_encrypted_with_wrong_appid_or_signature_is_rejected(make_client, citizen, engine):
    from wechatpy.crypto import WeChatCrypto

    client = await make_client(aes_key=AES_KEY)
    other_app = WeChatCrypto(TOKEN, AES_KEY, "wx0000000000000000")
    status, text = await post(client, citizen.encrypted(text_xml("测试"), crypto=other_app))
    assert status == 401 and "AppId" in json.loads(text)["error"]["message"]
    status, text = await post(client, citizen.encrypted(text_xml("测试"), bad_msg_signature=True))
    assert status == 401 and json.loads(text)["error"]["code"] == "verification_failed"
    assert await count(engine, ticket_messages) == 0


async def test_same_message_three_times_concurrently_gives_one_ticket(make_client, citizen, engine):
    client = await make_client()
    request = citizen.plain(text_xml("路口红绿灯不亮", msg_id="6054768590064713728"))
    results = await asyncio.gather(*(post(client, request) for _ in range(3)))
    assert [status for status, _ in results] == [200, 200, 200]
    assert await count(engine, tickets) == 1
    assert await count(engine, ticket_messages) == 1
    answered = [text for _, text in results if text != "success"]
    assert answered and all("工单编号" in reply_content(text) for text in answered)
    # A retry after the answer gets the same answer again.
    status, again = await post(client, request)
    assert reply_content(again) == reply_content(answered[0])
    assert await count(engine, tickets) == 1


async def test_dedupe_across_processes_through_redis(make_client, citizen, engine, redis_server):
    first = await make_client(redis_url=redis_server.url)
    second = await make_client(redis_url=redis_server.url)
    request = citizen.plain(text_xml("噪音扰民", msg_id=str(secrets.randbelow(10**17))))
    results = await asyncio.gather(post(first, request), post(second, request), post(first, request))
    assert all(status == 200 for status, _ in results)
    assert await count(engine, tickets) == 1
    redis = first.app[appkeys.REDIS]
    assert await redis.exists(f"hotline:wechat:seen:msg:{xmltodict.parse(request[2])['xml']['MsgId']}")


async def test_voice_recognition_becomes_ticket_text(make_client, citizen, engine):
    client = await make_client()
    status, body = await post(client, citizen.plain(fixture("voice.xml")))
    assert status == 200 and "工单编号" in reply_content(body)
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets.c.text))).one()
        message = (await conn.execute(sa.select(ticket_messages))).one()
    assert "油烟" in row.text
    assert message.attachments[0]["filename"].endswith(".amr")


async def test_image_and_location_thread_into_the_conversation_ticket(make_client, citizen, engine):
    client = await make_client()
    await post(client, citizen.plain(fixture("text.xml")))
    status, body = await post(client, citizen.plain(fixture("image.xml")))
    assert "已记入工单" in reply_content(body)
    status, body = await post(client, citizen.plain(fixture("location.xml")))
    assert "已记入工单" in reply_content(body)
    assert await count(engine, tickets) == 1
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(ticket_messages).order_by(ticket_messages.c.id))).all()
    assert len({r.ticket_id for r in rows}) == 1 and len(rows) == 3
    assert rows[1].attachments[0]["url"].startswith("http://mmbiz.qpic.cn/")
    assert rows[2].meta["location"] == {"latitude": 30.274085, "longitude": 120.15507,
                                        "label": "浙江省杭州市西湖区文三路138号"}


async def test_a_lone_location_creates_a_ticket_with_coordinates(make_client, citizen, engine):
    client = await make_client()
    status, body = await post(client, citizen.plain(fixture("location.xml")))
    assert "工单编号" in reply_content(body)
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(tickets.c.text))).one()
    assert "位置：浙江省杭州市西湖区文三路138号" in row.text


async def test_progress_query_by_ticket_number_only_for_own_tickets(make_client, citizen, engine):
    client = await make_client()
    await post(client, citizen.plain(fixture("text.xml")))
    number = (await client.app[appkeys.SERVICE].list_tickets())[0][0]["number"]
    status, body = await post(client, citizen.plain(text_xml(f"查询 {number}")))
    assert reply_content(body) == f"工单 {number} 当前状态：新建。"
    status, body = await post(client, citizen.plain(text_xml(number, openid="o-someone-else")))
    assert reply_content(body) == f"未找到您名下的工单 {number}，请核对编号。"
    assert await count(engine, tickets) == 1


async def test_a_ticket_on_a_merged_record_but_not_sent_from_this_account_is_not_shown_or_rated(make_client, citizen,
                                                                                                 engine):
    # the citizen record holds this openid (e.g. joined by a phone number someone typed), but the ticket was
    # taken by phone: a record is no proof of whose the ticket is, so WeChat neither shows nor rates it
    from hotline.messages import Identity
    from hotline.service import NewTicket

    client = await make_client()
    service = client.app[appkeys.SERVICE]
    taken = await service.create_ticket(NewTicket(
        channel="phone", text="楼下烧烤店油烟扰民", identities=[Identity(kind="phone", value="+8613900009999"),
                                                              Identity(kind="wechat", value="oia2TjjewbmiOUlr6X-1crbLOvLw")]))
    for text in (f"查询 {taken['number']}", f"评价 {taken['number']} 不满意"):
        status, body = await post(client, citizen.plain(text_xml(text, openid="oia2TjjewbmiOUlr6X-1crbLOvLw")))
        assert reply_content(body) == f"未找到您名下的工单 {taken['number']}，请核对编号。", text
    assert (await service.get_ticket_by_number(taken["number"]))["satisfaction"] is None


async def test_rating_a_closed_ticket(make_client, citizen, engine):
    client = await make_client()
    service = client.app[appkeys.SERVICE]
    await post(client, citizen.plain(fixture("text.xml")))
    number = (await service.list_tickets())[0][0]["number"]
    status, body = await post(client, citizen.plain(text_xml(f"评价 {number} 满意")))
    assert "暂不能评价" in reply_content(body)
    await service.transition(number, "answer", AGENT, {"answer": "已通知路灯所当日维修。"})
    status, body = await post(client, citizen.plain(text_xml(f"评价 {number} 2")))
    assert reply_content(body) == f"感谢您的评价！工单 {number} 已记录为“基本满意”。"
    assert (await service.get_ticket_by_number(number))["satisfaction"] == "基本满意"


async def test_subscribe_and_menu_events_answer_without_tickets(make_client, citizen, engine):
    client = await make_client()
    status, body = await post(client, citizen.plain(fixture("event_subscribe.xml")))
    assert reply_content(body).startswith("欢迎关注12345")
    status, body = await post(client, citizen.plain(fixture("event_click.xml")))
    assert reply_content(body) == "请发送工单编号（13位数字）查询办理进度。"
    assert await count(engine, tickets) == 0


async def test_unknown_message_and_event_types_are_acknowledged(make_client, citizen, engine):
    client = await make_client()
    for name in ("shortvideo.xml", "event_templatesendjobfinish.xml"):
        assert await post(client, citizen.plain(fixture(name))) == (200, "success")
    assert await count(engine, ticket_messages) == 0


class SlowChatbot:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.seen = []

    async def respond(self, message):
        self.seen.append(message)
        await asyncio.sleep(self.delay)
        return "您好，燃气报修请拨打96777，我们已为您记录。"


async def test_chatbot_answers_passively_when_fast(make_client, citizen):
    bot = SlowChatbot(0)
    client = await make_client(chatbot=bot)
    status, body = await post(client, citizen.plain(text_xml("燃气怎么报修")))
    assert reply_content(body) == "您好，燃气报修请拨打96777，我们已为您记录。"
    assert bot.seen[0].text == "燃气怎么报修" and bot.seen[0].sender.kind == "wechat"


async def customer_service_sends(fake_api) -> list[dict]:
    """The customer-service messages sent, once the first has arrived (they go out after the answer)."""
    for _ in range(100):
        if fake_api.calls("/cgi-bin/message/custom/send"):
            break
        await asyncio.sleep(0.05)
    return fake_api.calls("/cgi-bin/message/custom/send")


async def test_late_reply_goes_out_as_customer_service_message(make_client, citizen, fake_api):
    client = await make_client(chatbot=SlowChatbot(0.5), reply_deadline_seconds=0.1)
    status, body = await post(client, citizen.plain(text_xml("燃气怎么报修")))
    assert (status, body) == (200, "success")
    sent = await customer_service_sends(fake_api)
    assert [s["json"] for s in sent] == [{"touser": "oia2TjjewbmiOUlr6X-1crbLOvLw", "msgtype": "text",
                                          "text": {"content": "您好，燃气报修请拨打96777，我们已为您记录。"}}]


async def test_day_old_guard_rows_are_pruned_by_the_channel_job(make_client, citizen, engine, clock):
    from types import SimpleNamespace

    from channels.jobs import prune_job
    from channels.tables import wechat_deliveries

    client = await make_client()
    await post(client, citizen.plain(fixture("event_subscribe.xml")))
    ctx = SimpleNamespace(engine=engine, now=clock.now)
    assert (await prune_job(ctx))["wechat_deliveries"] == 0
    clock.advance(hours=25)
    assert (await prune_job(ctx))["wechat_deliveries"] == 1
    assert await count(engine, wechat_deliveries) == 0
    assert (await prune_job(ctx))["wechat_deliveries"] == 0  # safe to run twice


async def test_a_claim_whose_handler_died_is_taken_over_after_the_lease(engine, clock, redis_server):
    import asyncio as aio
    import datetime as dt

    from redis.asyncio import Redis

    from channels.wechat.dedupe import DatabaseDedupe, RedisDedupe

    db = DatabaseDedupe(engine, lease=8)
    assert await db.claim("m1", clock.now()) is True
    assert await db.claim("m1", clock.now() + dt.timedelta(seconds=5)) is False  # still being handled
    assert await db.claim("m1", clock.now() + dt.timedelta(seconds=9)) is True   # its handler died
    await db.remember("m1", "")
    assert await db.claim("m1", clock.now() + dt.timedelta(seconds=60)) is False  # answered: never again

    redis = Redis.from_url(redis_server.url)
    try:
        await redis.delete("hotline:wechat:claim:m2", "hotline:wechat:seen:m2")
        fast = RedisDedupe(redis, ttl_seconds=3600, lease=0.2)
        assert await fast.claim("m2", clock.now()) is True
        assert await fast.claim("m2", clock.now()) is False
        await aio.sleep(0.3)
        assert await fast.claim("m2", clock.now()) is True
        await fast.remember("m2", "已受理")
        await aio.sleep(0.3)
        assert await fast.claim("m2", clock.now()) is False and await fast.reply_for("m2") == "已受理"
    finally:
        await redis.aclose()


async def test_a_message_failing_after_the_deadline_asks_the_citizen_to_resend(make_client, citizen, fake_api):
    class FailingChatbot:
        async def respond(self, message):
            await asyncio.sleep(0.3)
            raise RuntimeError("database went away")

    client = await make_client(chatbot=FailingChatbot(), reply_deadline_seconds=0.1)
    status, body = await post(client, citizen.plain(text_xml("燃气怎么报修")))
    assert (status, body) == (200, "success")
    [sent] = await customer_service_sends(fake_api)
    assert "请稍后重新发送" in sent["json"]["text"]["content"]


async def test_worker_adapters_send_without_the_web_app(engine, clock, fake_api, citizen, make_client):
    import aiohttp

    from channels.web import adapters_for_worker
    from channels.wechat.settings import WechatSettings
    from hotline.messages import Identity, OutboundMessage
    from tests.channels.wechat.fakes import APPID, APPSECRET

    client = await make_client()
    await post(client, citizen.plain(fixture("event_subscribe.xml")))   # opens the citizen's window
    settings = WechatSettings(token=TOKEN, appid=APPID, appsecret=APPSECRET, api_base=fake_api.url)
    async with aiohttp.ClientSession() as http:
        adapters = adapters_for_worker(client.app[appkeys.SERVICE], http, only=["wechat", "sms"],
                                       channel_settings={"wechat": settings})
        assert set(adapters) == {"wechat"}
        result = await adapters["wechat"].send(OutboundMessage(
            channel="wechat", recipient=Identity(kind="wechat", value="oia2TjjewbmiOUlr6X-1crbLOvLw"), text="通知"))
    assert result.ok


async def test_a_bare_1_answers_the_callback_question_and_closes_the_ticket(aiohttp_client, engine, clock, tmp_path,
                                                                           fake_api, citizen, monkeypatch):
    """回访 over WeChat, end to end: the unit replies, jobs ask the citizen, "1" closes the ticket."""
    import channels.web
    from channels.wechat.settings import WechatSettings
    from hotline.app import create_app
    from hotline.config import Settings
    from hotline.demo import seed_demo
    from tests.channels.wechat.fakes import APPID, APPSECRET

    monkeypatch.setenv("HOTLINE_JOBS_RELAY_INTERVAL", "0.05")
    monkeypatch.setenv("HOTLINE_JOBS_QUIET_START", "00:00")
    monkeypatch.setenv("HOTLINE_JOBS_QUIET_END", "00:00")
    app = create_app(Settings(data_dir=tmp_path / "data"), engine=engine, clock=clock,
                     plugins=["hotline.api.setup:setup", "hotline.jobs.web:setup"])
    channels.web.setup(app, only=["wechat"], channel_settings={"wechat": WechatSettings(
        token=TOKEN, appid=APPID, appsecret=APPSECRET, api_base=fake_api.url)})  # plaintext mode
    client = await aiohttp_client(app)
    service = app[appkeys.SERVICE]
    await seed_demo(service, users=False, extras=False)
    await post(client, citizen.plain(fixture("text.xml")))
    number = (await service.list_tickets(channel="wechat"))[0][0]["number"]
    housing = Actor("housing-user", "unit", unit_id=await _unit_id(service, "housing"))
    await service.transition(number, "dispatch", AGENT, {"lead_unit": "housing"})
    await service.transition(number, "sign", housing)
    await service.transition(number, "reply", housing, {"text": "路灯已修复。"})

    async def until(check):
        for _ in range(200):
            if await check():
                return True
            await asyncio.sleep(0.05)
        return False

    async def asked():
        return any("1 满意" in json.dumps(r["json"], ensure_ascii=False)
                   for r in fake_api.calls("/cgi-bin/message/custom/send"))

    assert await until(asked), "the callback question never went out over WeChat"
    status, body = await post(client, citizen.plain(text_xml("1")))
    assert reply_content(body) == f"感谢您的评价！工单 {number} 已记录为“满意”。"

    async def closed():
        return (await service.get_ticket(number))["state"] == "closed"

    assert await until(closed)
    assert await count(engine, tickets) == 7  # six demo tickets and this one: "1" made no new ticket


async def _unit_id(service, code: str) -> int:
    async with service.engine.connect() as conn:
        return (await conn.execute(sa.text("SELECT id FROM units WHERE code = :c"), {"c": code})).scalar_one()
