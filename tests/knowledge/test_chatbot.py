"""The chatbot dialogue: answer with source, clarify, feedback and gaps, question -> ticket, progress."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import sqlalchemy as sa

from hotline.messages import Identity, InboundMessage
from knowledge.chatbot import ASK, Chatbot, strip_greeting
from knowledge.dialogue import DbDialogueStore, RedisDialogueStore
from knowledge.gaps import knowledge_gaps
from knowledge.search.embedded import EmbeddedSearchIndex
from knowledge.tables import kb_chat_log
from tests.knowledge.helpers import TicketServiceDouble, load_demo

_ids = itertools.count(1)


def msg(text: str, user: str = "openid-1", channel: str = "wechat", external_id: str | None = None):
    return InboundMessage(channel=channel, external_id=external_id or f"m{next(_ids)}",
                          sender=Identity(kind="wechat" if channel == "wechat" else "web", value=user), text=text,
                          received_at=dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc))


class DoubleBackedChatbot(Chatbot):
    """The chatbot over the TicketServiceDouble, whose tickets are not in the database: who wrote to a
    ticket is read from the double (the real check is tested against the real service in
    test_chatbot_ownership.py)."""

    async def _written_by(self, message, numbers):
        return {n for n in numbers if (t := self.service.tickets.get(n)) is not None
                and t["external_id"][0] == message.channel
                and {"kind": message.sender.kind, "value": message.sender.value} in t["citizen"]["identities"]}


@pytest.fixture(params=["db", pytest.param("redis", marks=pytest.mark.redis)])
async def bot(request, engine, clock):
    index = EmbeddedSearchIndex(engine)
    await index.open()
    demo = await load_demo(engine, clock, index)
    service = TicketServiceDouble()
    client = None
    if request.param == "redis":
        import redis.asyncio as aioredis

        client = aioredis.from_url(request.getfixturevalue("redis_server").url)
        await client.flushdb()
        store = RedisDialogueStore(client)
    else:
        store = DbDialogueStore(engine, clock)
    yield DoubleBackedChatbot(engine=engine, index=index, service=service, store=store, clock=clock), service, demo
    if client is not None:
        await client.aclose()


async def test_answers_from_published_article_with_source_and_feedback(bot, engine):
    chatbot, _, demo = bot
    reply = await chatbot.respond(msg("灵活就业人员怎么缴纳社保？"))
    assert reply.kind == "answer" and reply.article_id == demo["demo-001"]
    assert "来源：《灵活就业人员如何缴纳社会保险》" in reply.text and "有帮助吗" in reply.text
    assert (await chatbot.respond(msg("有用"))).kind == "feedback"
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(kb_chat_log))).one()
    assert row.outcome == "answered" and row.helpful is True and row.article_id == demo["demo-001"]


async def test_question_to_ticket_dialogue(bot):
    chatbot, service, _ = bot
    first = await chatbot.respond(msg("我家楼下的烧烤摊每天半夜油烟很大"))
    assert first.kind == "offer" and "提交" in first.text
    assert (await chatbot.respond(msg("提交"))).text.endswith("请告诉我们问题发生的地点（区、街道、小区或门牌号）；与具体地点无关请回复“无”。")
    assert (await chatbot.respond(msg("云湖区湖滨街道翠柳小区3栋"))).text == "请留下您的联系电话，方便承办单位与您联系。"
    bad = await chatbot.respond(msg("不告诉你"))
    # no number: why one is needed, and how to go on without one (round 7)
    assert bad.kind == "collect" and "回访" in bad.text and "回复“不留”" in bad.text
    done = await chatbot.respond(msg("我的电话是13812345678", external_id="final-1"))
    assert done.kind == "ticket" and done.ticket_number == "2026112300001"
    assert "2026112300001" in done.text
    (sent,) = service.messages
    assert sent.text == "我家楼下的烧烤摊每天半夜油烟很大\n地点：云湖区湖滨街道翠柳小区3栋\n联系电话：13812345678"
    # the last message's id and what was collected: a redelivery is the same request, a later request
    # whose last message carries the same id is not
    assert sent.external_id.startswith("final-1#") and sent.channel == "wechat"
    # the typed number is the ticket's contact, not an identity of the sender (nobody verified it)
    assert sent.other_identities == () and sent.contact_phone == "13812345678"
    # WeChat redelivers the last message: same answer, no second ticket
    again = await chatbot.respond(msg("我的电话是13812345678", external_id="final-1"))
    assert again.ticket_number == "2026112300001" and len(service.messages) == 1
    # progress by number, only for the owner
    progress = await chatbot.respond(msg("查询工单2026112300001进度"))
    assert progress.text == "工单 2026112300001 当前状态：已派单，承办单位：云州市城市管理局，答复期限：2026-11-30。"
    other = await chatbot.respond(msg("2026112300001", user="someone-else"))
    assert other.text == "未找到您名下的工单 2026112300001，请核对编号。"


async def test_unhelpful_answer_leads_to_ticket_and_gap(bot, engine):
    chatbot, service, _ = bot
    assert (await chatbot.respond(msg("燃气泄漏怎么办"))).kind == "answer"
    offer = await chatbot.respond(msg("没用"))
    assert offer.kind == "offer"
    collect = await chatbot.respond(msg("提交"))
    # the question is known, but a question is no problem description: the bot asks (round 7) ...
    assert collect.kind == "collect" and "您刚才咨询的是：“燃气泄漏怎么办”" in collect.text
    # ... and "就是这个" keeps it, so the bot asks where next
    assert "地点" in (await chatbot.respond(msg("就是这个"))).text
    await chatbot.respond(msg("东山区凤凰街道"))
    assert (await chatbot.respond(msg("023-88812345"))).kind == "ticket"
    assert service.messages[0].text.startswith("燃气泄漏怎么办\n地点：东山区凤凰街道")
    await chatbot.respond(msg("火星移民签证在哪里办", user="u2"))
    await chatbot.respond(msg("火星移民签证在哪里办", user="u3"))
    gaps = await knowledge_gaps(engine)
    assert [(g["question"], g["count"]) for g in gaps] == [("火星移民签证在哪里办", 2), ("燃气泄漏怎么办", 1)]


async def test_cancel_and_clarify(bot):
    chatbot, service, demo = bot
    await chatbot.respond(msg("提交"))
    assert (await chatbot.respond(msg("取消"))).kind == "cancel"
    reply = await chatbot.respond(msg("医保"))
    assert reply.kind == "clarify" and len(reply.options) >= 2
    chosen = await chatbot.respond(msg("2"))
    assert chosen.kind == "answer" and chosen.article_id == reply.options[1]["article_id"]
    assert service.messages == []


async def test_search_down_still_offers_ticket(engine, clock):
    class Broken:
        tokenizer = synonyms = None

        async def search(self, *a, **kw):
            raise ConnectionError("down")

    chatbot = Chatbot(engine=engine, index=Broken(), service=TicketServiceDouble(),
                      store=DbDialogueStore(engine, clock), clock=clock)
    reply = await chatbot.respond(msg("公积金怎么提取"))
    assert reply.kind == "offer"


async def test_two_quick_messages_completing_the_dialogue_make_one_ticket(bot):
    import asyncio

    chatbot, service, _ = bot
    ingest = service.ingest

    async def slow_ingest(message):  # the core's intake takes a while: the second message arrives meanwhile
        await asyncio.sleep(0.05)
        return await ingest(message)

    service.ingest = slow_ingest
    await chatbot.respond(msg("提交"))
    await chatbot.respond(msg("小区门口的路灯坏了一个月"))
    await chatbot.respond(msg("云湖区湖滨街道翠柳小区"))
    replies = await asyncio.gather(chatbot.respond(msg("13812345678", external_id="quick-1")),
                                   chatbot.respond(msg("13812345678", external_id="quick-2")))
    assert len(service.messages) == 1
    # the second copy of the last answer is told the same ticket, not taken for the start of a new request
    assert [r.kind for r in replies] == ["ticket", "ticket"]
    assert replies[0].ticket_number == replies[1].ticket_number
    assert chatbot._locks == {}  # noqa: SLF001 - no lock left behind per user


async def test_first_messages_saved_at_once_do_not_collide(engine, clock):
    import asyncio

    store = DbDialogueStore(engine, clock)
    for i in range(5):
        key = f"web:web:new-{i}"
        await asyncio.gather(store.save(key, {"stage": "offer"}), store.save(key, {"stage": "collect"}))
        assert (await store.load(key))["stage"] in ("offer", "collect")
    await store.save("web:web:new-0", {"stage": "feedback"})
    assert await store.load("web:web:new-0") == {"stage": "feedback"}


async def test_submit_after_choices_keeps_the_question(bot):
    chatbot, service, _ = bot
    reply = await chatbot.respond(msg("家里停电了找谁修"))
    assert reply.kind == "clarify" and "提交" in reply.text
    collect = await chatbot.respond(msg("提交"))
    # what the citizen asked is the problem once they say so (round 7: a question is confirmed first) ...
    assert collect.kind == "collect" and collect.text.endswith("如要按刚才的问题提交，请回复“就是这个”。")
    collect = await chatbot.respond(msg("就是这个"))
    # ... then the bot goes on with where
    assert collect.kind == "collect" and collect.text.endswith("请告诉我们问题发生的地点（区、街道、小区或门牌号）；与具体地点无关请回复“无”。")
    await chatbot.respond(msg("东山区凤凰街道"))
    assert (await chatbot.respond(msg("13812345678"))).kind == "ticket"
    assert service.messages[0].text.startswith("家里停电了找谁修\n地点：东山区凤凰街道")
    # straight from an answer's "did this help?" too, as the answer says
    answer = await chatbot.respond(msg("燃气泄漏怎么办", user="u2"))
    assert answer.kind == "answer" and answer.text.endswith("仍需反映诉求请回复“提交”。")
    collect = await chatbot.respond(msg("提交", user="u2"))
    assert collect.kind == "collect" and "“燃气泄漏怎么办”" in collect.text and "就是这个" in collect.text


async def _submit_up_to_contact(chatbot, user: str = "openid-1") -> None:
    await chatbot.respond(msg("提交", user=user))
    await chatbot.respond(msg("小区门口的路灯坏了一个月", user=user))
    await chatbot.respond(msg("云湖区湖滨街道翠柳小区", user=user))


async def test_progress_query_with_full_width_digits_spaces_or_dashes(bot):
    chatbot, _, _ = bot
    await _submit_up_to_contact(chatbot)
    assert (await chatbot.respond(msg("13812345678"))).ticket_number == "2026112300001"
    for text in ("２０２６１１２３００００１", "查询 2026 1123 00001", "2026-1123-00001的进度"):
        reply = await chatbot.respond(msg(text))
        assert reply.kind == "progress" and reply.ticket_number == "2026112300001", text
        assert reply.text.startswith("工单 2026112300001 当前状态：已派单"), text


async def test_phone_number_with_spaces_or_full_width_digits(bot):
    chatbot, service, _ = bot
    for i, phone in enumerate(("138 1234 5678", "１３８１２３４５６７８", "138-1234-5678")):
        await _submit_up_to_contact(chatbot, user=f"p{i}")
        reply = await chatbot.respond(msg(phone, user=f"p{i}"))
        assert reply.kind == "ticket", phone
        assert service.messages[-1].text.endswith("联系电话：13812345678")
    await _submit_up_to_contact(chatbot, user="p9")
    assert (await chatbot.respond(msg("023 8881 2345", user="p9"))).kind == "ticket"


async def test_cancel_and_feedback_words_with_punctuation(bot, engine):
    chatbot, service, _ = bot
    await chatbot.respond(msg("提交"))
    assert (await chatbot.respond(msg("取消。"))).kind == "cancel"
    await chatbot.respond(msg("提交"))
    await chatbot.respond(msg("路灯坏了"))
    assert (await chatbot.respond(msg("算了吧"))).kind == "cancel"
    assert service.messages == []
    assert (await chatbot.respond(msg("燃气泄漏怎么办"))).kind == "answer"
    assert (await chatbot.respond(msg("有用！"))).kind == "feedback"
    assert (await chatbot.respond(msg("燃氣洩漏怎麼辦"))).kind == "answer"  # traditional characters
    assert (await chatbot.respond(msg("沒用"))).kind == "offer"  # 没用: unhelpful, offers a request
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(kb_chat_log.c.helpful).order_by(kb_chat_log.c.id))).scalars().all() \
            == [True, False]


async def test_a_choice_out_of_range_asks_again(bot):
    chatbot, _, _ = bot
    reply = await chatbot.respond(msg("医保"))
    assert reply.kind == "clarify"
    again = await chatbot.respond(msg("9"))
    assert again.kind == "clarify" and again.article_id is None and "序号" in again.text
    chosen = await chatbot.respond(msg("１"))
    assert chosen.kind == "answer" and chosen.article_id == reply.options[0]["article_id"]


async def test_empty_message_keeps_the_dialogue(bot):
    chatbot, service, _ = bot
    for blank in ("", "？"):  # e.g. a picture or a sticker (no text), or only punctuation
        assert (await chatbot.respond(msg("我家楼下的烧烤摊每天半夜油烟很大", user="u1"))).kind == "offer"
        assert (await chatbot.respond(msg(blank, user="u1"))).kind == "offer"
        collect = await chatbot.respond(msg("提交", user="u1"))  # the question is still known: the bot asks where
        assert collect.kind == "collect" and collect.text.endswith(
            "请告诉我们问题发生的地点（区、街道、小区或门牌号）；与具体地点无关请回复“无”。"), blank
        assert (await chatbot.respond(msg("取消", user="u1"))).kind == "cancel"
    assert (await chatbot.respond(msg("医保", user="u2"))).kind == "clarify"
    await chatbot.respond(msg("", user="u2"))
    assert (await chatbot.respond(msg("1", user="u2"))).kind == "answer"  # the choices are still there


async def test_progress_query_in_the_middle_of_a_new_request(bot):
    chatbot, service, _ = bot
    await _submit_up_to_contact(chatbot)
    await chatbot.respond(msg("13812345678"))
    await chatbot.respond(msg("提交"))
    reply = await chatbot.respond(msg("2026112300001"))
    assert reply.kind == "progress" and "当前状态：已派单" in reply.text
    assert reply.text.endswith("请简要描述您要反映的问题。")  # still collecting the new request
    await chatbot.respond(msg("垃圾桶满了没人清"))
    await chatbot.respond(msg("东山区凤凰街道"))
    assert (await chatbot.respond(msg("13812345678"))).kind == "ticket"
    assert service.messages[-1].text.startswith("垃圾桶满了没人清\n地点：东山区凤凰街道")


async def test_feedback_with_no_answer_waiting_is_not_a_knowledge_gap(bot, engine, clock):
    chatbot, _, _ = bot
    assert (await chatbot.respond(msg("没用", user="late"))).kind == "feedback"
    assert (await chatbot.respond(msg("有用", user="late"))).kind == "feedback"
    assert await knowledge_gaps(engine) == []


async def test_submit_words_during_collection_are_not_taken_as_answers(bot):
    chatbot, service, _ = bot
    await chatbot.respond(msg("提交"))
    await chatbot.respond(msg("小区门口的路灯坏了一个月"))
    again = await chatbot.respond(msg("转人工"))
    assert again.kind == "collect" and again.text.endswith("请告诉我们问题发生的地点（区、街道、小区或门牌号）；与具体地点无关请回复“无”。")
    await chatbot.respond(msg("云湖区湖滨街道翠柳小区"))
    assert (await chatbot.respond(msg("13812345678"))).kind == "ticket"
    assert service.messages[0].text.startswith("小区门口的路灯坏了一个月\n地点：云湖区湖滨街道翠柳小区\n")


async def test_a_phone_number_after_the_dialogue_expired_restarts_the_request_not_a_gap(bot, engine):
    chatbot, service, _ = bot
    reply = await chatbot.respond(msg("138 1234 5678", user="late-phone"))
    assert reply.kind == "collect" and reply.text == "已记下您的联系电话。请简要描述您要反映的问题。"
    await chatbot.respond(msg("小区门口的路灯坏了一个月", user="late-phone"))
    done = await chatbot.respond(msg("云湖区湖滨街道翠柳小区", user="late-phone"))
    assert done.kind == "ticket"
    assert service.messages[-1].text.endswith("联系电话：13812345678")
    async with engine.connect() as conn:  # the ticket is logged; the phone number was no unanswered question
        rows = (await conn.execute(sa.select(kb_chat_log.c.question, kb_chat_log.c.outcome))).all()
    assert [tuple(r) for r in rows] == [("小区门口的路灯坏了一个月", "ticket")]
    # a question that merely contains a number is still a question
    assert (await chatbot.respond(msg("12345热线的电话号码是多少", user="q"))).kind != "collect"


async def test_greetings_and_thanks_get_a_greeting_not_a_search_nor_a_gap(bot, engine):
    chatbot, _, _ = bot
    hello = await chatbot.respond(msg("你好！", user="greet"))
    assert hello.kind == "greeting" and "工单编号" in hello.text and "提交" in hello.text
    assert (await chatbot.respond(msg("在吗", user="greet"))).kind == "greeting"
    assert (await chatbot.respond(msg("Hi there!", user="greet"))).kind == "greeting"
    thanks = await chatbot.respond(msg("谢谢啦", user="greet"))
    assert thanks.kind == "greeting" and thanks.text.startswith("不客气")
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(kb_chat_log))).scalar() == 0
    assert await knowledge_gaps(engine) == []
    # a greeting in the middle of a request does not end it
    await chatbot.respond(msg("提交", user="greet"))
    await chatbot.respond(msg("小区门口的路灯坏了一个月", user="greet"))
    assert (await chatbot.respond(msg("您好", user="greet"))).kind == "collect"


def test_strip_greeting_takes_only_a_greeting_off_the_front():
    assert strip_greeting("您好！请问公积金怎么提取") == "请问公积金怎么提取"
    assert strip_greeting("Hi, 你好，社保卡丢了") == "社保卡丢了"
    assert strip_greeting("HIV检测在哪里做") == "HIV检测在哪里做"  # not "hi"
    assert strip_greeting("hey there, 公积金怎么提取") == "公积金怎么提取"
    assert strip_greeting("喂养宠物要登记吗") == "喂养宠物要登记吗"
    assert strip_greeting("你好") == "你好"  # nothing left: the text itself


async def test_a_greeting_before_the_question_does_not_hide_the_answer(bot, engine):
    chatbot, _, demo = bot
    # 你好 counted as a question word lowered the coverage: this was asked back as a choice before
    plain = await chatbot.respond(msg("燃气泄漏怎么办", user="plain"))
    polite = await chatbot.respond(msg("你好，燃气泄漏怎么办", user="polite-gas"))
    assert plain.kind == polite.kind == "answer" and polite.article_id == plain.article_id
    reply = await chatbot.respond(msg("你好，灵活就业人员怎么缴纳社保？", user="polite"))
    assert reply.kind == "answer" and reply.article_id == demo["demo-001"]
    async with engine.connect() as conn:
        logged = (await conn.execute(sa.select(kb_chat_log.c.question).order_by(kb_chat_log.c.id))).scalars().all()
    assert logged == ["燃气泄漏怎么办", "燃气泄漏怎么办", "灵活就业人员怎么缴纳社保？"]  # without the greeting


async def test_progress_without_a_number_lists_the_citizens_own_latest_tickets(bot):
    chatbot, service, _ = bot
    none_yet = await chatbot.respond(msg("查询进度", user="p1"))
    assert none_yet.kind == "progress" and "工单编号" in none_yet.text and none_yet.ticket_number is None
    for what in ("小区门口的路灯坏了一个月", "楼下烧烤摊半夜油烟很大"):
        await chatbot.respond(msg("提交", user="p1"))
        await chatbot.respond(msg(what, user="p1"))
        await chatbot.respond(msg("云湖区湖滨街道翠柳小区", user="p1"))
        await chatbot.respond(msg("13812345678", user="p1"))
    first, second = list(service.tickets)
    mine = await chatbot.respond(msg("我的工单办得怎么样了？", user="p1"))
    assert mine.kind == "progress" and mine.ticket_number == second
    assert mine.text.index(second) < mine.text.index(first) and "已派单" in mine.text
    assert "发送工单编号" in mine.text
    # someone else's latest tickets are never shown
    other = await chatbot.respond(msg("进度查询", user="p2"))
    assert first not in other.text and second not in other.text
    # asked in the middle of a new request: listed, and the question asked again (not taken as the answer)
    await chatbot.respond(msg("提交", user="p1"))
    during = await chatbot.respond(msg("查询进度", user="p1"))
    assert during.kind == "progress" and second in during.text and during.text.endswith(ASK["what"])
    await chatbot.respond(msg("路口红绿灯不亮", user="p1"))
    await chatbot.respond(msg("云湖区湖滨街道", user="p1"))
    await chatbot.respond(msg("13812345678", user="p1"))
    assert service.messages[-1].text.startswith("路口红绿灯不亮\n")


async def test_a_phone_number_after_the_offer_keeps_the_question(bot):
    chatbot, service, _ = bot
    offer = await chatbot.respond(msg("我家楼下的烧烤摊每天半夜油烟很大", user="ph"))
    assert offer.kind == "offer"
    reply = await chatbot.respond(msg("13812345678", user="ph"))
    assert reply.kind == "collect" and reply.text == "已记下您的联系电话。请告诉我们问题发生的地点（区、街道、小区或门牌号）；与具体地点无关请回复“无”。"
    done = await chatbot.respond(msg("云湖区湖滨街道翠柳小区3栋", user="ph"))
    assert done.kind == "ticket"
    assert service.messages[-1].text == ("我家楼下的烧烤摊每天半夜油烟很大\n地点：云湖区湖滨街道翠柳小区3栋\n"
                                         "联系电话：13812345678")


async def test_a_precise_place_in_the_problem_is_not_asked_again(bot):
    from routing.gazetteer import Gazetteer

    chatbot, service, _ = bot
    chatbot.locate = Gazetteer.demo().extract
    offer = await chatbot.respond(msg("东山区凤凰路有人占道摆摊，人行道都被堵住了", user="g1"))
    assert offer.kind == "offer"  # no article answers it
    # a phone number right after the offer: what, where and contact are all known, so the ticket is made
    done = await chatbot.respond(msg("13812345678", user="g1"))
    assert done.kind == "ticket" and done.text.startswith("已记下您的联系电话。已记下地点：东山区凤凰路。您的诉求已提交")
    assert service.messages[-1].text.endswith("\n地点：东山区凤凰路\n联系电话：13812345678")
    # a whole street is not precise enough: the bot still asks where
    await chatbot.respond(msg("湖滨街道的路灯坏了好几盏", user="g2"))
    assert (await chatbot.respond(msg("提交", user="g2"))).text.endswith(ASK["where"])


async def test_a_failing_gazetteer_only_means_the_place_is_asked(bot):
    chatbot, _, _ = bot

    def broken(text):
        raise RuntimeError("gazetteer file unreadable")

    chatbot.locate = broken
    await chatbot.respond(msg("东山区凤凰路夜间施工噪音扰民", user="g3"))
    assert (await chatbot.respond(msg("提交", user="g3"))).text.endswith(ASK["where"])


async def test_one_close_article_is_offered_as_a_yes_no_question(bot):
    chatbot, _, demo = bot
    reply = await chatbot.respond(msg("家里停电了找谁修", user="dark"))
    assert reply.kind == "clarify" and len(reply.options) == 1
    assert reply.text == f"您想了解的是不是《{reply.options[0]['title']}》？是请回复 1，不是请回复“提交”反映诉求。"
    chosen = await chatbot.respond(msg("1", user="dark"))
    assert chosen.kind == "answer" and chosen.article_id == reply.options[0]["article_id"]


async def test_yes_to_the_yes_no_question_answers_and_no_keeps_the_question(bot, engine):
    chatbot, service, _ = bot
    asked = await chatbot.respond(msg("家里停电了找谁修", user="yes"))
    assert asked.kind == "clarify" and len(asked.options) == 1
    answered = await chatbot.respond(msg("是的", user="yes"))
    assert answered.kind == "answer" and answered.article_id == asked.options[0]["article_id"]

    await chatbot.respond(msg("家里停电了找谁修", user="no"))
    declined = await chatbot.respond(msg("不是", user="no"))
    assert declined.kind == "offer" and "提交" in declined.text
    await chatbot.respond(msg("提交", user="no"))
    await chatbot.respond(msg("云湖区湖滨街道翠柳小区3栋", user="no"))
    done = await chatbot.respond(msg("13812345678", user="no"))
    assert done.kind == "ticket"
    assert service.messages[-1].text.startswith("家里停电了找谁修\n")  # not "不是"
    async with engine.connect() as conn:
        asked_questions = (await conn.execute(sa.select(kb_chat_log.c.question))).scalars().all()
    assert "不是" not in asked_questions and "是的" not in asked_questions


async def test_a_list_takes_ordinals_and_asks_for_a_number_on_a_bare_yes(bot):
    chatbot, _, _ = bot
    listed = await chatbot.respond(msg("医保", user="list"))
    assert listed.kind == "clarify" and len(listed.options) > 1
    again = await chatbot.respond(msg("是", user="list"))
    assert again.kind == "clarify" and again.text.startswith("请回复 1 到")
    second = await chatbot.respond(msg("第二个", user="list"))
    assert second.kind == "answer" and second.article_id == listed.options[1]["article_id"]


async def test_a_bare_topic_word_is_no_problem_description(bot):
    chatbot, service, _ = bot
    await chatbot.respond(msg("医保", user="vague"))
    start = await chatbot.respond(msg("提交", user="vague"))
    assert start.text.endswith(ASK["what"])  # "医保" says nothing of what went wrong
    await chatbot.respond(msg("你好", user="vague"))  # no answer either: asked again
    assert (await chatbot.respond(msg("你好", user="vague"))).text == ASK["what"]
    await chatbot.respond(msg("孩子的医保卡一直办不下来，社区说系统有问题", user="vague"))
    await chatbot.respond(msg("云湖区湖滨街道翠柳小区3栋", user="vague"))
    assert (await chatbot.respond(msg("13812345678", user="vague"))).kind == "ticket"
    sent = service.messages[-1]
    assert sent.text.startswith("孩子的医保卡一直办不下来")
    assert sent.subject == "孩子的医保卡一直办不下来，社区说系统有问题"  # the title holds no phone number


async def test_a_place_in_the_problem_typed_during_collection_is_not_asked_again(bot):
    from routing.gazetteer import Gazetteer

    chatbot, service, _ = bot
    chatbot.locate = Gazetteer.demo().extract
    await chatbot.respond(msg("提交", user="late"))
    reply = await chatbot.respond(msg("东山区凤凰路的路灯坏了", user="late"))
    assert reply.kind == "collect" and reply.text == "已记下地点：东山区凤凰路。" + ASK["contact"]
    assert (await chatbot.respond(msg("13812345678", user="late"))).kind == "ticket"
    assert service.messages[-1].text == "东山区凤凰路的路灯坏了\n地点：东山区凤凰路\n联系电话：13812345678"


async def test_contact_numbers_with_a_country_code_and_a_phone_given_early(bot):
    chatbot, service, _ = bot
    await chatbot.respond(msg("提交", user="cc"))
    early = await chatbot.respond(msg("13812345678", user="cc"))  # asked for the problem, got the phone
    assert early.kind == "collect" and early.text == "已记下您的联系电话。" + ASK["what"]
    await chatbot.respond(msg("楼道里的灯坏了一个星期", user="cc"))
    assert (await chatbot.respond(msg("云湖区湖滨街道翠柳小区3栋", user="cc"))).kind == "ticket"
    assert service.messages[-1].text.endswith("联系电话：13812345678")

    await chatbot.respond(msg("提交", user="cc2"))
    await chatbot.respond(msg("楼道里的灯坏了一个星期", user="cc2"))
    await chatbot.respond(msg("云湖区湖滨街道翠柳小区5栋", user="cc2"))
    refused = await chatbot.respond(msg("我不想留电话", user="cc2"))
    assert refused.kind == "collect" and "取消" in refused.text
    assert (await chatbot.respond(msg("+86 139 1234 5678", user="cc2"))).kind == "ticket"
    assert service.messages[-1].text.endswith("联系电话：13912345678")


async def test_commands_and_numbers_with_nothing_to_act_on_are_not_searched(bot, engine):
    chatbot, _, _ = bot
    cancel = await chatbot.respond(msg("取消", user="idle"))
    assert cancel.kind == "cancel" and "提交" not in cancel.text
    for text in ("12345", "1", "对", "不是", "第一个"):
        reply = await chatbot.respond(msg(text, user="idle"))
        assert reply.kind == "offer" and reply.options == [] and reply.text.startswith("请直接输入"), text
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(kb_chat_log))).scalar() == 0


async def test_the_answer_is_not_given_outside_the_articles_validity(bot, engine, clock):
    from knowledge.tables import kb_articles

    chatbot, _, demo = bot
    assert (await chatbot.respond(msg("灵活就业人员怎么缴纳社保？", user="v0"))).kind == "answer"
    for valid_from, valid_to in [(clock.now() + dt.timedelta(days=30), None),
                                 (None, clock.now() - dt.timedelta(days=1))]:
        async with engine.begin() as conn:
            await conn.execute(kb_articles.update().where(kb_articles.c.id == demo["demo-001"])
                               .values(valid_from=valid_from, valid_to=valid_to))
        reply = await chatbot.respond(msg("灵活就业人员怎么缴纳社保？", user=f"v{valid_to}"))
        assert reply.kind != "answer" and all(o["article_id"] != demo["demo-001"] for o in reply.options)


async def test_the_citizens_ticket_list_shows_each_titles_first_line(bot):
    chatbot, service, _ = bot

    async def recent(identity, limit=3):  # a title made from a whole text by another channel
        return [{"number": "2026112300007", "title": "楼道里的灯坏了\n地点：东山区幸福小区", "state": "dispatched",
                 "state_label": "已派单"}]

    async def written(message, numbers):  # t1 wrote it (from this channel)
        return set(numbers)

    service.recent_tickets_of, chatbot._written_by = recent, written
    listed = await chatbot.respond(msg("查询进度", user="t1"))
    assert "1. 2026112300007（楼道里的灯坏了）：已派单" in listed.text


async def test_an_emergency_is_told_to_call_at_once_before_anything_else(bot):
    from routing.emergency import EmergencyDetector

    chatbot, service, _ = bot
    chatbot.emergency = EmergencyDetector().detect
    fire = await chatbot.respond(msg("楼下着火了，有人被困在三楼", user="fire"))
    assert fire.text.startswith("您描述的情况可能十分紧急（火灾），请立即拨打 119！")
    assert fire.kind == "offer"  # and a request can still follow
    gas = await chatbot.respond(msg("闻到家里有煤气味咋办？", user="gas"))
    assert gas.text.startswith("您描述的情况可能十分紧急（燃气泄漏），请立即拨打 119！")
    assert "燃气泄漏应急处置" in gas.text  # the article (here among choices) still comes with it
    # typed as the problem after 提交: warned too, and the request goes on
    await chatbot.respond(msg("提交", user="fire2"))
    during = await chatbot.respond(msg("有人持刀在小区门口砍人", user="fire2"))
    assert during.kind == "collect" and during.text.startswith("您描述的情况可能十分紧急") and "110" in during.text
    # no emergency: no warning
    plain = await chatbot.respond(msg("消防通道被占了没人管", user="plain"))
    assert "紧急" not in plain.text


async def test_a_second_request_ending_with_a_reused_message_id_is_a_new_ticket(bot):
    chatbot, service, _ = bot
    for problem in ("楼道里的灯坏了一个星期", "楼上装修噪音从早到晚"):
        await chatbot.respond(msg("提交", user="reuse"))
        await chatbot.respond(msg(problem, user="reuse"))
        await chatbot.respond(msg("云湖区湖滨街道翠柳小区3栋", user="reuse"))
        done = await chatbot.respond(msg("13812345678", user="reuse", external_id="last"))
        assert done.kind == "ticket"
    assert [m.text.split("\n")[0] for m in service.messages] == ["楼道里的灯坏了一个星期", "楼上装修噪音从早到晚"]


async def test_a_one_word_problem_typed_after_submit_is_asked_again(bot):
    chatbot, _, _ = bot
    await chatbot.respond(msg("提交", user="word"))
    again = await chatbot.respond(msg("医保", user="word"))
    assert again.kind == "collect" and again.text.startswith("请再具体描述")
    assert (await chatbot.respond(msg("孩子的医保卡一直办不下来", user="word"))).text == ASK["where"]


async def test_stop_phrases_cancel_and_choice_prompts_fit_the_options(bot):
    chatbot, service, _ = bot
    for stop in ("取消提交", "我不想提交了"):
        await chatbot.respond(msg("提交", user=f"stop-{stop}"))
        reply = await chatbot.respond(msg(stop, user=f"stop-{stop}"))
        assert reply.kind == "cancel", stop
    assert service.messages == []
    one = await chatbot.respond(msg("家里停电了找谁修", user="one"))
    assert len(one.options) == 1
    assert (await chatbot.respond(msg("2", user="one"))).text == "是请回复 1，不是请回复“提交”反映诉求。"
    many = await chatbot.respond(msg("医保", user="many"))
    fourth = await chatbot.respond(msg("第四个", user="many"))
    assert fourth.kind == "clarify" and fourth.text == f"请回复 1 到 {len(many.options)} 之间的序号，都不是请回复“提交”反映诉求。"


async def test_a_follow_up_the_intake_makes_a_new_ticket_of_is_told_its_number(bot):
    chatbot, service, _ = bot  # the double never threads: as if the ticket closed between the two reads
    await _submit_up_to_contact(chatbot, user="fu")
    number = (await chatbot.respond(msg("13812345678", user="fu"))).ticket_number
    reply = await chatbot.respond(msg(f"工单{number}的路灯还是没修好，请尽快处理", user="fu"))
    assert reply.kind == "ticket" and reply.ticket_number != number
    assert reply.text.endswith(f"您的补充内容已登记为新工单 {reply.ticket_number}。")
    assert service.messages[-1].text.startswith(f"工单{number}的路灯还是没修好")


async def test_a_phone_given_inside_the_problem_or_the_place_is_kept_and_not_asked_again(bot):
    chatbot, service, _ = bot
    await chatbot.respond(msg("提交", user="p1"))
    reply = await chatbot.respond(msg("物业乱收停车费，我的手机13912345678也可以打", user="p1"))
    assert reply.kind == "collect" and reply.text == "已记下您的联系电话。" + ASK["where"]
    assert (await chatbot.respond(msg("云湖区湖滨街道翠柳小区3栋", user="p1"))).kind == "ticket"
    assert service.messages[-1].text.endswith("地点：云湖区湖滨街道翠柳小区3栋\n联系电话：13912345678")

    await chatbot.respond(msg("提交", user="p2"))
    await chatbot.respond(msg("楼道里的灯坏了一个星期", user="p2"))
    done = await chatbot.respond(msg("就在楼下 电话13712345678 找王先生", user="p2"))
    assert done.kind == "ticket" and done.text.startswith("已记下您的联系电话。您的诉求已提交")
    sent = service.messages[-1]
    assert sent.text == "楼道里的灯坏了一个星期\n地点：就在楼下 找王先生\n联系电话：13712345678"
    assert sent.address == "就在楼下 找王先生"


async def test_someone_elses_phone_in_the_problem_is_not_taken_for_the_citizens(bot):
    chatbot, _, _ = bot
    await chatbot.respond(msg("提交", user="p3"))
    for text in ("物业电话13800000000一直打不通，电梯坏了没人修", "电梯坏了，维保公司的手机13800000001也不接"):
        reply = await chatbot.respond(msg(text, user="p3"))
        assert reply.kind == "collect" and "已记下您的联系电话" not in reply.text
        await chatbot.respond(msg("取消", user="p3"))
        await chatbot.respond(msg("提交", user="p3"))


async def test_a_date_before_12345_the_hotline_is_no_ticket_number(bot):
    chatbot, service, _ = bot
    for text in ("我2024-05-06 12345打过电话反映噪音问题，一直没人处理", "我在 20240506 12345 反映过路灯问题"):
        reply = await chatbot.respond(msg(text, user="d1"))
        assert reply.kind != "progress" and "未找到" not in reply.text, text
    # a ticket number typed in groups still is one, when it is the citizen's own
    await chatbot.respond(msg("提交", user="d2"))
    await chatbot.respond(msg("楼道里的灯坏了一个星期", user="d2"))
    await chatbot.respond(msg("云湖区湖滨街道翠柳小区3栋", user="d2"))
    number = (await chatbot.respond(msg("13812345678", user="d2"))).ticket_number
    grouped = f"{number[:4]}-{number[4:8]}-{number[8:]}"
    progress = await chatbot.respond(msg(f"查询 {grouped}", user="d2"))
    assert progress.kind == "progress" and progress.text.startswith(f"工单 {number} 当前状态")


async def test_a_ticket_after_an_unhelpful_answer_names_the_article(bot):
    chatbot, service, demo = bot
    answer = await chatbot.respond(msg("灵活就业人员怎么缴纳社保？", user="u1"))
    assert answer.kind == "answer"
    assert (await chatbot.respond(msg("没用", user="u1"))).kind == "offer"
    await chatbot.respond(msg("提交", user="u1"))
    await chatbot.respond(msg("就是这个", user="u1"))  # the question is the problem (round 7: asked first)
    await chatbot.respond(msg("无", user="u1"))  # no place belongs to it
    assert (await chatbot.respond(msg("13812345678", user="u1"))).kind == "ticket"
    sent = service.messages[-1]
    assert sent.text == ("灵活就业人员怎么缴纳社保？\n地点：不涉及具体地点\n联系电话：13812345678\n"
                         f"（智能客服曾提供知识《灵活就业人员如何缴纳社会保险》（编号 {answer.article_id}），未能解决）")
    assert sent.address is None and sent.meta["article_seen"] == answer.article_id


async def test_a_consultation_is_not_asked_where_by_the_routers_request_type(bot):
    from routing.classifier import RoutingModel
    from routing.store import DEFAULT_MODEL

    chatbot, service, _ = bot
    model = RoutingModel.load(DEFAULT_MODEL)
    chatbot.request_type = lambda text: (lambda p: (p["label"], p["confidence"]))(model.predict(text)["request_type"])
    await chatbot.respond(msg("提交", user="c1"))
    asked = await chatbot.respond(msg("新生儿医保怎么办理需要什么材料", user="c1"))
    assert asked.text == ASK["contact"]  # a question for information: no place asked
    assert (await chatbot.respond(msg("13812345678", user="c1"))).kind == "ticket"
    assert "地点：不涉及具体地点" in service.messages[-1].text and service.messages[-1].address is None
    # a problem somewhere still is asked where
    await chatbot.respond(msg("提交", user="c2"))
    assert (await chatbot.respond(msg("小区门口路灯不亮好几天了", user="c2"))).text == ASK["where"]
