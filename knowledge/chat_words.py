"""What citizens type to the chatbot, and its replies: command words, the bare form of a short reply
compared with them, a phone number sent alone, :class:`BotReply`, and how a reply quotes an article's
title (:func:`book_title`) and tells offered articles of the same title apart (:func:`option_labels`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from hotline.textnorm import normalise
from knowledge.chat_text import COUNTRY_CODE, phone_in

SUBMIT_WORDS = ("提交", "我要反映", "我要投诉", "投诉", "反映问题", "转人工", "人工", "办理诉求", "提交诉求")
CANCEL_WORDS = ("取消", "算了", "不用了", "退出", "取消提交", "不提交了", "不提交", "先不提交", "不想提交了",
                "我不想提交了", "不想提交", "不反映了", "不用提交了", "结束")
HELPFUL = ("有用", "有帮助", "解决了", "是", "满意")
UNHELPFUL = ("没用", "没有用", "没帮助", "没有帮助", "没解决", "否", "不满意")
GREETINGS = ("你好", "您好", "你们好", "在吗", "在不在", "有人吗", "哈喽", "嗨", "hello", "hi", "hey", "hithere", "hellothere", "heythere", "喂",
             "早上好", "上午好", "中午好", "下午好", "晚上好")
THANKS = ("谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "非常感谢", "好的谢谢", "谢啦")
# "Where is my request?" with no number: the citizen's own latest tickets are listed.
PROGRESS_WORDS = ("查询进度", "进度查询", "查进度", "查询工单", "工单查询", "工单进度", "办理进度", "处理进度",
                  "查询办理进度", "我的工单", "我的诉求", "我的工单呢", "我的工单办得怎么样", "我的工单办得怎么样了",
                  "我反映的问题怎么样了", "我的诉求怎么样了", "进度", "进度怎么样", "进度怎么样了", "进度如何",
                  "办得怎么样", "办得怎么样了", "办的怎么样了", "处理得怎么样了", "处理的怎么样了", "有结果了吗",
                  "有结果吗", "有结果没有", "有没有结果", "有进展吗", "有进展了吗")
# Replies to the bot's own yes/no question or list ("您想了解的是不是……？"), and to an offer.
CONFIRM_WORDS = ("是", "是的", "对", "对的", "嗯", "嗯嗯", "好", "好的", "可以", "没错", "确认", "就是这个")
DENY_WORDS = ("不是", "不是的", "否", "都不是", "不对", "都不对", "没有", "不要", "不用", "不需要", "不了")
FEEDBACK_YES = ("是的", "对", "对的", "嗯", "嗯嗯", "没错")  # to "这个回答对您有帮助吗"
ORDINALS = {"第一个": 1, "第一": 1, "第一条": 1, "第二个": 2, "第二": 2, "第二条": 2, "第三个": 3, "第三": 3,
            "第三条": 3}
PROGRESS_CHARS = "查询看工单进度编号的号码怎么样了办理情况请问帮我一下"  # around a number, they only ask for progress
MIN_PROBLEM_CHARS = 5  # a shorter question ("医保") says too little to be a ticket's problem: it is asked for
# "就是这个" to "您刚才咨询的是……请简要描述您要反映的问题": the question asked is the problem to file.
KEEP_QUESTION_WORDS = (*CONFIRM_WORDS, "就是这个问题", "就这个", "就这个问题", "是这个", "就按这个", "按这个提交",
                       "按刚才的问题提交", "就按刚才的问题", "刚才的问题", "就是刚才的问题", "没错就是这个")
# "不留" to "请留下您的联系电话": a ticket filed without a phone number, on the citizen's explicit word.
NO_PHONE_WORDS = ("不留", "不留了", "不想留", "不愿留", "不愿意留", "不方便留", "不留电话", "不想留电话", "不提供",
                  "不想提供", "不愿提供", "不愿意提供", "不方便提供", "不给", "不想给", "匿名", "不留号码", "不便留电话",
                  "不便留")
# A sentence that asks (a consultation), not one that tells what went wrong.
ASKING = re.compile(r"[?？]|怎么|怎样|如何|什么|多少|哪|谁|吗|能否|是否|可否|能不能|可不可以|有没有|是不是|咋|为啥|为什么|"
                    r"几[时点个天月年]|呢\W*$")
# Words of a problem told as a story (天天有人…, 物业不管): an answer to "where" reading like this is no place.
_PROBLEM_CUES = re.compile(r"不管|没人管|没有人管|不处理|不解决|没解决|天天|每天|经常|总是|一直|老是|整天|半夜|扰民|"
                           r"投诉|举报|违规|违章|乱[扔丢停堆放搭建倒贴收]|占用|占道|堵|坏|破|漏|噪音|吵|臭|脏|危险|"
                           r"隐患|有人[在给把往]|希望|要求|充电|不能|没有|不了")
# How an address ends (…翠柳小区3栋, …凤凰路12号, …菜市场门口).
_PLACE_END = re.compile(r"(?:区|县|镇|乡|村|路|街|巷|弄|道|号|栋|幢|座|单元|室|楼|层|小区|花园|公寓|苑|园|大厦|广场|"
                        r"社区|门口|楼下|楼上|楼道|附近|对面|旁边|路口|交叉口|站|市场|学校|医院|公园|停车场)$")


def asks(text: str) -> bool:
    """Whether ``text`` asks something (电动自行车可以在楼道里充电吗) rather than tells a problem."""
    return ASKING.search(text or "") is not None


def tells_problem(text: str) -> bool:
    """Whether ``text`` reads like a problem told in the citizen's own words (我们楼道里天天有人给电动车充电，
    物业不管) rather than an address."""
    return len(bare_of(text)) >= 8 and _PROBLEM_CUES.search(text) is not None


def looks_like_place(text: str) -> bool:
    """Whether ``text`` is only an address (云湖区湖滨街道翠柳小区3栋): short, ending as addresses do, asking
    nothing and telling no problem."""
    bare = bare_of(text)
    return 2 <= len(bare) <= 40 and _PLACE_END.search(bare) is not None and not asks(text) \
        and _PROBLEM_CUES.search(text) is None


_DISSATISFIED = re.compile(r"不(?:太|很|是很|怎么|大)?满意")
_SATISFIED = re.compile(r"(?<![不没])满意(?!度)")


def satisfaction_in(text: str) -> str | None:
    """The satisfaction (满意 / 基本满意 / 不满意) ``text`` clearly states about a ticket's result, or None."""
    if _DISSATISFIED.search(text or ""):
        return "不满意"
    if "基本满意" in (text or ""):
        return "基本满意"
    return "满意" if _SATISFIED.search(text or "") else None


