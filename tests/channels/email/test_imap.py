"""IMAP intake against a real dovecot: tickets from mail, move after processing, retry, IDLE."""

from __future__ import annotations

import asyncio
from pathlib import Path

from channels.email.imap import ImapPoller
from channels.tables_mail import mail_imap_state
from tests.channels.email.conftest import fixture
from tests.channels.email.helpers import (FlakyService, attachments, make_adapter, make_service, rows,
                                          ticket_count, ticket_messages, tickets)


async def test_gbk_mail_with_attachment_becomes_a_ticket(engine, clock, tmp_path, mailbox):
    service = make_service(engine, clock, tmp_path)
    await mailbox.append(fixture("gbk_attachment.eml"))
    poller = ImapPoller(mailbox.settings(), service)
    try:
        stats = await poller.poll_once()
        assert (stats.processed, stats.failed, stats.retry) == (1, 0, 0)
        [number] = stats.tickets
        ticket = await service.get_ticket_by_number(number)
        assert ticket["channel"] == "email" and ticket["intake_line"] == "mayor"
        assert ticket["title"] == "反映长河街道工地夜间施工扰民问题"
        assert "春波小区3幢" in ticket["text"] and "张喆" in ticket["text"]
        assert ticket["citizen"]["identities"][0]["value"] == "zhangzhe1988@qq.com"
        [att] = await rows(engine, attachments, attachments.c.ticket_id == ticket["id"])
        assert att["filename"] == "工地夜间施工照片.jpg" and att["content_type"] == "image/jpeg"
        data = Path(att["path"]).read_bytes()
        assert data.startswith(b"\xff\xd8\xff") and len(data) == att["size"]
        # Moved out of the inbox: the next poll reads nothing twice.
        assert await mailbox.count("INBOX") == 0
        assert await mailbox.count("Processed") == 1
        again = await poller.poll_once()
        assert (again.processed, again.failed) == (0, 0)
        assert await ticket_count(engine) == 1
        [state] = await rows_state(engine)
        assert state["processed"] == 1 and state["last_uid"] == 1
    finally:
        await poller.close()


async def rows_state(engine):
    import sqlalchemy as sa

    async with engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(sa.select(mail_imap_state))]


async def test_failure_halfway_leaves_the_mail_for_the_next_poll(engine, clock, tmp_path, mailbox):
    real = make_service(engine, clock, tmp_path)
    await mailbox.append(fixture("gb2312_gbk_chars.eml"))
    poller = ImapPoller(mailbox.settings(), FlakyService(real, failures=1))
    try:
        first = await poller.poll_once()
        assert (first.processed, first.retry) == (0, 1)
        assert await mailbox.count("INBOX") == 1  # still there, unseen
        assert await ticket_count(engine) == 0
        second = await poller.poll_once()
        assert second.processed == 1
        assert await ticket_count(engine) == 1
        assert await mailbox.count("INBOX") == 0
    finally:
        await poller.close()


async def test_a_mail_redelivered_after_a_crash_before_the_move_is_stored_once(engine, clock, tmp_path, mailbox):
    service = make_service(engine, clock, tmp_path)
    # The same mail twice in the inbox: processed once, moved away twice.
    await mailbox.append(fixture("html_only_utf8.eml"))
    await mailbox.append(fixture("html_only_utf8.eml"))
    poller = ImapPoller(mailbox.settings(), service)
    try:
        stats = await poller.poll_once()
        assert stats.processed == 2
        assert await ticket_count(engine) == 1
        assert len(await rows(engine, ticket_messages, ticket_messages.c.channel == "email")) == 1
    finally:
        await poller.close()


async def test_unparseable_mail_goes_to_failed_and_bounces_are_not_tickets(engine, clock, tmp_path, mailbox):
    service = make_service(engine, clock, tmp_path)
    await mailbox.append(b"Subject: no sender\r\nMessage-ID: <nosender@x>\r\n\r\nbody\r\n")
    await mailbox.append(fixture("bounce_dsn.eml"))
    await mailbox.append(fixture("auto_reply.eml"))
    poller = ImapPoller(mailbox.settings(), service)
    try:
        stats = await poller.poll_once()
        assert (stats.processed, stats.failed) == (2, 1)
        assert await mailbox.count("Failed") == 1
        assert await mailbox.count("Processed") == 2
        assert await ticket_count(engine) == 0
    finally:
        await poller.close()


async def test_poller_wakes_up_in_idle(engine, clock, tmp_path, mailbox):
    service = make_service(engine, clock, tmp_path)
    adapter = make_adapter(service, mailbox.settings(imap_poll_seconds=3600))
    await adapter.start()
    try:
        for _ in range(100):  # wait until the first poll is done and the poller sits in IDLE
            client = adapter._poller.client  # noqa: SLF001
            if client is not None and client.has_pending_idle():
                break
            await asyncio.sleep(0.05)
        assert client is not None and client.has_pending_idle()
        await mailbox.append(fixture("gbk_attachment.eml"))  # only IDLE can notice it: the poll interval is 1 h
        for _ in range(100):
            if await ticket_count(engine):
                break
            await asyncio.sleep(0.1)
        assert await ticket_count(engine) == 1
        [row] = await rows(engine, tickets)
        assert row["intake_line"] == "mayor"
    finally:
        await adapter.stop()


async def test_servers_without_move_get_copy_store_expunge(engine, clock, tmp_path, mailbox):
    service = make_service(engine, clock, tmp_path)
    await mailbox.append(fixture("gbk_attachment.eml"))
    await mailbox.append(fixture("html_only_utf8.eml"))
    poller = ImapPoller(mailbox.settings(), service)
    try:
        client = await poller.connect()
        client.protocol.capabilities.discard("MOVE")  # the client now talks to dovecot as to a MOVE-less server
        stats = await poller.poll_once()
        assert stats.processed == 2
        assert await mailbox.count("INBOX") == 0 and await mailbox.count("Processed") == 2
    finally:
        await poller.close()
