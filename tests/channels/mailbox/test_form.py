"""The public letter form and query page through the real app: flow, escaping, anti-abuse, limits."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from channels.tables_mail import mail_letters
from hotline import appkeys
from hotline.tables import attachments, ticket_messages, tickets
from tests.channels.mailbox.helpers import Browser, load, make_app, number_and_code

FORM = load("form_letter.json")


async def counts(engine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        return tuple([(await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
                      for t in (tickets, ticket_messages, mail_letters)])


async def test_form_page_is_chinese_mobile_friendly_with_csrf_cookie(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path))
    resp = await client.get("/mailbox")
    page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert 'lang="zh-CN"' in page and "width=device-width" in page and "给市长写信" in page
    assert 'name="csrf"' in page and "验证题" in page
    cookie = resp.cookies["mailbox_form"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert resp.headers["X-Frame-Options"] == "DENY"


async def test_letter_is_created_and_queryable_with_its_code_only(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path))
    browser = Browser(client)
    photo = load("photo.png")
    status, page = await browser.submit({**FORM, "publishable": "1"}, [("门口照片.png", photo, "image/png")])
    assert status == 200, page
    number, code = number_and_code(page)
    assert number == "2026112300001" and code and len(code) == 8
    async with engine.connect() as conn:
        ticket = (await conn.execute(sa.select(tickets))).one()
        att = (await conn.execute(sa.select(attachments))).one()
    assert (ticket.channel, ticket.intake_line, ticket.request_type) == ("mailbox", "mayor", "投诉")
    assert ticket.publishable is True and "流动摊贩" in ticket.text
    assert (att.filename, att.content_type, att.size, att.ticket_id) == ("门口照片.png", "image/png", len(photo),
                                                                         ticket.id)

    status, result = await browser.query(number, code)
    assert status == 200
    assert "流动摊贩占道经营" in result and "新建" in result
    # User data is escaped, never markup.
    assert "<script>" not in result and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in result
    status, result = await browser.query(number, code.lower())  # codes are case-insensitive
    assert status == 200

    for wrong in ("", "AAAAAAAA", code[:-1]):
        status, result = await browser.query(number, wrong)
        assert status == 404 and "流动摊贩" not in result and "信件编号或查询码不正确" in result


async def test_csrf_is_required(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path))
    browser = Browser(client)
    status, page = await browser.submit(FORM, csrf="forged")
    assert status == 403 and "请刷新页面" in page
    # A genuine token but no cookie (a cross-site post carries no SameSite=Strict cookie).
    _, csrf, answer = await browser.form()
    browser.set_form_cookie(None)
    status, page = await browser.submit(FORM, csrf=csrf, answer=answer, fetch=False)
    assert status == 403
    assert await counts(engine) == (0, 0, 0)


async def test_wrong_answer_burns_the_token(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path))
    browser = Browser(client)
    _, csrf, answer = await browser.form()
    old_nonce = browser.nonce
    status, page = await browser.submit(FORM, csrf=csrf, answer=str(int(answer) + 1), fetch=False)
    assert status == 400 and "验证题答案不正确" in page
    assert "流动摊贩" in page  # the form keeps what was typed
    # Re-using the burnt token with the right answer is refused.
    browser.set_form_cookie(old_nonce)
    status, _ = await browser.submit(FORM, csrf=csrf, answer=answer, fetch=False)
    assert status == 403
    assert await counts(engine) == (0, 0, 0)


async def test_validation_errors_are_friendly_and_write_nothing(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path, max_text_chars=50))
    browser = Browser(client)
    status, page = await browser.submit({**FORM, "phone": "12"})
    assert status == 400 and "手机号码" in page
    status, page = await browser.submit({**FORM, "name": ""})
    assert status == 400 and "姓名：请填写" in page
    status, page = await browser.submit({**FORM, "text": "很长" * 40})
    assert status == 400 and "不能超过 50 个字" in page
    assert await counts(engine) == (0, 0, 0)


async def test_attachment_limits(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path, max_attachment_bytes=1000, max_attachments=1))
    browser = Browser(client)
    photo = load("photo.png")
    status, page = await browser.submit(FORM, [("big.png", photo + b"\0" * 2000, "image/png")])
    assert status == 413 and "超过大小限制" in page
    status, page = await browser.submit(FORM, [("tool.exe", b"MZ\x90\x00", "application/x-msdownload")])
    assert status == 415 and "文件类型不支持" in page
    status, page = await browser.submit(FORM, [("fake.jpg", b"MZ\x90\x00not a jpeg", "image/jpeg")])
    assert status == 415 and "内容与文件类型不符" in page
    status, page = await browser.submit(FORM, [("a.png", photo, "image/png"), ("b.png", photo, "image/png")])
    assert status == 400 and "最多 1 个" in page
    assert await counts(engine) == (0, 0, 0)


async def test_rate_limits_per_ip_and_per_phone(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path, ip_letters_per_hour=2,
                                           phone_letters_per_day=1))
    browser = Browser(client)
    status, _ = await browser.submit(FORM)
    assert status == 200
    status, page = await browser.submit(FORM)  # same phone again today
    assert status == 429 and "今日提交的信件已达上限" in page
    status, page = await browser.submit({**FORM, "phone": "13700002222"})  # third letter from this IP in an hour
    assert status == 429 and "提交过于频繁" in page
    assert (await counts(engine))[0] == 1
    clock.advance(hours=25)
    status, _ = await browser.submit({**FORM, "phone": "13700002222"})
    assert status == 200


async def test_double_submit_of_one_form_makes_one_letter(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path))
    browser = Browser(client)
    _, csrf, answer = await browser.form()
    status, first = await browser.submit(FORM, csrf=csrf, answer=answer, fetch=False)
    assert status == 200
    number, code = number_and_code(first)
    nonce = browser.nonce
    # Success cleared the form cookie: a plain resubmission has no token.
    status, _ = await browser.submit(FORM, csrf=csrf, answer=answer, fetch=False)
    assert status == 403
    # A replay with the cookie (back button + resend) shows the same letter, without its code.
    browser.set_form_cookie(nonce)
    status, second = await browser.submit(FORM, csrf=csrf, answer=answer, fetch=False)
    assert status == 200 and number_and_code(second) == (number, None) and "此前已提交" in second
    assert await counts(engine) == (1, 1, 1)


async def test_failed_queries_are_rate_limited(aiohttp_client, engine, clock, tmp_path):
    client = await aiohttp_client(make_app(engine, clock, tmp_path, ip_failed_queries_per_hour=2))
    browser = Browser(client)
    _, page = await browser.submit(FORM)
    number, code = number_and_code(page)
    for _ in range(2):
        status, _ = await browser.query(number, "WRONGCODE")
        assert status == 404
    status, page = await browser.query(number, code)
    assert status == 429 and "流动摊贩" not in page


@pytest.mark.parametrize("trusted_by", ["mailbox", "core"])
async def test_per_ip_limit_uses_the_address_our_proxy_appended(aiohttp_client, engine, clock, tmp_path, trusted_by):
    # HOTLINE_MAILBOX_TRUST_FORWARDED_FOR, or when unset HOTLINE_TRUST_FORWARDED_FOR (shared with the web chatbot).
    own = {"trust_forwarded_for": True} if trusted_by == "mailbox" else {}
    app = make_app(engine, clock, tmp_path, ip_letters_per_hour=2, **own)
    app[appkeys.SETTINGS].trust_forwarded_for = trusted_by == "core"
    client = await aiohttp_client(app)
    browser = Browser(client)
    phones = ["13700001111", "13700002222", "13700003333"]
    # The client writes its own X-Forwarded-For; our reverse proxy appends the address it saw (rightmost).
    results = []
    for i, phone in enumerate(phones):
        forwarded = {"X-Forwarded-For": f"10.0.0.{i + 1}, 198.51.100.{i + 7}, 203.0.113.9"}
        status, page = await browser.submit({**FORM, "phone": phone}, headers=forwarded)
        results.append((status, "提交过于频繁" in page))
    assert results == [(200, False), (200, False), (429, True)]
    # Another citizen behind the same proxy is counted on its own address.
    status, _ = await browser.submit({**FORM, "phone": "13700004444"},
                                     headers={"X-Forwarded-For": "203.0.113.10"})
    assert status == 200
