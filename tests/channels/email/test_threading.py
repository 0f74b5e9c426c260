"""Outbound mail over a real SMTP session, and citizens' replies threading back into the ticket."""

from __future__ import annotations

import hashlib

from channels.email.imap import ImapPoller
from hotline.messages import Identity, OutboundMessage
from tests.channels.email.conftest import fixture
from tests.channels.email.helpers import make_adapter, make_service, rows, ticket_count, ticket_messages


def notice(number: str, external_id: str = "notice-1") -> OutboundMessage:
    return OutboundMessage(channel="email", recipient=Identity(kind="email", value="zhangzhe1988@qq.com"),
                           text="您反映的问题已受理，我们将尽快转交有关部门办理。", subject="您的诉求已受理",
                           ticket_number=number, external_id=external_id)


async def test_outbound_headers_and_replies_thread_into_the_ticket(engine, clock, tmp_path, mailbox, smtp_sink):
    service = make_service(engine, clock, tmp_path)
    settings = mailbox.settings(smtp_host="127.0.0.1", smtp_port=smtp_sink.port)
    adapter = make_adapter(service, settings)
    poller = ImapPoller(settings, service)
    try:
        await mailbox.append(fixture("gbk_attachment.eml"))
        [number] = (await poller.poll_once()).tickets
        assert number == "2026112300001"  # the number the recorded replies quote

        result = await adapter.send(notice(number))
        assert result.ok, result
        expected_id = "hotline." + hashlib.sha256(b"notice-1").hexdigest()[:32] + "@hotline.example.gov.cn"
        assert result.external_id == expected_id
        [sent] = smtp_sink.messages()
        assert smtp_sink.envelopes[0].rcpt_tos == ["zhangzhe1988@qq.com"]
        assert sent["Message-ID"] == f"<{expected_id}>"
        assert sent["In-Reply-To"] == "<202611230912403259187@qq.com>"  # the citizen's first mail
        assert "<202611230912403259187@qq.com>" in sent["References"]
        assert sent["Subject"] == f"您的诉求已受理（工单号 {number}）"
        assert "您反映的问题已受理" in sent.get_content()

        # Sending the same notice again (a retried job) does not mail twice.
        again = await adapter.send(notice(number))
        assert again.ok and again.external_id == expected_id and len(smtp_sink.envelopes) == 1

        # The citizen's QQ-mail reply carries our Message-ID in In-Reply-To.
        await mailbox.append(fixture("reply_in_reply_to.eml"))
        stats = await poller.poll_once()
        assert stats.tickets == [number]
        # An Outlook reply with only the ticket number in the subject.
        await mailbox.append(fixture("reply_subject_number.eml"))
        stats = await poller.poll_once()
        assert stats.tickets == [number]
        assert await ticket_count(engine) == 1
        ticket = await service.get_ticket_by_number(number)
        texts = [(m["direction"], m["text"]) for m in ticket["messages"]]
        assert ("in", "补充一下：今晚十一点半又在施工了，我录了视频，需要的话可以提供。") in texts
        assert ("in", "工地今天白天又开始用打桩机了，请问处理进度如何？") in texts
        assert [d for d, _ in texts].count("out") == 1
        # The next notice references the whole conversation.
        await adapter.send(notice(number, "notice-2"))
        latest = smtp_sink.messages()[-1]
        refs = latest["References"]
        assert "202611230912403259187@qq.com" in refs and expected_id in refs
        assert latest["In-Reply-To"] == "<TYZPR06MB5123A1B2C3D4E5F6A7B8C9D0E1F2A@TYZPR06MB5123.apcprd06.prod.outlook.com>"
    finally:
        await poller.close()


async def test_reply_from_someone_else_quoting_the_number_does_not_join(engine, clock, tmp_path, mailbox):
    service = make_service(engine, clock, tmp_path)
    poller = ImapPoller(mailbox.settings(), service)
    try:
        await mailbox.append(fixture("gbk_attachment.eml"))
        await poller.poll_once()
        other = fixture("reply_subject_number.eml").replace(b"ZhangZhe1988@QQ.com", b"stranger@example.com")
        await mailbox.append(other)
        stats = await poller.poll_once()
        assert stats.tickets and stats.tickets[0] != "2026112300001"
        assert await ticket_count(engine) == 2
    finally:
        await poller.close()


async def test_send_failures(engine, clock, tmp_path, smtp_sink):
    service = make_service(engine, clock, tmp_path)
    from channels.email.settings import EmailSettings
    from tests.channels.dovecot import free_port

    down = make_adapter(service, EmailSettings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout=5))
    result = await down.send(notice("2026112300001"))
    assert not result.ok and result.retryable
    assert await rows(engine, ticket_messages) == []  # nothing recorded for an unsent mail
    wrong = make_adapter(service, EmailSettings(smtp_host="127.0.0.1", smtp_port=smtp_sink.port))
    result = await wrong.send(OutboundMessage(channel="email", recipient=Identity(kind="phone", value="+8613812345678"),
                                              text="x"))
    assert not result.ok and not result.retryable
