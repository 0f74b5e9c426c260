"""Collecting a request in the chatbot's dialogue: what, where and contact, then the ticket.

:class:`RequestCollector` is a part of :class:`knowledge.chatbot.Chatbot` (it uses the bot's ``service``,
``locate``, ``request_type``, ``_urgent`` and ``_log``). What the problem already says (a precise place,
the citizen's own phone number, that it is a consultation) is not asked for again. An earlier question
(电动自行车可以在楼道里充电吗) is no problem description: the citizen describes the problem or keeps the
question with "就是这个"; a problem told in answer to "where" is not taken for the place. The phone may be
declined ("不留": 「联系电话：未提供」); what is said with it (白天打, a second number) stays beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata

from hotline.identity import clip
from hotline.messages import InboundMessage
from knowledge.chat_text import own_phone_in, phone_in, phone_with_note
from knowledge.chat_words import (GREETINGS, KEEP_QUESTION_WORDS, MIN_PROBLEM_CHARS, NO_PHONE_WORDS, THANKS, BotReply,
                                  asks, bare_of, book_title, looks_like_place, only_phone, tells_problem)

log = logging.getLogger(__name__)

PRECISE_LEVELS = ("community", "place")  # areas precise enough to stand for "where" (not a whole street)
CONSULTATION_AT = 0.8  # request-type confidence for 咨询 above which no place is asked for
NO_PLACE = "不涉及具体地点"
NO_PLACE_WORDS = ("无", "没有", "不涉及", "无地点", "没有地点", "无具体地点", "没有具体地点", "不涉及地点",
                  "不涉及具体地点", "与地点无关", "和地点无关", "跟地点无关", "无关")
NO_CONTACT = "未提供"  # the contact of a ticket the citizen chose to file without a phone number ("不留")
PHONE_WHY = ("留下电话便于承办单位回电核实情况、办结后回访您的满意度。请输入11位手机号或带区号的固定电话；"
             "确实不便留电话请回复“不留”（回复“取消”可退出）。")
ASK = {
    "what": "请简要描述您要反映的问题。",
    "where": "请告诉我们问题发生的地点（区、街道、小区或门牌号）；与具体地点无关请回复“无”。",
    "contact": "请留下您的联系电话，方便承办单位与您联系。",
}


def ask_router(call, text: str | None, what: str):
    """``call(text)`` (a router part the app injects: gazetteer, request type, emergencies), or None when
    there is none, no text, or it fails: a router problem must not break the dialogue (the bot just asks)."""
    if call is None or not text:
        return None
    try:
        return call(text)
    except Exception:
        log.warning("chatbot: %s failed", what, exc_info=True)
        return None


class RequestCollector:
    """The request-collecting steps of the chatbot's dialogue (state ``{"stage": "collect", "fields": …}``)."""

    async def _start_collect(self, message: InboundMessage, key: str, fields: dict,
                             lead: str = "好的，我来帮您提交诉求（回复“取消”可随时退出）。") -> tuple[BotReply, dict]:
        fields = {k: v for k, v in fields.items() if v}
        if len(bare_of(fields.get("what") or "")) < MIN_PROBLEM_CHARS:  # "医保" alone: ask what the problem is
            fields.pop("what", None)
        if fields.get("what") and asks(fields["what"]):
            # An earlier question (电动自行车可以在楼道里充电吗) that the bot could not answer is no description of
            # a problem: the citizen describes it, or keeps the question with "就是这个".
            fields["asked"] = fields.pop("what")
        if fields.get("asked") and not fields.get("what"):
            if not fields.get("contact") and (own := own_phone_in(fields["asked"])):
                fields["contact"] = own[0]
                lead += "已记下您的联系电话。"
            return BotReply(lead + confirm_question(fields["asked"]), "collect"), {"stage": "collect",
                                                                                  "fields": fields}
        lead += self._fill_from_problem(fields, fields.get("what"))
        missing = next_missing(fields)
        if missing is None:
            reply, state = await self._create_ticket(message, key, fields)
            return BotReply(lead + reply.text, reply.kind, ticket_number=reply.ticket_number), state
        return BotReply(lead + ASK[missing], "collect"), {"stage": "collect", "fields": fields}

    def _fill_from_problem(self, fields: dict, problem: str | None) -> str:
        """What the problem already says, so that it is not asked again: where (东山区凤凰路的路灯…), or that
        it is a consultation no place belongs to (公积金怎么提取), and the citizen's own phone number (我的手机
        139…). Fills ``fields``; returns what to tell the citizen."""
        if not problem:
            return ""
        said = ""
        if not fields.get("where"):
            place = self._place_in(problem)
            if place:
                fields["where"] = place
                said += f"已记下地点：{place}。"
            elif self._consultation(problem):
                fields["where"] = NO_PLACE
        if not fields.get("contact") and (own := own_phone_in(problem)):
            fields["contact"] = own[0]
            said += "已记下您的联系电话。"
        return said

    def _consultation(self, text: str) -> bool:
        """Whether ``text`` asks for information (咨询) rather than reports a problem somewhere, by the
        router's request-type model; unsure or no router: not a consultation (the place is asked)."""
        found = ask_router(self.request_type, text, "request type prediction")
        return bool(found) and found[0] == "咨询" and found[1] >= CONSULTATION_AT

    def _place_in(self, text: str | None) -> str | None:
        """The citizen's own words naming a precise place (a community, road or estate) in ``text``, if any."""
        area = ask_router(self.locate, text, "locating a place")
        if not area or area.get("level") not in PRECISE_LEVELS:
            return None
        start, end = area["span"]
        return text[start:end].strip() or None

    async def _collect(self, message: InboundMessage, key: str, state: dict, text: str) -> tuple[BotReply, dict]:
        fields = dict(state.get("fields") or {})
        missing = next_missing(fields)
        bare, lead = bare_of(text), ""
        if missing == "contact":
            found = phone_with_note(text)
            phone = found[0] if found else phone_in(text)
            if bare in NO_PHONE_WORDS:  # declined on purpose: filed without a number
                fields["contact"] = NO_CONTACT
            elif not phone:  # say why a number helps, and how to go on without one
                wrong = "电话号码格式不正确。" if re.search(r"\d{3}", unicodedata.normalize("NFKC", text)) else ""
                return BotReply(wrong + PHONE_WHY, "collect"), state
            else:
                fields["contact"] = phone
                if found and found[1]:  # 白天打, 或 13900139000: kept beside the number in the ticket
                    fields["contact_note"] = found[1].translate(_FULL_WIDTH)
        elif not bare or bare in GREETINGS or bare in THANKS:  # no answer to the question asked: ask again
            return BotReply(ask_for(fields), "collect"), state
        elif missing == "what" and fields.get("asked") and bare in KEEP_QUESTION_WORDS:
            # "就是这个": the question asked earlier is what the ticket is about
            fields["what"], fields["from_question"] = fields.pop("asked"), True
            lead = self._fill_from_problem(fields, fields["what"])
        elif missing == "what" and fields.get("asked") and (
                looks_like_place(text) or (self._place_in(text) and not asks(text) and not tells_problem(text))):
            # only a place (云湖区湖滨街道翠柳小区3栋): the earlier question is the problem, and this is where
            fields["what"], fields["from_question"], fields["where"] = fields.pop("asked"), True, text
            lead = f"好的，按您刚才的问题提交，已记下地点：{text}。" + self._fill_from_problem(fields, fields["what"])
        elif phone := only_phone(text):  # a phone number before it was asked for
            fields["contact"] = phone
            lead = "已记下您的联系电话。"
        elif missing == "what" and len(bare) < MIN_PROBLEM_CHARS:  # "医保" says nothing of what went wrong
            return BotReply("请再具体描述一下您遇到的问题（发生了什么、持续多久等）。"
                            + ("如要按刚才的问题提交，请回复“就是这个”。" if fields.get("asked") else ""), "collect"), state
        elif missing == "what":
            fields["what"] = text
            lead = self._urgent(text) or ""
            if fields.get("asked") and not fields.get("where") and not self._place_in(text) \
                    and (place := self._place_in(fields["asked"])):  # the place the earlier question named
                fields["where"] = place
                lead += f"已记下地点：{place}。"
            lead += self._fill_from_problem(fields, text)
        elif bare in NO_PLACE_WORDS:  # "无": a request no place belongs to
            fields["where"] = NO_PLACE
        elif fields.get("from_question") and tells_problem(text) and self._place_in(text) is None:
            # The ticket's problem is only the question asked earlier, and this answer to "where" tells the
            # problem (我们楼道里天天有人给电动车充电，物业不管) and names no place: it is the problem, not the place.
            fields["asked"], fields["what"] = fields["what"], text
            fields.pop("from_question")
            lead = "已将您的描述记为要反映的问题。" + self._fill_from_problem(fields, text)
        else:  # the place, maybe with the citizen's phone in it (就在楼下 电话137… 找王先生)
            own = own_phone_in(text) if not fields.get("contact") else None
            if own:
                fields["contact"], text, lead = own[0], own[1], "已记下您的联系电话。"
            if not bare_of(text):
                return BotReply(lead + ASK["where"], "collect"), {"stage": "collect", "fields": fields}
            fields["where"] = text
        nxt = next_missing(fields)
        if nxt:
            return BotReply(lead + ask_for(fields), "collect"), {"stage": "collect", "fields": fields}
        reply, state = await self._create_ticket(message, key, fields)
        return BotReply(lead + reply.text, reply.kind, ticket_number=reply.ticket_number), state

    async def _create_ticket(self, message: InboundMessage, key: str, fields: dict) -> tuple[BotReply, dict]:
        contact, where, seen, earlier = fields["contact"], fields["where"], fields.get("seen"), fields.get("earlier")
        phone = None if contact == NO_CONTACT else contact  # "不留": no contact_phone, 「联系电话：未提供」
        note, asked = fields.get("contact_note"), fields.get("asked")
        inbound = InboundMessage(
            channel=message.channel, external_id=_request_key(message.external_id, fields), sender=message.sender,
            contact_phone=phone, sender_name=message.sender_name,
            text=f"{fields['what']}\n地点：{where}\n联系电话：{contact}" + (f"（{note}）" if note else "")
                 + (f"\n（智能客服曾提供知识{book_title(seen[1])}（编号 {seen[0]}），未能解决）" if seen else "")
                 + (f"\n（此前咨询：{asked}）" if asked and asked != fields["what"] else "")
                 + (f"\n{earlier_line(earlier)}" if earlier else ""),
            subject=title_of(fields["what"], phone), address=None if where == NO_PLACE else where[:200],
            received_at=message.received_at, intake_line=message.intake_line,
            meta={**message.meta, "chatbot": True, **({"article_seen": seen[0]} if seen else {})},
        )
        result = await self.service.ingest(inbound)
        await self._log(key, message.channel, fields["what"], "ticket", None, None, result.ticket_number)
        if getattr(result, "threaded", False):
            text = f"已将您的补充信息记入工单 {result.ticket_number}。发送该编号可查询办理进度。"
        else:
            text = f"您的诉求已提交，工单编号：{result.ticket_number}。发送该编号可随时查询办理进度。"
        # kept so that the same last answer sent again is not taken for the start of a new request
        done = {"stage": "done", "ticket_number": result.ticket_number, "contact": phone}
        return BotReply(text, "ticket", ticket_number=result.ticket_number), done


