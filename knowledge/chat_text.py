"""Numbers in what citizens type to the chatbot: ticket numbers and phone numbers."""

from __future__ import annotations

import re
import unicodedata

TICKET_NUMBER = re.compile(r"(?<!\d)(20\d{2}[01]\d[0-3]\d\d{5})(?!\d)")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")
_ANY_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
COUNTRY_CODE = re.compile(r"(?:\+|00)\s*86[\s-]*(?=1[3-9])")
# Spaces or dashes inside a number as people type it ("138 1234 5678", "2026-1123-00001").
DIGIT_GAPS = re.compile(r"(?<=\d)[\s\-‐‑–—－]+(?=\d)")
# A phone number given as the citizen's own inside a longer answer: a word for phone or for calling back
# shortly before it ("我的手机139…也可以打", "就在楼下 电话137… 找王先生") ...
_PHONE_CUE = re.compile(r"电话|手机|号码|联系方式|回电|打给我|联系我|致电")
# ... unless it names someone else's ("物业电话…", "商家的手机号…") or says it does not answer.
_THIRD_PARTY = re.compile(r"物业|商家|店|公司|老板|房东|中介|对方|单位|客服|部门|热线|厂|医院|学校|他|她|经理|师傅|司机|邻居")
_FIRST_PERSON = re.compile(r"我|本人")
_NOT_ANSWERING = re.compile(r"^[^，。,.;；！!？?]{0,3}(?:打不通|没人接|不接|关机|停机|是空号)")


def find(pattern: re.Pattern, text: str) -> str | None:
    """``pattern``'s first group in ``text`` with full-width digits made ASCII, or else with the spaces
    and dashes inside numbers removed."""
    text = unicodedata.normalize("NFKC", text)
    found = pattern.search(text) or pattern.search(DIGIT_GAPS.sub("", text))
    return found.group(1) if found else None


def typed_whole(pattern: re.Pattern, text: str) -> bool:
    """Whether ``pattern`` matches ``text`` as typed, without joining digit groups (a date followed by
    "12345", the hotline's own number, joins into a ticket-number-like string)."""
    return pattern.search(unicodedata.normalize("NFKC", text)) is not None


def phone_in(text: str) -> str | None:
    """A mobile (also written +86 138…, 0086 138…) or landline number in ``text``."""
    text = COUNTRY_CODE.sub("", unicodedata.normalize("NFKC", text))
    return find(MOBILE, text) or find(LANDLINE, text)


def own_phone_in(text: str) -> tuple[str, str] | None:
    """The citizen's own phone number given inside a longer answer, and the answer without it:
    ("物业乱收停车费，我的手机13912345678也可以打") -> ("13912345678", "物业乱收停车费，也可以打")."""
    norm = COUNTRY_CODE.sub("", unicodedata.normalize("NFKC", text))
    norm = DIGIT_GAPS.sub(lambda m: m.group(0) if len(m.group(0)) > 2 else "", norm)
    for match in _ANY_PHONE.finditer(norm):
        before = norm[max(0, match.start() - 8):match.start()]
        cue = None
        for cue in _PHONE_CUE.finditer(before):
            pass  # the last cue before the number
        if cue is None or _NOT_ANSWERING.search(norm[match.end():]):
            continue
        lead = before[:cue.start()]
        if _THIRD_PARTY.search(before) and not _FIRST_PERSON.search(lead[-4:] + before[cue.start():]):
            continue
        start = match.start() - len(before) + cue.start()
        start -= len(re.search(r"(?:我的|我|本人|的|联系)*$", norm[:start]).group(0))
        rest = (norm[:start] + norm[match.end():]).strip(" ，,。：:")
        return match.group(1), re.sub(r"\s{2,}", " ", rest)
    return None


# The words giving a number as the citizen's own, just before it (我的电话是, 手机号：, 联系我).
_GIVING = re.compile(r"(?:我的|我|本人的?)?(?:联系)?(?:电话|手机|手机号|手机号码|号码|联系方式|联系电话)?(?:号码)?(?:是|为)?[:：\s]*$")


def phone_with_note(text: str) -> tuple[str, str] | None:
    """The first phone number in an answer to "请留下您的联系电话", and what else the citizen said with it,
    to keep beside it in the ticket: ("我的电话是13812345678，白天打") -> ("13812345678", "白天打");
    ("13800138000 或 13900139000") -> ("13800138000", "或 13900139000")."""
    norm = COUNTRY_CODE.sub("", unicodedata.normalize("NFKC", text))
    match = _ANY_PHONE.search(norm)
    if match is None:
        norm = DIGIT_GAPS.sub("", norm)
        match = _ANY_PHONE.search(norm)
    if match is None:
        return None
    before = _GIVING.sub("", norm[:match.start()])
    note = f"{before} {norm[match.end():]}".strip(" ，,。.：:；;、!！")
    return match.group(1), re.sub(r"\s{2,}", " ", note)[:100]
