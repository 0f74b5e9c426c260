"""Texts longer than WeChat's 2048-byte limit: cut after sentences, in the XML and JSON actually sent."""

from __future__ import annotations

import asyncio
import re

import pytest
import xmltodict

from channels.wechat.text import CONTINUED, MAX_TEXT_BYTES, split_text
from hotline import appkeys
from hotline.messages import Identity, OutboundMessage
from tests.channels.wechat.conftest import post
from tests.channels.wechat.fakes import AES_KEY, fixture, text_xml

OPENID = "oia2TjjewbmiOUlr6X-1crbLOvLw"
SENDS = "/cgi-bin/message/custom/send"
# A knowledge answer as the chatbot gives it: 600 characters of the article, its source (official titles are
# long) and the feedback question.
BODY = "".join(f"第{n}项：职工本人及配偶在本市购买自住住房的，可凭购房合同、身份证和银行卡申请提取住房公积金。"
               for n in "一二三四五六七八九十" * 2)[:600]
ANSWER = (f"{BODY}……\n\n来源：《云州市住房公积金管理中心关于进一步规范职工购买自住住房提取住房公积金有关事项的通知及常见问题解答》（知识编号 12）\n"
          "这个回答对您有帮助吗？请回复“有用”或“没用”。")


def nbytes(text: str) -> int:
    return len(text.encode("utf-8"))


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


def ends_a_sentence_or_line(part: str, whole: str) -> bool:
    return part[-1] in "。！？" or part + "\n" in whole


class Bot:
    def __init__(self, text: str, delay: float = 0) -> None:
        self.text, self.delay = text, delay

    async def respond(self, message):
        await asyncio.sleep(self.delay)
        return self.text


def test_split_text_cuts_after_sentences_and_never_inside_a_character():
    assert nbytes(ANSWER) > MAX_TEXT_BYTES
    parts = split_text(ANSWER)
    assert len(parts) == 2 and all(nbytes(p) <= MAX_TEXT_BYTES for p in parts)
    assert ends_a_sentence_or_line(parts[0], ANSWER) and squeeze("".join(parts)) == squeeze(ANSWER)
    # no sentence end at all, four-byte emoji: cut at character boundaries
    run_on = "😀" * 700 + "没有标点的长句" * 100
    parts = split_text(run_on)
    assert "".join(parts) == run_on and all(nbytes(p) <= MAX_TEXT_BYTES for p in parts)
    assert split_text("  短消息原样发送 ") == ["  短消息原样发送 "]


@pytest.mark.parametrize("encrypted", [False, True])
async def test_long_chatbot_answer_is_cut_passively_and_the_rest_follows(make_client, citizen, fake_api,
                                                                         encrypted):
    client = await make_client(chatbot=Bot(ANSWER), aes_key=AES_KEY if encrypted else None)
    xml = text_xml("公积金怎么提取", msg_id="7300000000000000001")

    async def push() -> str:
        """WeChat pushes the message; the Content of the passive reply the citizen sees."""
        if encrypted:
            path, headers, body, query = citizen.encrypted(xml)
            status, reply = await post(client, (path, headers, body))
            return citizen.decrypt_reply(reply, query)["Content"]
        status, reply = await post(client, citizen.plain(xml))
        return xmltodict.parse(reply)["xml"]["Content"]

    passive = await push()
    assert nbytes(passive) <= MAX_TEXT_BYTES
    assert passive.endswith(CONTINUED) and ends_a_sentence_or_line(passive.removesuffix(CONTINUED), ANSWER)
    sent = [c["json"] for c in fake_api.calls(SENDS)]
    assert [s["touser"] for s in sent] == [OPENID] and all(nbytes(s["text"]["content"]) <= MAX_TEXT_BYTES
                                                           for s in sent)
    rest = sent[0]["text"]["content"]
    assert rest.endswith("请回复“有用”或“没用”。")
    assert squeeze(passive.removesuffix(CONTINUED) + rest) == squeeze(ANSWER)
    # WeChat retrying the message gets the same passive reply, and the rest is not sent again
    assert await push() == passive and len(fake_api.calls(SENDS)) == 1


async def test_long_late_reply_goes_out_as_several_customer_service_messages(make_client, citizen, fake_api):
    client = await make_client(chatbot=Bot(ANSWER * 2, delay=0.3), reply_deadline_seconds=0.05)
    assert await post(client, citizen.plain(text_xml("公积金怎么提取"))) == (200, "success")
    contents = [c["json"]["text"]["content"] for c in fake_api.calls(SENDS)]
    assert len(contents) == 3 and all(nbytes(c) <= MAX_TEXT_BYTES for c in contents)
    assert squeeze("".join(contents)) == squeeze(ANSWER * 2)


async def test_long_notice_is_split_and_needs_room_in_the_window_for_all_parts(make_client, citizen, fake_api):
    client = await make_client(window_quota=3)
    adapter = client.app[appkeys.CHANNELS]["wechat"]
    await post(client, citizen.plain(fixture("event_subscribe.xml")))
    notice = OutboundMessage(channel="wechat", recipient=Identity(kind="wechat", value=OPENID), text=ANSWER)
    assert (await adapter.send(notice)).ok
    contents = [c["json"]["text"]["content"] for c in fake_api.calls(SENDS)]
    assert len(contents) == 2 and all(nbytes(c) <= MAX_TEXT_BYTES for c in contents)
    assert ends_a_sentence_or_line(contents[0], ANSWER) and squeeze("".join(contents)) == squeeze(ANSWER)
    # one message left in the window: a two-part notice is refused whole rather than cut short
    result = await adapter.send(notice)
    assert (result.ok, result.error) == (False, "quota_exceeded") and len(fake_api.calls(SENDS)) == 2
    assert (await adapter.send(notice.model_copy(update={"text": "工单已办结。"}))).ok