# A complaint (knowledge.complaint) is first offered a request, before the answer or the choices (reply kind -> lead).
COMPLAINT_LEADS = {
    "answer": "您反映的问题可以提交诉求，转交相关部门办理，回复“提交”即可。以下信息供您参考：\n\n",
    "clarify": "您反映的问题需要相关部门处理，回复“提交”即可为您提交诉求，转交相关部门办理。\n",
}
HELP = "请直接输入您想咨询的问题；发送工单编号（13位数字）可查询办理进度；回复“提交”可反映诉求。"
_COMMANDS = frozenset((*CANCEL_WORDS, *HELPFUL, *UNHELPFUL, *GREETINGS, *THANKS, *PROGRESS_WORDS, *NO_PHONE_WORDS,
                       *KEEP_QUESTION_WORDS))
# A greeting in front of a question ("你好，公积金怎么提取"): not part of what is asked.
_LEADING_GREETING = re.compile(
    r"^(?:(?:你好|您好|你们好|哈喽|嗨|在吗|打扰了|打扰一下|(?:hello|hi|hey)(?:\s+there)?(?![a-z]))[\s,，.。!！~～、]*)+", re.IGNORECASE)
GREETING = ("您好！我是12345政务服务便民热线智能客服。请直接输入您想咨询的问题；"
            "发送工单编号可查询办理进度；回复“提交”可反映诉求。")