def ask_for(fields: dict) -> str:
    """The question for what is still missing: the problem (confirming an earlier question), place or phone."""
    missing = next_missing(fields)
    if missing == "what" and fields.get("asked"):
        return confirm_question(fields["asked"])
    return ASK[missing]


def confirm_question(question: str) -> str:
    """Asks what the problem is when the request would otherwise be an earlier question."""
    shown = question if len(question) <= 60 else question[:60] + "……"
    return (f"您刚才咨询的是：“{shown}”。请简要描述您要反映的问题（发生了什么、在哪里）；"
            "如要按刚才的问题提交，请回复“就是这个”。")


def earlier_line(earlier: list) -> str:
    """What the citizen asked just before the request, for a follow-up question (那租金多少钱) to make sense."""
    question, article = earlier[0], (earlier[1] if len(earlier) > 1 else None)
    told = f"，智能客服已答复知识{book_title(article[1])}（编号 {article[0]}）" if article else ""
    return f"（此前咨询：{question}{told}）"


def _request_key(message_id: str, fields: dict) -> str:
    """The ticket message's id: the last message's id and what was collected. A retry of the last message
    is the same request (one ticket); another request whose last message happens to carry the same id (a
    widget numbering each session's messages from 1 again) is not."""
    digest = hashlib.sha256(json.dumps([fields.get(k) for k in ("what", "where", "contact")],
                                       ensure_ascii=False).encode()).hexdigest()[:16]
    return f"{message_id[:180]}#{digest}"


_FULL_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"})


def title_of(problem: str, contact: str | None = None) -> str:
    """A ticket title from the citizen's problem: its first line, at most 30 characters, without the
    citizen's own phone number and the words giving it (我电话139…), nor ``contact`` written alone."""
    line = next((part.strip() for part in problem.splitlines() if part.strip()), problem.strip())
    for _ in range(3):  # a number given twice
        own = own_phone_in(line)
        if not own or not own[1]:
            break
        # own_phone_in reads the text NFKC-normalised: Chinese punctuation back, no comma left doubled
        line = re.sub(r"，{2,}", "，", own[1].translate(_FULL_WIDTH)).strip(" ，,。：:")
    if contact and contact in line and line.replace(contact, "").strip(" ，,。：:"):
        line = line.replace(contact, "").strip(" ，,。：:")
    return clip(line, 30)


def next_missing(fields: dict) -> str | None:
    return next((name for name in ("what", "where", "contact") if not fields.get(name)), None)
