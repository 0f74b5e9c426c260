"""The Telegram bot through the real app, aiogram talking to a local Bot API stand-in."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

import channels.web
from channels.telegram.settings import TelegramSettings
from hotline import appkeys
from hotline.app import create_app
from hotline.config import Settings
from hotline.messages import Identity, OutboundMessage
from hotline.tables import ticket_messages, tickets
from hotline.users import Actor
from tests.channels.telegram.bot_api import BotApiStandIn
from tests.channels.telegram.contract import HEADER_SECRET, PATH_SECRET, TOKEN, load, update

AGENT = Actor(username="agent1", role="agent")


@pytest.fixture
async def bot_api():
    api = await BotApiStandIn(TOKEN).start()
    yield api
    await api.stop()


@pytest.fixture
async def tg(aiohttp_client, engine, clock, tmp_path, bot_api):
    app = create_app(Settings(data_dir=tmp_path / "data"), engine=engine, clock=clock, plugins=[])
    settings = TelegramSettings(token=TOKEN, path_secret=PATH_SECRET, secret_token=HEADER_SECRET,
                                api_base_url=bot_api.base_url)
    channels.web.setup(app, only=["telegram"], channel_settings={"telegram": settings})
    client = await aiohttp_client(app)
    client.hotline_app = app
    return client


async def deliver(client, name: str | None = None, *, body: bytes | None = None, **kwargs):
    req = update(name or "message_text.json", **kwargs)
    resp = await client.post(req.path, data=body if body is not None else req.body, headers=req.headers)
    return resp.status, json.loads(await resp.read())


async def deliver_json(client, data: dict):
    req = update("message_text.json")
    resp = await client.post(req.path, data=json.dumps(data, ensure_ascii=False).encode(), headers=req.headers)
    return resp.status, json.loads(await resp.read())


async def count(engine, table) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def test_update_creates_a_ticket_and_the_bot_answers_its_number(tg, bot_api, engine):
    status, body = await deliver(tg, "message_text.json")
    assert status == 200 and body == {"ok": True}
    [answer] = bot_api.sent()
    assert answer["chat_id"] == "5123456789"
    assert "您的诉求已受理，工单号：2026112300001" in answer["text"]
    service = tg.hotline_app[appkeys.SERVICE]
    ticket = await service.get_ticket_by_number("2026112300001")
    assert ticket["channel"] == "telegram" and "护照到期" in ticket["text"]
    assert ("telegram", "5123456789") in [(i["kind"], i["value"]) for i in ticket["citizen"]["identities"]]

    # Telegram redelivers the same update: stored once, one ticket.
    await deliver(tg, "message_text.json")
    assert await count(engine, tickets) == 1 and await count(engine, ticket_messages) == 1

    # A follow-up in the same chat joins the open ticket; a photo too.
    await deliver(tg, "message_followup.json")
    assert "已将您的补充内容记入工单 2026112300001" in bot_api.sent()[-1]["text"]
    await deliver(tg, "photo_caption.json")
    ticket = await service.get_ticket_by_number("2026112300001")
    photo = [m for m in ticket["messages"] if m["attachments"]]
    assert photo and photo[0]["attachments"][0]["url"] == "telegram:file:AgACAgUAAxkBAAIBOWV0large"
    assert photo[0]["text"] == "这是护照信息页照片（已遮挡号码）"
    # /new starts a separate request.
    await deliver(tg, "new_command.json")
    assert "工单号：2026112300002" in bot_api.sent()[-1]["text"]
    assert await count(engine, tickets) == 2


async def test_query_and_rate(tg, bot_api, engine):
    await deliver(tg, "message_text.json")
    service = tg.hotline_app[appkeys.SERVICE]
    await deliver(tg, "rate_command.json")  # not answered yet
    assert "暂不能评价" in bot_api.sent()[-1]["text"]

    await service.transition("2026112300001", "answer", AGENT,
                             {"answer": "可通过“中国领事”APP在线申请换发护照，无需回国。"})
    await deliver(tg, "query_command.json")
    answer = bot_api.sent()[-1]
    assert "状态：直接答复办结" in answer["text"] and "中国领事" in answer["text"]
    buttons = bot_api.markup(answer)["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["rate:2026112300001:满意", "rate:2026112300001:基本满意",
                                                      "rate:2026112300001:不满意"]

    await deliver(tg, "callback_rate.json")
    [ack] = bot_api.sent("answerCallbackQuery")
    assert ack["callback_query_id"] == "4430972836612183702"
    assert "感谢您的评价（基本满意）" in bot_api.sent()[-1]["text"]
    assert (await service.get_ticket_by_number("2026112300001"))["satisfaction"] == "基本满意"


async def test_someone_else_cannot_query_or_rate(tg, bot_api, engine):
    await deliver(tg, "message_text.json")
    other = load("query_command.json")
    other["message"]["from"]["id"] = other["message"]["chat"]["id"] = 6000000001
    await deliver_json(tg, other)
    answer = bot_api.sent()[-1]
    assert answer["chat_id"] == "6000000001" and "未找到该工单" in answer["text"] and "护照" not in answer["text"]


async def test_a_ticket_on_a_merged_record_but_not_sent_from_this_chat_is_not_shown(tg, bot_api, engine):
    # the citizen record holds this chat (e.g. joined by a typed phone number), but the ticket came by phone
    from hotline.messages import Identity
    from hotline.service import NewTicket

    service = tg.hotline_app[appkeys.SERVICE]
    taken = await service.create_ticket(NewTicket(
        channel="phone", text="楼下烧烤店油烟扰民", identities=[Identity(kind="phone", value="+8613900009999"),
                                                              Identity(kind="telegram", value="5123456789")]))
    query = load("query_command.json")
    query["message"]["text"] = f"/query {taken['number']}"
    await deliver_json(tg, query)
    answer = bot_api.sent()[-1]
    assert "未找到该工单" in answer["text"] and "油烟" not in answer["text"]


async def test_help_group_and_unknown_updates(tg, bot_api, engine):
    await deliver(tg, "start.json")
    assert "/query 工单号" in bot_api.sent()[-1]["text"]
    await deliver(tg, "group_message.json")
    assert "请私聊" in bot_api.sent()[-1]["text"]
    status, body = await deliver(tg, "my_chat_member.json")
    assert status == 200 and body == {"ok": True, "ignored": "my_chat_member"}
    bad_query = load("query_command.json")
    bad_query["message"]["text"] = "/query 123"
    await deliver_json(tg, bad_query)
    assert "请输入13位工单号" in bot_api.sent()[-1]["text"]
    assert await count(engine, tickets) == 0


async def test_bad_requests_are_refused_and_write_nothing(tg, bot_api, engine):
    status, body = await deliver(tg, path="wrong-path")
    assert status == 401 and body["error"]["code"] == "verification_failed"
    status, body = await deliver(tg, header=None)
    assert status == 401
    status, body = await deliver(tg, body=b"{not json")
    assert status == 400 and body["error"]["code"] == "malformed_payload"
    status, body = await deliver(tg, body=b'{"hello": "world"}')
    assert status == 400
    status, body = await deliver_json(tg, {"update_id": 1, "message": {"message_id": "x"}})
    assert status == 400 and body["error"]["code"] == "malformed_payload"
    status, body = await deliver(tg, body=b'{"update_id": 1, "pad": "' + b"x" * 1_100_000 + b'"}')
    assert status == 413
    assert bot_api.calls == []
    assert await count(engine, tickets) == 0 and await count(engine, ticket_messages) == 0


async def test_send_notices_through_the_bot(tg, bot_api):
    adapter = tg.hotline_app[appkeys.CHANNELS]["telegram"]
    notice = OutboundMessage(channel="telegram", recipient=Identity(kind="telegram", value="5123456789"),
                             text="您的诉求已办结。", ticket_number="2026112300001")
    result = await adapter.send(notice)
    assert result.ok and result.external_id.startswith("msg:5123456789:")
    assert bot_api.sent()[-1]["text"] == "【工单 2026112300001】您的诉求已办结。"
    bot_api.fail_with = (400, "Bad Request: chat not found")
    result = await adapter.send(notice)
    assert not result.ok and not result.retryable and "chat not found" in result.error
    bot_api.fail_with = (502, "Bad Gateway")
    result = await adapter.send(notice)
    assert not result.ok and result.retryable
    wrong = notice.model_copy(update={"recipient": Identity(kind="email", value="a@b.cn")})
    assert not (await adapter.send(wrong)).ok


async def test_register_webhook(tg, bot_api):
    adapter = tg.hotline_app[appkeys.CHANNELS]["telegram"]
    url = await adapter.register_webhook("https://12345.example.gov.cn/")
    assert url == f"https://12345.example.gov.cn/channels/telegram/{PATH_SECRET}"
    [call] = bot_api.sent("setWebhook")
    assert call["url"] == url and call["secret_token"] == HEADER_SECRET
    assert json.loads(call["allowed_updates"]) == ["callback_query", "message"]


async def test_a_bare_1_answers_the_callback_question(tg, bot_api, engine):
    """回访 over Telegram: after the unit's reply a callback task waits; the citizen's "1" records 满意."""
    import re
    from types import SimpleNamespace

    from hotline.demo import seed_demo
    from hotline.jobs.callbacks import create_task

    service = tg.hotline_app[appkeys.SERVICE]
    await seed_demo(service, users=False, extras=False)  # the demo units (and six demo tickets)
    await deliver(tg, "message_text.json")
    number = re.search(r"工单号：(\d{13})", bot_api.sent()[-1]["text"]).group(1)
    async with engine.connect() as conn:
        housing_id = (await conn.execute(sa.text("SELECT id FROM units WHERE code = 'housing'"))).scalar_one()
    housing = Actor("housing-user", "unit", unit_id=housing_id)
    await service.transition(number, "dispatch", AGENT, {"lead_unit": "housing"})
    await service.transition(number, "sign", housing)
    await service.transition(number, "reply", housing, {"text": "已在线办理换发护照预约。"})
    async with engine.begin() as conn:
        row = (await conn.execute(sa.select(tickets).where(tickets.c.number == number))).first()
        assert await create_task(SimpleNamespace(now=service.now, channels={"telegram": tg}), conn, row)
    before = await count(engine, tickets)
    await deliver_json(tg, {**json.loads(update("message_text.json").body), "update_id": 999001,
                            "message": {**json.loads(update("message_text.json").body)["message"],
                                        "message_id": 999, "text": "1"}})
    assert f"感谢您的评价（满意），工单 {number}" in bot_api.sent()[-1]["text"]
    ticket = await service.get_ticket_by_number(number)
    assert (ticket["state"], ticket["satisfaction"]) == ("callback_done", "满意")
    assert await count(engine, tickets) == before  # the "1" made no new ticket
