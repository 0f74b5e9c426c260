"""IMAP poller: fetch new mail, hand it to the core, move it out of the inbox.

Everything left in the watched mailbox is unprocessed. A mail is fetched with
``BODY.PEEK[]`` (no \\Seen flag), ingested (idempotent on its Message-ID), and
only then moved to the processed folder. If processing fails halfway the mail
stays where it is and is retried on the next poll; a mail that cannot be parsed
(or keeps failing ``imap_max_attempts`` times) goes to the failed folder for a
person to look at. Between polls the poller waits in IDLE when the server
supports it, else sleeps ``imap_poll_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field

import aioimaplib
import sqlalchemy as sa

from channels.base import MalformedPayload, UnknownEventType
from channels.email.inbound import ingest_raw
from channels.email.settings import EmailSettings
from channels.tables_mail import mail_imap_state
from hotline.actions import InvalidParams

log = logging.getLogger(__name__)
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class ImapError(Exception):
    pass


@dataclass
class PollStats:
    processed: int = 0
    failed: int = 0
    retry: int = 0
    tickets: list[str] = field(default_factory=list)


class ImapPoller:
    def __init__(self, settings: EmailSettings, service) -> None:
        self.settings = settings
        self.service = service
        self.attempts: dict[tuple[str, int], int] = {}
        self.client: aioimaplib.IMAP4 | None = None
        self.uidvalidity = ""

    @property
    def account(self) -> str:
        s = self.settings
        return f"{s.imap_username}@{s.imap_host}:{s.imap_port}/{s.imap_mailbox}"

    async def connect(self) -> aioimaplib.IMAP4:
        s = self.settings
        cls = aioimaplib.IMAP4_SSL if s.imap_ssl else aioimaplib.IMAP4
        client = cls(host=s.imap_host, port=s.imap_port, timeout=60)
        await client.wait_hello_from_server()
        await _ok(client.login(s.imap_username, s.imap_password), "login")
        for folder in (s.imap_processed_folder, s.imap_failed_folder):
            await client.create(folder)  # NO when it exists already: fine
        selected = await _ok(client.select(s.imap_mailbox), "select")
        found = _UIDVALIDITY.search(b" ".join(bytes(line) for line in selected.lines))
        self.uidvalidity = found.group(1).decode() if found else ""
        self.client = client
        return client

    async def close(self) -> None:
        if self.client is not None:
            try:
                await asyncio.wait_for(self.client.logout(), 5)
            except Exception:  # noqa: BLE001 - closing a possibly dead connection
                pass
            self.client = None

    async def poll_once(self) -> PollStats:
        """Process everything currently in the mailbox once."""
        client = self.client
        if client is None:
            client = await self.connect()
        else:
            await _ok(client.noop(), "noop")  # lets the server report mail that arrived meanwhile
        stats = PollStats()
        found = await _ok(client.uid_search("ALL"), "search")
        uids = [int(u) for line in found.lines[:-1] for u in bytes(line).split() if u.isdigit()]
        for uid in uids:
            await self._one(client, uid, stats)
        await self._save_state(stats, max(uids) if uids else None)
        return stats

    async def _one(self, client: aioimaplib.IMAP4, uid: int, stats: PollStats) -> None:
        s = self.settings
        key = (self.uidvalidity, uid)
        try:
            raw = await self._fetch(client, uid)
            result = await ingest_raw(raw, s, self.service)
        except UnknownEventType as exc:  # bounce, read receipt, auto-reply: acknowledged, no ticket
            log.info("imap %s uid %s ignored: %s", self.account, uid, exc.message)
            await self._move(client, uid, s.imap_processed_folder)
            stats.processed += 1
            return
        except (MalformedPayload, InvalidParams) as exc:
            log.warning("imap %s uid %s rejected: %s", self.account, uid, exc)
            await self._move(client, uid, s.imap_failed_folder)
            stats.failed += 1
            return
        except (ImapError, OSError, asyncio.TimeoutError):
            raise  # connection trouble: the run loop reconnects; the mail stays for the next poll
        except Exception as exc:  # noqa: BLE001 - a transient failure of processing: retry next poll
            self.attempts[key] = self.attempts.get(key, 0) + 1
            log.exception("imap %s uid %s failed (attempt %s)", self.account, uid, self.attempts[key])
            if self.attempts[key] >= s.imap_max_attempts:
                await self._move(client, uid, s.imap_failed_folder)
                stats.failed += 1
            else:
                stats.retry += 1
            return
        self.attempts.pop(key, None)
        await self._move(client, uid, s.imap_processed_folder)
        stats.processed += 1
        if result.ticket_number:
            stats.tickets.append(result.ticket_number)

    async def _fetch(self, client: aioimaplib.IMAP4, uid: int) -> bytes:
        response = await _ok(client.uid("fetch", str(uid), "(BODY.PEEK[])"), "fetch")
        for line in response.lines:
            if isinstance(line, bytearray):
                return bytes(line)
        raise ImapError(f"fetch of uid {uid} returned no message body")

    async def _move(self, client: aioimaplib.IMAP4, uid: int, folder: str) -> None:
        if client.has_capability("MOVE"):
            await _ok(client.uid("move", str(uid), folder), "move")
            return
        await _ok(client.uid("copy", str(uid), folder), "copy")
        await _ok(client.uid("store", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "store")
        if client.has_capability("UIDPLUS"):
            await _ok(client.uid("expunge", str(uid)), "expunge")
        else:
            await _ok(client.expunge(), "expunge")

    async def _save_state(self, stats: PollStats, last_uid: int | None, error: str | None = None) -> None:
        values = {"uidvalidity": self.uidvalidity, "last_poll_at": self.service.now(), "last_error": error}
        if last_uid is not None:
            values["last_uid"] = last_uid
        async with self.service.engine.begin() as conn:
            row = (await conn.execute(sa.select(mail_imap_state).where(
                mail_imap_state.c.account == self.account))).first()
            if row is None:
                await conn.execute(sa.insert(mail_imap_state).values(
                    account=self.account, processed=stats.processed, failed=stats.failed, **values))
            else:
                await conn.execute(sa.update(mail_imap_state).where(mail_imap_state.c.account == self.account)
                                   .values(processed=row.processed + stats.processed,
                                           failed=row.failed + stats.failed, **values))

    async def wait_for_mail(self) -> None:
        """Block in IDLE until the server reports a change (or the IDLE period ends)."""
        client = self.client
        if client is None or not client.has_capability("IDLE"):
            await asyncio.sleep(self.settings.imap_poll_seconds)
            return
        idle = await client.idle_start(timeout=self.settings.imap_idle_seconds)
        try:
            while True:
                push = await client.wait_server_push(timeout=self.settings.imap_idle_seconds)
                if any(b"EXISTS" in bytes(line) for line in push if isinstance(line, (bytes, bytearray))):
                    break
        except asyncio.TimeoutError:
            pass
        finally:
            client.idle_done()
            await asyncio.wait_for(idle, 10)

    async def run(self) -> None:
        """Poll forever, reconnecting with a backoff after errors."""
        backoff = 1.0
        while True:
            try:
                await self.poll_once()
                backoff = 1.0
                await self.wait_for_mail()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep polling whatever happens
                log.warning("imap %s: %s; reconnecting in %.0fs", self.account, exc, backoff)
                await self.close()
                try:
                    await self._save_state(PollStats(), None, error=str(exc)[:500])
                except Exception:  # noqa: BLE001
                    pass
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 300)


async def _ok(awaitable, what: str):
    response = await awaitable
    if response.result != "OK":
        raise ImapError(f"IMAP {what} failed: {response.result} {response.lines!r}")
    return response

