"""Anti-abuse for the public form: CSRF + challenge tokens, rate limits, query-code hashing.

A form token is a random nonce stored server-side with the answer to a small
arithmetic challenge; the page carries ``csrf = HMAC(secret, nonce)`` and the
browser a cookie holding the nonce. A submission must present both, the token
must be unused and fresh, and the answer right. Tokens are single use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from channels.tables_mail import mail_form_tokens, mail_rate_hits

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _mac(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_for(secret: str, nonce: str) -> str:
    return _mac(secret, "mailbox-csrf", nonce)


def code_hash(secret: str, number: str, code: str) -> str:
    return _mac(secret, "mailbox-code", f"{number}:{code.strip().upper()}")


def derived_code(secret: str, key: str) -> str:
    """A query code derived from a partner letter's id: a retried forward gets the same code."""
    digest = hmac.new(secret.encode(), f"mailbox-partner-code:{key}".encode(), hashlib.sha256).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:8])


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


async def issue_token(conn: AsyncConnection, now: dt.datetime) -> tuple[str, str]:
    """A fresh form token: (nonce, challenge question)."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    if secrets.randbelow(2) and a != b:
        a, b = max(a, b), min(a, b)
        question, answer = f"{a} 减 {b} 等于多少？", a - b
    else:
        question, answer = f"{a} 加 {b} 等于多少？", a + b
    nonce = secrets.token_urlsafe(24)
    await conn.execute(sa.insert(mail_form_tokens).values(nonce=nonce, answer=str(answer), created_at=now))
    return nonce, question


class TokenProblem(Exception):
    """``kind`` is "csrf" (forged/expired/used: 403) or "challenge" (wrong answer: 400)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


async def check_token(conn: AsyncConnection, secret: str, nonce: str | None, csrf: str | None, answer: str | None,
                      now: dt.datetime, ttl: dt.timedelta) -> None:
    """Raise :class:`TokenProblem` unless the token is genuine, fresh, unused and answered right."""
    if not nonce or not csrf or not hmac.compare_digest(csrf_for(secret, nonce), csrf):
        raise TokenProblem("csrf", "页面已失效或请求来源不明，请刷新页面后重新填写。")
    row = (await conn.execute(sa.select(mail_form_tokens).where(mail_form_tokens.c.nonce == nonce))).first()
    if row is None or row.used_at is not None or row.created_at + ttl < now:
        raise TokenProblem("csrf", "页面已失效或已提交过，请刷新页面后重新填写。")
    if (answer or "").strip() != row.answer:
        # A wrong answer burns the token: no guessing against the same challenge.
        await conn.execute(sa.update(mail_form_tokens).where(mail_form_tokens.c.nonce == nonce).values(used_at=now))
        raise TokenProblem("challenge", "验证题答案不正确，请重新计算。")


async def use_token(conn: AsyncConnection, nonce: str, now: dt.datetime) -> bool:
    """Mark the token used; False when another request used it first."""
    result = await conn.execute(sa.update(mail_form_tokens).where(
        mail_form_tokens.c.nonce == nonce, mail_form_tokens.c.used_at.is_(None)).values(used_at=now))
    return result.rowcount == 1


async def hits(conn: AsyncConnection, key: str, since: dt.datetime) -> int:
    return (await conn.execute(sa.select(sa.func.count()).select_from(mail_rate_hits).where(
        mail_rate_hits.c.key == key, mail_rate_hits.c.at > since))).scalar_one()


async def hit(conn: AsyncConnection, key: str, now: dt.datetime) -> None:
    await conn.execute(sa.insert(mail_rate_hits).values(key=key, at=now))
