"""The Telegram channel adapter: an aiogram bot in webhook mode on the hotline's aiohttp app.

``POST /channels/telegram/<path_secret>`` with the ``X-Telegram-Bot-Api-Secret-Token``
header set by ``setWebhook(secret_token=...)``. Citizens write their request
(plain text, or ``/new ...``), query a ticket (``/query <number>``) and rate
it (``/rate <number> 满意`` or the buttons the query answer offers). Answers
and notices go back through the Bot API (``api_base_url`` is configurable).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from channels.base import ChannelAdapter, MalformedPayload, SendResult, VerificationFailed, read_body, webhook
from channels.telegram.parse import PARSERS, BotRequest, parse_update
from channels.telegram.settings import TelegramSettings
from hotline.actions import InvalidParams
from hotline.citizens import owns_ticket
from hotline.jobs.callbacks import pending_callback_for, satisfaction_of
from hotline.lifecycle import SATISFACTION, TransitionError
from hotline.messages import Identity, OutboundMessage
from hotline.users import Actor

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CITIZEN = Actor(username="citizen:telegram", role="citizen")
HELP = ("您好，这里是12345政务服务便民热线（海外服务）。\n"
        "直接发送文字、图片或位置即可反映诉求；\n"
        "/new 内容 —— 提交一条新的诉求\n"
        "/query 工单号 —— 查询办理进度\n"
        "/rate 工单号 满意|基本满意|不满意 —— 评价办理结果")
NOT_FOUND = "未找到该工单，请核对工单号（只能查询您本人通过 Telegram 提交的工单）。"


def _ack(exc) -> web.Response:
    return web.json_response({"ok": True, "ignored": exc.event_type})


class TelegramAdapter(ChannelAdapter):
    name = "telegram"
    acknowledges_intake = True
    settings_class = TelegramSettings
    settings: TelegramSettings

    def __init__(self, deps, settings: TelegramSettings | None = None) -> None:
        super().__init__(deps, settings)
        self._bot: Bot | None = None

    @classmethod
    def is_configured(cls, settings: TelegramSettings) -> bool:
        return settings.configured()

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/channels/telegram/{secret}", webhook(_ack)(self.receive))

    def bot(self) -> Bot:
        if self._bot is None:
            api = TelegramAPIServer.from_base(self.settings.api_base_url.rstrip("/"))
            self._bot = Bot(self.settings.token, session=AiohttpSession(api=api,
                                                                        timeout=self.settings.request_timeout))
        return self._bot

    async def stop(self) -> None:
        if self._bot is not None:
            await self._bot.session.close()
            self._bot = None

    async def register_webhook(self, public_base_url: str) -> str:
        """Tell Telegram where to POST updates (setWebhook with the secret token); returns the URL."""
        url = f"{public_base_url.rstrip('/')}/channels/telegram/{self.settings.path_secret}"
        await self.bot().set_webhook(url=url, secret_token=self.settings.secret_token,
                                     allowed_updates=sorted(PARSERS), drop_pending_updates=False)
        return url

    # -- webhook -------------------------------------------------------------------------------

    def _verify(self, request: web.Request) -> None:
        s = self.settings
        path_ok = hmac.compare_digest(request.match_info.get("secret", "").encode(), (s.path_secret or "").encode())
        header_ok = hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(),
                                        (s.secret_token or "").encode())
        if not (s.path_secret and s.secret_token and path_ok and header_ok):
            raise VerificationFailed("Telegram 密钥校验失败")

    async def receive(self, request: web.Request) -> web.Response:
        """One update from Telegram."""
        self._verify(request)
        body = await read_body(request, self.settings.max_body_bytes)
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedPayload("JSON 格式错误") from None
        req = parse_update(data)
        await self.handle(req)
        return web.json_response({"ok": True})

    async def handle(self, req: BotRequest) -> None:
        if req.kind == "submit":
            req = await self._callback_answer(req)
        if req.kind == "submit":
            text = await self._submit(req)
        elif req.kind == "query":
            text, markup = await self._query(req)
            await self._say(req.chat_id, text, markup)
            return
        elif req.kind == "rate":
            text = await self._rate(req)
        else:
            text = f"{req.error}\n\n{HELP}" if req.error else HELP
        if req.callback_id:
            await self._answer_callback(req.callback_id, text)
        await self._say(req.chat_id, text)

    async def _submit(self, req: BotRequest) -> str:
        try:
            result = await self.deps.service.ingest(req.inbound)
        except InvalidParams as exc:
            return f"提交失败：{exc.message}"
        if result.threaded:
            return f"已将您的补充内容记入工单 {result.ticket_number}。"
        return (f"您的诉求已受理，工单号：{result.ticket_number}\n"
                f"可发送 /query {result.ticket_number} 查询办理进度。")

    async def _callback_answer(self, req: BotRequest) -> BotRequest:
        """A bare "1/2/3" answers the callback question we sent this citizen (回访): rate that ticket."""
        satisfaction = satisfaction_of(req.inbound.text) if req.inbound is not None else None
        if satisfaction is None:
            return req
        async with self.deps.service.engine.connect() as conn:
            number = await pending_callback_for(conn, req.inbound.sender)
        if number is None:
            return req
        return dataclasses.replace(req, kind="rate", number=number, satisfaction=satisfaction)

    async def _own_ticket(self, req: BotRequest) -> dict | None:
        """The ticket if this chat filed it or wrote to it (:func:`hotline.citizens.owns_ticket`)."""
        service = self.deps.service
        ticket = await service.get_ticket_by_number(req.number)
        sender = Identity(kind="telegram", value=req.user_id)
        return ticket if await owns_ticket(service, sender, "telegram", ticket) else None

    async def _query(self, req: BotRequest) -> tuple[str, InlineKeyboardMarkup | None]:
        ticket = await self._own_ticket(req)
        if ticket is None:
            return NOT_FOUND, None
        lines = [f"工单号：{ticket['number']}", f"状态：{ticket['state_label']}",
                 f"承办单位：{ticket.get('lead_unit_name') or '待分派'}"]
        replies = [m for m in ticket.get("messages", []) if m["direction"] == "out"]
        if replies:
            lines.append(f"答复：{replies[-1]['text']}")
        markup = None
        if ticket["state"] in ("replied", "answered", "closed") and not ticket.get("satisfaction"):
            lines.append("请对办理结果进行评价：")
            markup = InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text=s, callback_data=f"rate:{ticket['number']}:{s}") for s in SATISFACTION]])
        return "\n".join(lines), markup

    async def _rate(self, req: BotRequest) -> str:
        ticket = await self._own_ticket(req)
        if ticket is None:
            return NOT_FOUND
        action = "callback" if ticket["state"] == "replied" else "rate"
        try:
            await self.deps.service.transition(req.number, action, CITIZEN, {"satisfaction": req.satisfaction})
        except TransitionError:
            return f"工单当前状态为「{ticket['state_label']}」，暂不能评价。"
        return f"感谢您的评价（{req.satisfaction}），工单 {req.number}。"

    async def _say(self, chat_id: int, text: str, markup=None) -> None:
        try:
            await self.bot().send_message(chat_id=chat_id, text=text, reply_markup=markup)
        except TelegramAPIError as exc:  # the request itself was handled; log and acknowledge
            log.warning("telegram: answer to chat %s failed: %s", chat_id, exc)

    async def _answer_callback(self, callback_id: str, text: str) -> None:
        try:
            await self.bot().answer_callback_query(callback_query_id=callback_id, text=text[:200])
        except TelegramAPIError as exc:
            log.warning("telegram: answerCallbackQuery failed: %s", exc)

    # -- outbound ------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.recipient.kind != "telegram" or not message.recipient.value.lstrip("-").isdigit():
            return SendResult(ok=False, error=f"telegram cannot reach a {message.recipient.kind} identity")
        text = message.text
        if message.ticket_number and message.ticket_number not in text:
            text = f"【工单 {message.ticket_number}】{text}"
        try:
            sent = await self.bot().send_message(chat_id=int(message.recipient.value), text=text[:4096])
        except TelegramRetryAfter as exc:
            return SendResult(ok=False, error=str(exc), retryable=True)
        except (TelegramNetworkError, TelegramServerError, asyncio.TimeoutError) as exc:
            return SendResult(ok=False, error=str(exc), retryable=True)
        except TelegramAPIError as exc:
            return SendResult(ok=False, error=str(exc))
        return SendResult(ok=True, external_id=f"msg:{sent.chat.id}:{sent.message_id}")
