"""MIME parsing of recorded real-format mail: Chinese charsets, RFC 2047/2231, HTML, quotes, kinds."""

from __future__ import annotations

import datetime as dt

import pytest

from channels.base import MalformedPayload, UnknownEventType
from channels.email.inbound import parse_raw
from channels.email.kinds import mail_kind
from channels.email.mime import decode_header_value, parse_mail
from channels.email.quotes import strip_quoted
from channels.email.settings import EmailSettings
from tests.channels.email.conftest import fixture

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.timezone.utc)


def test_gbk_mail_with_rfc2047_attachment_name():
    mail = parse_mail(fixture("gbk_attachment.eml"))
    assert mail.subject == "反映长河街道工地夜间施工扰民问题"
    assert mail.from_name == "张喆" and mail.from_address == "zhangzhe1988@qq.com"
    assert "春波小区3幢" in mail.text and "张喆" in mail.text  # 喆 is GBK-only
    [att] = mail.attachments
    assert att.filename == "工地夜间施工照片.jpg"
    assert att.content_type == "image/jpeg"
    assert att.data.startswith(b"\xff\xd8\xff") and att.data.endswith(b"\xff\xd9") and att.size == len(att.data)


def test_gb2312_label_with_gbk_only_characters_is_read_as_gb18030():
    mail = parse_mail(fixture("gb2312_gbk_chars.eml"))
    assert mail.from_name == "王堃"
    assert mail.subject == "咨询新生儿落户（名字含“喆”字）"
    assert "我叫王堃" in mail.text and "“喆”字" in mail.text
    assert "\ufffd" not in mail.text


def test_html_only_body_becomes_text_and_rfc2231_filename():
    mail = parse_mail(fixture("html_only_utf8.eml"))
    assert "文三路138号" in mail.text and "路灯已经坏了两周" in mail.text
    assert "<" not in mail.text and "color" not in mail.text
    assert "\n\n\n" not in mail.text
    [att] = mail.attachments
    assert (att.filename, att.content_type) == ("现场说明.pdf", "application/pdf")
    assert att.data.startswith(b"%PDF-1.4")


def test_quoted_reply_is_stripped_and_references_kept():
    mail = parse_mail(fixture("reply_in_reply_to.eml"))
    assert mail.text == "补充一下：今晚十一点半又在施工了，我录了视频，需要的话可以提供。"
    assert mail.in_reply_to == ("hotline.8a18f9957b0178dc2ce088610ec82a22@hotline.example.gov.cn",)
    outlook = parse_mail(fixture("reply_subject_number.eml"))
    assert outlook.text == "工地今天白天又开始用打桩机了，请问处理进度如何？"
    assert outlook.from_address == "zhangzhe1988@qq.com"  # lower-cased
    assert "2026112300001" in outlook.subject


@pytest.mark.parametrize("text,expected", [
    ("好的\n\n在 2026年11月23日 10:00，12345 <12345@x.cn> 写道：\n> 原文\n", "好的"),
    ("Thanks\nOn Mon, Nov 23, 2026 at 10:00 AM 12345 <a@b.c> wrote:\n> quoted", "Thanks"),
    ("新情况\n\n-----原始邮件-----\n发件人：12345\n", "新情况"),
    ("第一行\n> 引用\n第二行", "第一行\n第二行"),
    ("> 只有引用", "> 只有引用"),  # nothing new: keep the text rather than lose it
    ("转发如下\n-------- 转发邮件信息 --------\n内容", "转发如下\n-------- 转发邮件信息 --------\n内容"),
])
def test_strip_quoted(text, expected):
    assert strip_quoted(text) == expected


def test_oversize_attachment_is_dropped_with_a_note():
    mail = parse_mail(fixture("gbk_attachment.eml"), max_attachment_bytes=100)
    assert mail.attachments == ()
    assert "工地夜间施工照片.jpg" in mail.text and "未保存" in mail.text


def test_oversize_mail_and_mail_without_sender_are_malformed():
    with pytest.raises(MalformedPayload):
        parse_mail(fixture("gbk_attachment.eml"), max_bytes=1000)
    with pytest.raises(MalformedPayload):
        parse_mail(b"Subject: hi\r\nMessage-ID: <x@y>\r\n\r\nbody\r\n")


def test_raw_8bit_gbk_header_and_missing_message_id():
    raw = "From: 陈先生 <chen@example.com>\r\nSubject: 噪音投诉\r\n\r\n正文\r\n".encode("gbk")
    mail = parse_mail(raw)
    assert mail.subject == "噪音投诉" and mail.from_name == "陈先生"
    assert mail.message_id.startswith("sha256:")
    assert parse_mail(raw).message_id == mail.message_id  # stable, so redelivery stays idempotent


def test_decode_header_value_mixed_words():
    assert decode_header_value("=?GBK?B?1cWGtA==?= <a@b.c>") == "张喆 <a@b.c>"


def test_kinds_bounce_and_auto_reply_are_not_tickets():
    assert mail_kind(fixture("bounce_dsn.eml")) == "delivery-status"
    assert mail_kind(fixture("auto_reply.eml")) == "auto-reply"
    assert mail_kind(fixture("gbk_attachment.eml")) == "message"
    with pytest.raises(UnknownEventType):
        parse_raw(fixture("bounce_dsn.eml"), EmailSettings(), NOW)


def test_inbound_message_for_the_mayor_box():
    settings = EmailSettings(mayor_address="Mayor@hotline.example.gov.cn")
    msg = parse_raw(fixture("gbk_attachment.eml"), settings, NOW)
    assert msg.channel == "email" and msg.intake_line == "mayor"
    assert msg.external_id == "202611230912403259187@qq.com"
    assert msg.sender.kind == "email" and msg.sender.value == "zhangzhe1988@qq.com"
    reply = parse_raw(fixture("reply_in_reply_to.eml"), settings, NOW)
    assert reply.intake_line == "12345"
    assert reply.reply_to == ("hotline.8a18f9957b0178dc2ce088610ec82a22@hotline.example.gov.cn",)


def test_html_only_reply_quote_is_stripped():
    # The QQ reply without its text/plain alternative: quotes come from the HTML (div marker, blockquote).
    raw = fixture("reply_in_reply_to.eml")
    head, _, rest = raw.partition(b"------=_NextPart_6561A2B5_0F2E3D40_5C6B7A81\r\nContent-Type: text/plain")
    html_part = rest[rest.index(b"------=_NextPart_6561A2B5_0F2E3D40_5C6B7A81\r\n"):]
    mail = parse_mail(head + html_part)
    assert mail.text == "补充一下：今晚十一点半又在施工了，我录了视频，需要的话可以提供。"


def test_raw_8bit_gbk_from_header_is_a_message_not_a_crash():
    # compat32 hands a raw 8-bit From back as an email.header.Header, not a str.
    raw = fixture("raw_8bit_gbk_from.eml")
    assert mail_kind(raw) == "message"
    msg = parse_raw(raw, EmailSettings(), NOW)
    assert msg.sender.value == "chenzhe@example.net" and msg.sender_name == "陈喆"
    assert msg.subject == "关于翠柳小区夜间噪音的投诉" and "烧烤店" in msg.text


def test_rfc2231_gb2312_filename_is_read_as_gb18030():
    mail = parse_mail(fixture("rfc2231_gb2312_filename.eml"))
    [att] = mail.attachments
    assert att.filename == "喆的照片.jpg"  # 喆 is GBK-only: not decodable as strict GB2312
    assert att.content_type == "image/jpeg" and att.data.startswith(b"\xff\xd8\xff")
    assert "孩子喆喆差点摔倒" in mail.text
