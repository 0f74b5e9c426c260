"""Citizen identities: phone normalisation to E.164 (+86) and masking for unit users."""

from __future__ import annotations

import re
import unicodedata
from typing import get_args

import phonenumbers

from hotline.messages import Identity, IdentityKind

IDENTITY_KINDS = frozenset(get_args(IdentityKind))


class InvalidIdentity(ValueError):
    """A citizen identity that cannot be right (a phone number or an e-mail address)."""


class InvalidPhone(InvalidIdentity):
    pass


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def is_email(value: str) -> bool:
    """The shape of an e-mail address (name@host.tld); whether it exists is the mail server's to say."""
    return bool(_EMAIL.fullmatch(value or ""))


def normalize_phone(raw: str, region: str = "CN") -> str:
    """E.164 form of a Chinese mobile or landline number ("0571..." and "138..." alike); letters, a number
    too short or outside the numbering plan (12345, 1380013800a) are refused. Full-width digits and
    separators, as Chinese input methods type them (０２３－８８１２３４５６), are read as ASCII ones."""
    raw = unicodedata.normalize("NFKC", raw or "")
    if re.search(r"[^\d+\s\-().（）]", raw or ""):  # only digits and the separators people type
        raise InvalidPhone(f"无法识别的电话号码：{raw}")
    digits = re.sub(r"[^\d+]", "", raw or "")
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"无法识别的电话号码：{raw}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"无法识别的电话号码：{raw}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity(kind: str, value: str) -> Identity:
    value = (value or "").strip()
    if kind == "phone":
        value = normalize_phone(value)
    elif kind == "email":
        value = value.lower()
        if not is_email(value):
            raise InvalidIdentity(f"邮箱地址格式不正确：{value}")
    return Identity(kind=kind, value=value)


def mask_phone(value: str | None) -> str | None:
    """A stored phone number (+86…) as unit users see it, as :func:`mask_phones_in_text` shows the same
    number written in text: a mobile 138****5678 (the first three and last four digits), a landline its
    area code and last two digits, 023****56 or 0571****21."""
    if not value:
        return value
    national = value[3:] if value.startswith("+86") else value.lstrip("+")
    if len(national) < 7:
        return "*" * len(national)
    if value.startswith("+86") and not re.fullmatch(r"1[3-9]\d{9}", national):  # a landline: its trunk 0 back
        national = "0" + national
        area = 3 if national.startswith(("010", "02")) else 4
        return f"{national[:area]}****{national[-2:]}"
    return f"{national[:3]}****{national[-4:]}"


_DIGIT_RUN_AT_END = re.compile(r"[+\d０-９][\d０-９\-\s.·]*$")
_DIGITS_NEXT = re.compile(r"[\d０-９]|[\-\s.·][\d０-９]")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, never inside a run of digits: a phone number cut in
    half (…我电话1391234567) escapes masking, so the run is left out whole (a ticket's title)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if _DIGITS_NEXT.match(text, limit) and _DIGIT_RUN_AT_END.search(cut):
        cut = _DIGIT_RUN_AT_END.sub("", cut).rstrip()
    return cut


# Full-width digits, as Chinese input methods often type them (１３９…): read, and shown, as ASCII ones.
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_SEP = r"[-\s.·]?"  # what people put between groups of digits: 139-1234-5678, 139 1234 5678, 139.1234.5678
# A mobile number written into text: 13912345678, +86 139-1234-5678, 0086 139 1234 5678 ...
_PHONE_IN_TEXT = re.compile(rf"(?<![\d+])(?:(?:\+|00)?86{_SEP})?(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?![\d])")
# A landline with its area code: 0571-87654321, 057187654321, (023) 8889 6666 ...
_LANDLINE_IN_TEXT = re.compile(rf"(?<![\d-])[(（]?(0\d{{2,3}})[)）]?{_SEP}(\d{{3,4}}){_SEP}(\d{{4}})(?![\d-])")
# A local number without its area code, only where a word says it is one: 座机87654321, 电话：8765-4321.
_LOCAL_IN_TEXT = re.compile(r"((?:电话|座机|固话|号码|联系方式|手机)[^\d\n]{0,4})(\d{3,4})[-\s]?(\d{2})(\d{2})(?![\d])")
# A resident identity card number: 18 characters (region, birth date, sequence, check digit), or the
# old 15 digits (two-digit year, no check digit).
_ID_CARD_IN_TEXT = re.compile(r"(?<![\dA-Za-z])(\d{6})(?:19|20)\d{2}[01]\d[0-3]\d(\d{3}[\dXx])(?![\dA-Za-z])")
_OLD_ID_CARD_IN_TEXT = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{2}[01]\d[0-3]\d(\d{3})(?![\dA-Za-z])")


def mask_phones_in_text(text: str | None) -> str | None:
    """Mask the numbers a citizen wrote into free text: mobiles (139****5678, also typed in full-width
    digits or with dots), landlines (0571****21; without the area code only after a word such as 座机:
    座机****21) and identity card numbers (330106********123X, old 15-digit ones 110105******002)."""
    if not text:
        return text
    text = text.translate(_FULL_WIDTH_DIGITS)
    text = _ID_CARD_IN_TEXT.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _OLD_ID_CARD_IN_TEXT.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)
    text = _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)[-2:]}", text)
    return _LOCAL_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(4)}", text)


def mask_identity(kind: str, value: str | None) -> str | None:
    """One citizen identity as unit users see it: phones 138****5678, e-mail a***@host, account ids ***."""
    if not value:
        return value
    if kind == "phone":
        return mask_phone(value)
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return "***"


def mask_author(author: str | None) -> str | None:
    """A message author as unit users see it: ``kind:value`` identities masked as in :func:`mask_identity`;
    staff names (no known identity kind) kept, numbers in them masked."""
    if not author:
        return author
    kind, sep, value = author.partition(":")
    if sep and kind in IDENTITY_KINDS:
        return f"{kind}:{mask_identity(kind, value)}"
    return mask_phones_in_text(author)


_DIGIT_RUN = re.compile(r"\d{3,}")
_WHOLE_TICKET_NUMBER = re.compile(r"\s*20\d{11}\s*")
UNIT_QUERY_DIGITS = "成员单位检索词中不能含 3 位以上的连续数字（可直接输入 13 位工单编号）"


def probes_masked_digits(query: str | None) -> bool:
    """Whether a unit user's search text could confirm a guess at digits masked for them (139****5678):
    a run of three or more digits, other than a whole ticket number. A house number such as 12 is fine."""
    query = (query or "").translate(_FULL_WIDTH_DIGITS)
    return bool(_DIGIT_RUN.search(query)) and not _WHOLE_TICKET_NUMBER.fullmatch(query)


def without_digit_runs(text: str) -> str:
    """``text`` with runs of three or more digits taken out (a unit's assist text matched against tickets)."""
    return _DIGIT_RUN.sub(" ", text.translate(_FULL_WIDTH_DIGITS))
