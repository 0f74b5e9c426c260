"""Citizen identities: phone normalisation to E.164 (+86) and masking for unit users."""

from __future__ import annotations

import re

import phonenumbers

from hotline.messages import Identity


class InvalidPhone(ValueError):
    pass


def normalize_phone(raw: str, region: str = "CN") -> str:
    """E.164 form of a Chinese mobile or landline number ("0571..." and "138..." alike)."""
    digits = re.sub(r"[^\d+]", "", raw or "")
    if digits.startswith("0086"):
        digits = "+86" + digits[4:]
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"无法识别的电话号码：{raw}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(f"无法识别的电话号码：{raw}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_identity(kind: str, value: str) -> Identity:
    value = (value or "").strip()
    if kind == "phone":
        value = normalize_phone(value)
    elif kind == "email":
        value = value.lower()
    return Identity(kind=kind, value=value)


def mask_phone(value: str | None) -> str | None:
    """138****5678 style: keep the first three and last four national digits."""
    if not value:
        return value
    national = value[3:] if value.startswith("+86") else value.lstrip("+")
    if len(national) < 7:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"


# A mobile number written into text: 13912345678, +86 139-1234-5678, 86 139 1234 5678 ...
_PHONE_IN_TEXT = re.compile(r"(?<![\d+])(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")


def mask_phones_in_text(text: str | None) -> str | None:
    """Mask mobile numbers a citizen wrote into free text."""
    if not text:
        return text
    return _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_author(author: str | None) -> str | None:
    """A message author as unit users see it: ``phone:``/``email:`` identities masked, names kept."""
    if not author:
        return author
    kind, _, value = author.partition(":")
    if kind == "phone" and value:
        return f"phone:{mask_phone(value)}"
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"email:{local[:1]}***@{domain}"
    return mask_phones_in_text(author)
