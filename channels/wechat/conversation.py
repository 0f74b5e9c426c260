"""What the hotline answers a citizen on WeChat: the reply text for a parsed message or event."""

from __future__ import annotations

import logging

from channels.wechat.parse import WechatEvent, classify_text
from hotline.actions import InvalidParams
from hotline.citizens import owns_ticket
from hotline.jobs.callbacks import pending_callback_for, satisfaction_of
from hotline.lifecycle import TransitionError
from hotline.messages import Identity, InboundMessage
from hotline.users import Actor

log = logging.getLogger(__name__)
CITIZEN = Actor(username="citizen:wechat", role="citizen")

WELCOME = ("欢迎关注12345政务服务便民热线！直接发送文字、语音、图片或位置即可提交诉求；"
           "发送工单编号可查询办理进度；办结后发送“评价 工单编号 满意/基本满意/不满意”即可评价。")
MENU_TEXTS = {
    "SUBMIT": "请直接发送您的诉求（文字或语音），可附图片和位置，我们将为您生成工单。",
    "PROGRESS": "请发送工单编号（13位数字）查询办理进度。",
    "RATE": "请发送“评价 工单编号 满意/基本满意/不满意”，也可用 1/2/3 代替。",
}
HELP = "您好，请直接发送您的诉求，或发送工单编号查询进度。"


async def answer(service, chatbot, item: InboundMessage | WechatEvent) -> str | None:
    """The passive-reply text (None: nothing to say, answer "success")."""
    if isinstance(item, WechatEvent):
        return event_reply(item)
    if item.text and not item.attachments and item.location is None:
        kind, number, satisfaction = classify_text(item.text)
        if kind == "progress":
            return await progress(service, item.sender.value, number)
        if kind == "rate":
            return await rate(service, item.sender.value, number, satisfaction)
        if (answer_to := satisfaction_of(item.text)) is not None:
            # A bare "1/2/3" answers the callback question we sent this citizen (回访).
            async with service.engine.connect() as conn:
                pending = await pending_callback_for(conn, item.sender)
            if pending is not None:
                return await rate(service, item.sender.value, pending, answer_to)
        if chatbot is not None:
            return reply_text(await chatbot.respond(item))
    result = await service.ingest(item)
    if result.threaded:
        return f"已收到您的补充信息，已记入工单 {result.ticket_number}。"
    return f"您的诉求已受理，工单编号：{result.ticket_number}。发送该编号可查询办理进度。"


def event_reply(event: WechatEvent) -> str | None:
    if event.kind in ("subscribe", "scan"):
        return WELCOME
    if event.kind == "menu":
        return MENU_TEXTS.get(event.key, HELP)
    return None  # unsubscribe, view, location report: nothing to say


def reply_text(reply) -> str:
    """The chatbot's answer as text (a str, or an object with ``text``)."""
    if isinstance(reply, str):
        return reply
    return str(getattr(reply, "text", None) or reply)


async def _own_ticket(service, openid: str, number: str) -> dict | None:
    """The ticket if this WeChat user filed it or wrote to it (a typed phone number on a merged citizen record
    is no proof: :func:`hotline.citizens.owns_ticket`)."""
    ticket = await service.get_ticket_by_number(number)
    return ticket if await owns_ticket(service, Identity(kind="wechat", value=openid), "wechat", ticket) else None


async def progress(service, openid: str, number: str) -> str:
    ticket = await _own_ticket(service, openid, number)
    if ticket is None:
        return f"未找到您名下的工单 {number}，请核对编号。"
    unit = ticket.get("lead_unit_name")
    text = f"工单 {number} 当前状态：{ticket['state_label']}"
    if unit:
        text += f"，承办单位：{unit}"
    if ticket.get("satisfaction"):
        text += f"，您的评价：{ticket['satisfaction']}"
    return text + "。"


async def rate(service, openid: str, number: str, satisfaction: str) -> str:
    ticket = await _own_ticket(service, openid, number)
    if ticket is None:
        return f"未找到您名下的工单 {number}，请核对编号。"
    action = "callback" if ticket["state"] == "replied" else "rate"
    try:
        await service.transition(number, action, CITIZEN, {"satisfaction": satisfaction})
    except (TransitionError, InvalidParams) as exc:
        log.info("wechat rating of %s refused: %s", number, exc)
        return f"工单 {number} 当前状态为“{ticket['state_label']}”，暂不能评价。"
    return f"感谢您的评价！工单 {number} 已记录为“{satisfaction}”。"
