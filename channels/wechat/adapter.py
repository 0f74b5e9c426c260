"""WeChat public-account adapter: server verification, plaintext/compatible/safe modes, replies.

A message is answered passively when its reply is ready before the deadline
(WeChat waits 5 s); otherwise the webhook answers "success" and the reply is
sent later as a customer-service message. WeChat's retries are deduplicated
across processes by MsgId (events: FromUserName + CreateTime).

Text longer than WeChat allows (2048 bytes) is cut after a sentence: a passive
reply carries the first part, marked as continued, and the rest follows as
customer-service messages; a customer-service text goes out as several messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels.base import (ChannelAdapter, MalformedPayload, SendResult, VerificationFailed, read_body,
                           webhook)
from channels.tables import wechat_sessions
from channels.wechat import conversation
from channels.wechat.api import OUT_OF_WINDOW, QUOTA_EXCEEDED, WechatApi, WechatApiError
from channels.wechat.dedupe import DatabaseDedupe, RedisDedupe
from channels.wechat.parse import WechatEvent, dedupe_key, parse
from channels.wechat.settings import WechatSettings
from channels.wechat.text import passive_and_rest, split_text
from channels.wechat.xmlparse import parse_xml
from hotline.db import insert_ignore
from hotline.messages import Identity, InboundMessage, OutboundMessage

log = logging.getLogger(__name__)
# Pushes after which WeChat lets us send customer-service messages for 48 hours: any message from the
# citizen, and the subscribe, SCAN and CLICK (menu) events. VIEW (a menu link) and LOCATION reports do not.
WINDOW_EVENTS = frozenset({"subscribe", "scan", "menu"})
RETRY_TEXT = "抱歉，系统繁忙，您刚才的消息未能受理，请稍后重新发送。"


def _ack(_exc) -> web.Response:
    return web.Response(text="success")


class WechatAdapter(ChannelAdapter):
    name = "wechat"
    acknowledges_intake = True
    settings_class = WechatSettings

    def __init__(self, deps, settings=None) -> None:
        super().__init__(deps, settings)
        s = self.settings
        self.crypto = WeChatCrypto(s.token, s.aes_key, s.appid) if s.aes_key and s.appid else None
        self._api: WechatApi | None = None
        self._late: set[asyncio.Task] = set()
        # First come, first answered: a burst is worked through in order instead of all at once,
        # so early messages make the deadline and the rest fall back to customer-service replies.
        self._answering = asyncio.Semaphore(s.max_concurrent_answers)
        self._bookkeeping = asyncio.Semaphore(s.max_concurrent_answers)

    @classmethod
    def is_configured(cls, settings: WechatSettings) -> bool:
        return bool(settings.token)

    # -- wiring --------------------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        app.router.add_get("/channels/wechat", self.verify_server)
        app.router.add_post("/channels/wechat", self.receive)

    @property
    def api(self) -> WechatApi:
        if self._api is None:
            self._api = WechatApi(self.deps.http, self.settings, self.deps.redis)
        return self._api

    @property
    def dedupe(self):
        if self.deps.redis is not None:
            return RedisDedupe(self.deps.redis, self.settings.dedupe_ttl_seconds)
        return DatabaseDedupe(self.deps.service.engine)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.settle(), 10)
        except asyncio.TimeoutError:
            log.warning("wechat: %d replies still pending at shutdown", len(self._late))

    def now(self) -> dt.datetime:
        return self.deps.service.now()

    # -- webhook -------------------------------------------------------------------------------

    def _check_signature(self, query) -> None:
        try:
            check_signature(self.settings.token, query.get("signature", ""), query.get("timestamp", ""),
                            query.get("nonce", ""))
        except InvalidSignatureException:
            raise VerificationFailed("微信签名校验失败") from None
        # The signature covers only token, timestamp and nonce: bound the timestamp so that a
        # captured query string cannot be replayed (with any body) later.
        stamp = query.get("timestamp", "")
        if not stamp.isdigit() or abs(self.now().timestamp() - int(stamp)) > self.settings.replay_window_seconds:
            raise VerificationFailed("微信请求时间戳无效或已过期")

    @webhook(_ack)
    async def verify_server(self, request: web.Request) -> web.Response:
        """WeChat's server-configuration check: echo ``echostr`` when the signature is right."""
        self._check_signature(request.query)
        return web.Response(text=request.query.get("echostr", ""))

    @webhook(_ack)
    async def receive(self, request: web.Request) -> web.Response:
        """A message or event pushed by WeChat (plaintext, compatible or safe mode)."""
        started = asyncio.get_running_loop().time()
        query = request.query
        self._check_signature(query)
        encrypted = query.get("encrypt_type") == "aes"
        if self.settings.aes_key and not encrypted:  # compatible and safe mode both send encrypt_type=aes
            raise VerificationFailed("已配置消息加密，不接受未加密的消息")
        body = await read_body(request, self.settings.max_body_bytes)
        payload = parse_xml(body)
        if encrypted:
            payload = parse_xml(self._decrypt(payload, query))
        item = parse(payload)
        reply = await self.reply_for(dedupe_key(payload), item, started)
        if not reply:
            return web.Response(text="success")
        xml = TextReply(source=payload.get("ToUserName"), target=payload.get("FromUserName"),
                        content=reply).render()
        if encrypted:
            xml = self.crypto.encrypt_message(xml, query.get("nonce", ""), query.get("timestamp"))
        return web.Response(text=xml, content_type="application/xml")

    def _decrypt(self, outer: dict, query) -> str:
        if self.crypto is None:
            raise VerificationFailed("收到加密消息，但未配置 EncodingAESKey/AppId")
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise MalformedPayload("加密消息缺少 Encrypt 字段")
        try:
            return self.crypto.decrypt_message({"Encrypt": encrypt}, query.get("msg_signature", ""),
                                               query.get("timestamp", ""), query.get("nonce", ""))
        except InvalidSignatureException:
            raise VerificationFailed("微信消息签名（msg_signature）校验失败") from None
        except InvalidAppIdException:
            raise VerificationFailed("加密消息的 AppId 与配置不符") from None
        except Exception as exc:  # bad base64, padding, length: wechatpy raises assorted errors
            raise MalformedPayload(f"无法解密消息：{type(exc).__name__}") from None

    # -- answering -----------------------------------------------------------------------------

    async def reply_for(self, key: str, item: InboundMessage | WechatEvent,
                        started: float | None = None) -> str | None:
        """The passive reply, or None ("success") for retries and replies not ready within the budget.

        The budget counts from ``started`` (loop time the request arrived). Bookkeeping that the
        reply does not need (the 48-hour window, remembering the reply for retries) runs after it.
        """
        loop = asyncio.get_running_loop()
        remaining = self.settings.reply_deadline_seconds - (loop.time() - (started or loop.time()))
        task = asyncio.create_task(self._process(key, item))
        try:
            claimed, reply = await asyncio.wait_for(asyncio.shield(task), max(remaining, 0.0))
        except asyncio.TimeoutError:
            self._track(self._finish_late(task, key, item))
            return None
        if claimed:
            reply, rest = passive_and_rest(reply) if reply else (reply, "")
            self._track(self._after(key, item, reply, late=rest))
        return reply

    async def _process(self, key: str, item: InboundMessage | WechatEvent) -> tuple[bool, str | None]:
        async with self._answering:
            return await self._process_now(key, item)

    async def _process_now(self, key: str, item: InboundMessage | WechatEvent) -> tuple[bool, str | None]:
        dedupe = self.dedupe
        if not await dedupe.claim(key, self.now()):
            return False, await dedupe.reply_for(key) or None
        try:
            return True, await conversation.answer(self.deps.service, self.deps.extras.get("chatbot"), item)
        except Exception:
            await dedupe.forget(key)  # let WeChat's retry try again; intake wrote nothing or is idempotent
            raise

    async def _after(self, key: str, item: InboundMessage | WechatEvent, passive: str | None, *,
                     late: str | None) -> None:
        async with self._bookkeeping:
            await self._after_now(key, item, passive, late=late)

    async def _after_now(self, key: str, item: InboundMessage | WechatEvent, passive: str | None, *,
                         late: str | None) -> None:
        """Open the 48-hour window, remember the passive reply for WeChat's retries, send ``late`` text."""
        openid = item.openid if isinstance(item, WechatEvent) else item.sender.value
        if not isinstance(item, WechatEvent) or item.kind in WINDOW_EVENTS:
            await self._touch_window(openid)
        await self.dedupe.remember(key, passive or "")
        if late:
            result = await self.send(OutboundMessage(channel="wechat", recipient=Identity(kind="wechat",
                                                     value=openid), text=late))
            if not result.ok:
                log.warning("late wechat reply to %s not sent: %s", openid, result.error)

    async def _finish_late(self, task: asyncio.Task, key: str, item) -> None:
        try:
            claimed, reply = await task
        except Exception:
            # WeChat was already told "success" and will not retry: tell the citizen to send it again.
            log.exception("wechat message %s failed after the reply deadline", key)
            if isinstance(item, InboundMessage):
                await self._touch_window(item.sender.value)  # the citizen just wrote: the window is open
                result = await self.send(OutboundMessage(channel="wechat", recipient=item.sender, text=RETRY_TEXT))
                if not result.ok:
                    log.warning("could not ask %s to resend: %s", item.sender.value, result.error)
            return
        if claimed:
            await self._after(key, item, None, late=reply)

    def _track(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._late.add(task)
        task.add_done_callback(self._late.discard)

    async def settle(self) -> None:
        """Wait for the work that runs after replies (tests, shutdown)."""
        while self._late:
            await asyncio.wait(set(self._late))

    # -- the 48-hour window --------------------------------------------------------------------

    async def _touch_window(self, openid: str) -> None:
        now = self.now()
        async with self.deps.service.engine.begin() as conn:
            await conn.execute(insert_ignore(conn, wechat_sessions).values(
                openid=openid, last_inbound_at=now, window_sent=0).on_conflict_do_nothing())
            await conn.execute(sa.update(wechat_sessions).where(wechat_sessions.c.openid == openid)
                               .values(last_inbound_at=now, window_sent=0))

    async def _take_window_slots(self, openid: str, count: int) -> str | None:
        """Reserve ``count`` customer-service messages in the citizen's window; an error code if they do not fit."""
        horizon = self.now() - dt.timedelta(hours=self.settings.window_hours)
        async with self.deps.service.engine.begin() as conn:
            result = await conn.execute(
                sa.update(wechat_sessions)
                .where(wechat_sessions.c.openid == openid, wechat_sessions.c.last_inbound_at > horizon,
                       wechat_sessions.c.window_sent <= self.settings.window_quota - count)
                .values(window_sent=wechat_sessions.c.window_sent + count))
            if result.rowcount == 1:
                return None
            row = (await conn.execute(sa.select(wechat_sessions)
                                      .where(wechat_sessions.c.openid == openid))).first()
        if row is None or row.last_inbound_at <= horizon:
            return "out_of_window"
        return "quota_exceeded"

    async def _close_window(self, openid: str, code: int) -> None:
        values = {"window_sent": self.settings.window_quota}
        if code == OUT_OF_WINDOW:
            values["last_inbound_at"] = self.now() - dt.timedelta(hours=self.settings.window_hours, seconds=1)
        async with self.deps.service.engine.begin() as conn:
            await conn.execute(sa.update(wechat_sessions).where(wechat_sessions.c.openid == openid).values(**values))

    # -- outbound ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        """A template message when ``template`` names a configured template, else customer-service text
        messages (inside the citizen's 48-hour window and quota; a long text is sent in several parts).

        A failure after some parts went out is not retryable: a retry would send them again.
        """
        if message.recipient.kind != "wechat":
            return SendResult(ok=False, error="recipient_not_wechat")
        openid = message.recipient.value
        sent = 0
        try:
            template_id = self.settings.templates.get(message.template) if message.template else None
            if template_id:
                data = await self.api.send_template(openid, template_id, message.template_data)
                return SendResult(ok=True, external_id=str(data.get("msgid") or ""))
            parts = split_text(message.text)
            if refused := await self._take_window_slots(openid, len(parts)):
                return SendResult(ok=False, error=refused)
            for part in parts:
                await self.api.send_text(openid, part)
                sent += 1
            return SendResult(ok=True)
        except WechatApiError as exc:
            if exc.errcode in (OUT_OF_WINDOW, QUOTA_EXCEEDED):
                await self._close_window(openid, exc.errcode)
                error = "out_of_window" if exc.errcode == OUT_OF_WINDOW else "quota_exceeded"
                return SendResult(ok=False, error=error)
            return SendResult(ok=False, error=f"wechat:{exc.errcode}:{exc.errmsg}",
                              retryable=exc.errcode == -1 and not sent)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError) as exc:
            return SendResult(ok=False, error=f"network:{type(exc).__name__}", retryable=not sent)