# Punctuation, spaces and a trailing modal particle around a short reply ("取消。", "有用！", "算了吧").
_NOISE = re.compile(r"[\W_]+")
_PARTICLES = "吧啊呀哦啦嘛了"


@dataclass
class BotReply:
    text: str
    kind: str  # answer | clarify | offer | collect | ticket | progress | feedback | greeting | cancel | busy
    article_id: int | None = None
    ticket_number: str | None = None
    options: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "article_id": self.article_id,
                "ticket_number": self.ticket_number, "options": self.options}


def bare_of(text: str) -> str:
    """A short reply without punctuation, spaces or a trailing particle, to compare with the command words."""
    bare = _NOISE.sub("", normalise(unicodedata.normalize("NFKC", text))).lower()
    return bare[:-1] if len(bare) > 2 and bare[-1] in _PARTICLES and bare[:-1] in _COMMANDS else bare


def strip_greeting(text: str) -> str:
    """The question without a greeting in front of it (你好，… / 您好！…); the text itself if that is all."""
    return _LEADING_GREETING.sub("", text).strip() or text


def only_phone(text: str) -> str | None:
    """The phone number when ``text`` is just one, maybe with 电话, 手机号, 我的 … around it."""
    phone = phone_in(text)
    rest = bare_of(COUNTRY_CODE.sub("", unicodedata.normalize("NFKC", text))).replace(phone.replace("-", ""), "") \
        if phone else None
    return phone if phone and set(rest) <= set("电话手机号码是我的") else None


def book_title(title: str) -> str:
    """``title`` as quoted in a reply, between book-title marks, following GB/T 15834 (标点符号用法):

    * 灵活就业人员如何缴纳社会保险 -> 《灵活就业人员如何缴纳社会保险》;
    * a title that is already one whole book title (《广州市养犬管理条例》) is shown as it is, not doubled;
    * a title holding book titles inside (《中华人民共和国残疾人证》挂失补办) is wrapped, and the marks inside
      become single ones, as for a book title within a book title: 《〈中华人民共和国残疾人证〉挂失补办》.
    """
    title = (title or "").strip()
    if _whole_book_title(title):
        return title
    return "《" + title.replace("《", "〈").replace("》", "〉") + "》"


def _whole_book_title(title: str) -> bool:
    """Whether ``title`` is one book title: its first 《 closes at its last character (not 《甲》与《乙》)."""
    if len(title) < 2 or title[0] != "《" or title[-1] != "》":
        return False
    depth = 0
    for i, char in enumerate(title):
        depth += (char == "《") - (char == "》")
        if depth == 0:
            return i == len(title) - 1
    return False


def option_labels(options: list[tuple[int, str, str | None]]) -> list[str]:
    """How each offered article is listed, from (article id, title, owning unit's name or None): its title,
    and for articles offered with the same title (a provincial and a city version, one per district) also
    their unit (律师执业证书注销审核（广州市司法局）) or, when that does not tell them apart, their id
    (…（知识编号 12）; with the unit: …（广州市司法局，知识编号 12）)."""
    def same(title: str) -> str:
        return _NOISE.sub("", title).lower()

    labels = []
    for article_id, title, unit in options:
        twins = [o for o in options if same(o[1]) == same(title)]
        if len(twins) == 1:
            labels.append(title)
        elif unit and sum(1 for o in twins if o[2] == unit) == 1:
            labels.append(f"{title}（{unit}）")
        elif unit:
            labels.append(f"{title}（{unit}，知识编号 {article_id}）")
        else:
            labels.append(f"{title}（知识编号 {article_id}）")
    return labels
