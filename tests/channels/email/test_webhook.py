"""POST /channels/email/inbound: raw mail from a gateway, HMAC-signed, through the real app."""

from __future__ import annotations

import base64
import json
import os

import channels.web
from hotline.app import create_app
from hotline.config import Settings
from tests.channels.email.conftest import fixture
from tests.channels.email.contract import SECRET, inbound
from tests.channels.email.helpers import attachments, rows, ticket_count, ticket_messages
from channels.email.settings import EmailSettings


async def make_client(aiohttp_client, engine, clock, tmp_path, **settings):
    app = create_app(Settings(data_dir=tmp_path / "data"), engine=engine, clock=clock, plugins=[])
    channels.web.setup(app, only=["email"], channel_settings={"email": EmailSettings(webhook_secret=SECRET,
                                                                                     **settings)})
    return await aiohttp_client(app)


async def post(client, req):
    resp = await client.post(req.path, data=req.body, headers=req.headers)
    return resp.status, json.loads(await resp.read())


async def test_signed_mail_creates_a_ticket_once(aiohttp_client, engine, clock, tmp_path):
    client = await make_client(aiohttp_client, engine, clock, tmp_path)
    status, body = await post(client, inbound(fixture("gb2312_gbk_chars.eml")))
    assert status == 200 and body["created"] and body["ticket_number"] == "2026112300001"
    status, body = await post(client, inbound(fixture("gb2312_gbk_chars.eml")))
    assert status == 200 and body["duplicate"] and body["ticket_number"] == "2026112300001"
    [msg] = await rows(engine, ticket_messages)
    assert "我叫王堃" in msg["text"]


async def test_bad_input_is_refused_with_json_errors_and_nothing_written(aiohttp_client, engine, clock, tmp_path):
    client = await make_client(aiohttp_client, engine, clock, tmp_path, max_message_bytes=2000)
    raw = fixture("gb2312_gbk_chars.eml")
    status, body = await post(client, inbound(raw, secret="forged"))
    assert status == 401 and body["error"]["code"] == "verification_failed"
    status, body = await post(client, inbound(fixture("gbk_attachment.eml")))  # 2.7 kB > 2000 bytes
    assert status == 413 and body["error"]["code"] == "too_large"
    status, body = await post(client, inbound(b"Subject: x\r\n\r\nno sender\r\n"))
    assert status == 400 and body["error"]["code"] == "malformed_payload"
    status, body = await post(client, inbound(fixture("auto_reply.eml")))
    assert status == 200 and body == {"status": "ignored", "reason": "auto-reply"}
    assert await ticket_count(engine) == 0 and await rows(engine, ticket_messages) == []


async def test_raw_8bit_gbk_from_header_creates_a_ticket(aiohttp_client, engine, clock, tmp_path):
    client = await make_client(aiohttp_client, engine, clock, tmp_path)
    status, body = await post(client, inbound(fixture("raw_8bit_gbk_from.eml")))
    assert status == 200 and body["created"]
    [msg] = await rows(engine, ticket_messages)
    assert "烧烤店" in msg["text"]


async def test_mail_of_several_mb_is_read_whole_and_verified(aiohttp_client, engine, clock, tmp_path):
    # A phone photo of a few MB: the body is far larger than one socket read.
    raw = fixture("rfc2231_gb2312_filename.eml")
    head, sep, rest = raw.partition(b"Content-Transfer-Encoding: base64\r\n\r\n")
    photo = b"\xff\xd8\xff\xe0" + os.urandom(3 * 1024 * 1024) + b"\xff\xd9"
    big = head + sep + base64.encodebytes(photo).replace(b"\n", b"\r\n") + rest[rest.index(b"\r\n--"):]
    client = await make_client(aiohttp_client, engine, clock, tmp_path)
    status, body = await post(client, inbound(big))
    assert status == 200 and body["created"], body
    [att] = await rows(engine, attachments)
    assert (att["filename"], att["size"]) == ("喆的照片.jpg", len(photo))
