"""Bad input on the WeChat webhook: clear 4xx JSON, nothing written."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from channels.tables import wechat_deliveries, wechat_sessions
from hotline.tables import citizens, ticket_messages, tickets
from tests.channels.wechat.conftest import post
from tests.channels.wechat.fakes import AES_KEY, fixture, text_xml


async def nothing_written(engine) -> None:
    async with engine.connect() as conn:
        for table in (tickets, ticket_messages, citizens, wechat_deliveries, wechat_sessions):
            assert (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one() == 0, table.name


def error_of(text: str) -> dict:
    return json.loads(text)["error"]


async def test_wrong_signature_is_401(make_client, citizen, engine):
    client = await make_client()
    status, text = await post(client, citizen.plain(fixture("text.xml"), bad_signature=True))
    assert status == 401 and error_of(text)["code"] == "verification_failed"
    status, text = await post(client, ("/channels/wechat", {}, fixture("text.xml").encode()))
    assert status == 401
    await nothing_written(engine)


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml"])
async def test_entity_declarations_are_refused(make_client, citizen, engine, name):
    client = await make_client()
    status, text = await post(client, citizen.plain(fixture(name)))
    assert status == 400 and "DOCTYPE" in error_of(text)["message"]
    await nothing_written(engine)


@pytest.mark.parametrize("body", [
    "<xml><ToUserName>gh</ToUserName>",                      # truncated
    "not xml at all",
    "<html><body>hi</body></html>",                          # wrong root
    "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>",  # no Content
    "<xml><FromUserName>o1</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType>"
    "<Content>x</Content><MsgId>1</MsgId></xml>",            # bad CreateTime
    "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType>"
    "<Location_X>north</Location_X><Location_Y>1</Location_Y><MsgId>2</MsgId></xml>",
])
async def test_malformed_xml_is_400(make_client, citizen, engine, body):
    client = await make_client()
    status, text = await post(client, citizen.plain(body))
    assert status == 400 and error_of(text)["code"] == "malformed_payload"
    await nothing_written(engine)


async def test_oversize_body_is_413(make_client, citizen, engine):
    client = await make_client(max_body_bytes=4096)
    status, text = await post(client, citizen.plain(text_xml("很长" * 3000)))
    assert status == 413 and error_of(text)["code"] == "too_large"
    await nothing_written(engine)


async def test_encrypted_body_without_encrypt_or_garbage_is_400(make_client, citizen, engine):
    client = await make_client(aes_key=AES_KEY)
    path, headers, body, query = citizen.encrypted(text_xml("测试"))
    status, text = await post(client, (path, headers, b"<xml><ToUserName>gh</ToUserName></xml>"))
    assert status == 400
    # A correct msg_signature over ciphertext that is not valid AES output.
    import hashlib
    from urllib.parse import urlencode

    garbage = "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0"
    sig = hashlib.sha1("".join(sorted([citizen.token, query["timestamp"], query["nonce"], garbage])).encode())
    query = {**query, "msg_signature": sig.hexdigest()}
    status, text = await post(client, ("/channels/wechat?" + urlencode(query), headers,
                                       f"<xml><Encrypt>{garbage}</Encrypt></xml>".encode()))
    assert status == 400 and error_of(text)["code"] == "malformed_payload"
    await nothing_written(engine)


async def test_encrypted_message_without_aes_key_configured_is_401(make_client, citizen, engine):
    client = await make_client(aes_key=None)
    status, text = await post(client, citizen.encrypted(text_xml("测试")))
    assert status == 401
    await nothing_written(engine)


async def test_replayed_query_string_is_401_once_its_timestamp_is_stale(make_client, citizen, engine, clock):
    client = await make_client()
    path, headers, body = citizen.plain(text_xml("小区门口路灯坏了", msg_id="24602378921423800"))
    status, _ = await post(client, (path, headers, body))
    assert status == 200
    # The signature covers only token, timestamp and nonce: a captured query string with any body.
    forged = text_xml("伪造的诉求内容", msg_id="24602378921423801").encode()
    clock.advance(seconds=301)
    status, text = await post(client, (path, headers, forged))
    assert status == 401 and error_of(text) == {"code": "verification_failed",
                                                "message": "微信请求时间戳无效或已过期"}
    # A timestamp from the future is refused as well; within 300 s either way is accepted.
    now = citizen.now()
    status, _ = await post(client, citizen.plain(fixture("event_click.xml"), timestamp=now + 301))
    assert status == 401
    status, _ = await post(client, citizen.plain(fixture("event_click.xml"), timestamp=now - 300))
    assert status == 200
    resp = await client.get("/channels/wechat", params={**citizen.query(timestamp=now - 3600), "echostr": "1"})
    assert resp.status == 401
    async with engine.connect() as conn:
        texts = (await conn.execute(sa.select(tickets.c.text))).scalars().all()
    assert texts == ["小区门口路灯坏了"]


async def test_plaintext_is_refused_when_an_aes_key_is_configured(make_client, citizen, engine):
    client = await make_client(aes_key=AES_KEY)
    status, text = await post(client, citizen.plain(text_xml("路灯坏了")))
    assert status == 401 and error_of(text) == {"code": "verification_failed",
                                                "message": "已配置消息加密，不接受未加密的消息"}
    await nothing_written(engine)
    status, text = await post(client, citizen.encrypted(text_xml("路灯坏了"))[:3])
    assert status == 200 and "<Encrypt>" in text
