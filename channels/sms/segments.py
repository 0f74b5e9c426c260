"""SMS segmentation: GSM-7 160/153, UCS-2 (Chinese) 70/67 per segment."""

from __future__ import annotations

GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7 for ch in text)


def _units(ch: str) -> int:
    """UTF-16 code units: characters outside the BMP (emoji) take two."""
    return 2 if ord(ch) > 0xFFFF else 1


def split(text: str) -> list[str]:
    """The segments ``text`` is sent as; a character is never cut in half."""
    if is_gsm7(text):
        single, part, size = GSM7_SINGLE, GSM7_PART, len
    else:
        single, part, size = UCS2_SINGLE, UCS2_PART, lambda s: sum(_units(c) for c in s)
    if size(text) <= single:
        return [text]
    parts, current, used = [], [], 0
    for ch in text:
        units = size(ch)
        if used + units > part:
            parts.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += units
    if current:
        parts.append("".join(current))
    return parts


def join(parts: dict[int, str]) -> str:
    """Reassemble a concatenated SMS from ``{sequence number: text}``."""
    return "".join(parts[seq] for seq in sorted(parts))
