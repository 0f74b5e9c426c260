"""Letters forwarded by a partner portal (the mailbox adapter's webhook) and the adapter's send."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from hotline import appkeys
from hotline.messages import Identity, OutboundMessage
from hotline.tables import attachments, tickets
from tests.channels.email.smtp_sink import SmtpSink
from tests.channels.mailbox.contract import signed
from tests.channels.mailbox.helpers import Browser, load, make_app

LETTER = load("partner_letter.json")


async def post(client, req):
    resp = await client.post(req.path, data=req.body, headers=req.headers)
    return resp.status, json.loads(await resp.read())


async def test_partner_letter_becomes_a_queryable_ticket_once(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path))
    status, body = await post(client, signed(LETTER))
    assert status == 200 and body["number"] == "2026112300001" and len(body["code"]) == 8
    status, again = await post(client, signed(LETTER))  # the portal retries: same letter, same code
    assert status == 200 and again == body
    async with engine.connect() as conn:
        ticket = (await conn.execute(sa.select(tickets))).one()
        att = (await conn.execute(sa.select(attachments))).one()
    assert (ticket.channel, ticket.intake_line, ticket.request_type, ticket.publishable) == \
        ("mailbox", "mayor", "建议", True)
    assert att.filename == "路口现场.png"
    status, page = await Browser(client).query(body["number"], body["code"])
    assert status == 200 and "行人过街信号灯" in page


async def test_partner_bad_input(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path))
    status, body = await post(client, signed(LETTER, secret="wrong"))
    assert status == 401 and body["error"]["code"] == "verification_failed"
    status, body = await post(client, signed(LETTER, stamp=int(time.time()) - 3600))
    assert status == 401 and "过期" in body["error"]["message"]
    status, body = await post(client, signed({**LETTER, "phone": "12"}))
    assert status == 400 and "手机号码" in body["error"]["message"]
    status, body = await post(client, signed({**LETTER, "attachments": [{"filename": "x.exe", "data": "TVo="}]}))
    assert status == 415
    status, body = await post(client, signed({"id": "1"}))
    assert status == 400 and body["error"]["code"] == "malformed_payload"
    status, body = await post(client, signed(load("partner_withdraw.json")))
    assert status == 200 and body == {"status": "ignored", "reason": "withdraw"}
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar_one() == 0


async def test_send_shows_on_query_page_or_mails(aiohttp_client, engine, clock, tmp_path):
    app = make_app(engine, clock, tmp_path)
    client = await aiohttp_client(app)
    _, body = await post(client, signed(LETTER))
    adapter = app[appkeys.CHANNELS]["mailbox"]
    reply = OutboundMessage(channel="mailbox", recipient=Identity(kind="phone", value="+8613905712233"),
                            text="已转交交警支队。", ticket_number=body["number"])
    assert (await adapter.send(reply)).ok
    unknown = reply.model_copy(update={"ticket_number": "2026112399999"})
    assert not (await adapter.send(unknown)).ok
    sink = await SmtpSink().start()
    try:
        from channels.email.settings import EmailSettings

        adapter.deps.extras["email_settings"] = EmailSettings(smtp_host="127.0.0.1", smtp_port=sink.port)
        mailed = reply.model_copy(update={"recipient": Identity(kind="email", value="chenjg@example.com")})
        result = await adapter.send(mailed)
        assert result.ok and result.external_id
        [msg] = sink.messages()
        assert msg["To"] == "chenjg@example.com" and body["number"] in msg["Subject"]
    finally:
        await sink.stop()


async def test_partner_attachment_with_non_ascii_data_is_400(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path))
    [photo] = LETTER["attachments"]
    # A portal that put the file name (or text) where the base64 data belongs.
    broken = {**LETTER, "attachments": [{**photo, "data": "路口现场照片"}]}
    status, body = await post(client, signed(broken))
    assert status == 400 and body["error"] == {"code": "malformed_payload", "message": "attachments：附件格式错误"}
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(tickets))).scalar_one() == 0
