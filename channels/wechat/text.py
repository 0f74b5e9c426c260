"""WeChat's size limit on text messages, and cutting long texts into parts that fit.

A passive text reply and a customer-service text message each carry at most
2048 bytes of UTF-8 content; WeChat refuses longer ones (45002). Texts are cut
at a line break or after a sentence where possible, else after a comma, and
never inside a character.
"""

from __future__ import annotations

import re

MAX_TEXT_BYTES = 2048
# Ends a passive reply whose remainder follows as customer-service messages.
CONTINUED = "（未完，续见下条消息）"

_SENTENCE = re.compile(r".*?(?:[。！？!?；;…\n]+[”’」』）)\"']*|$)", re.S)
_CLAUSE_ENDS = "，、,：:"


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """``text`` as parts of at most ``limit`` UTF-8 bytes (a text that fits is left as it is)."""
    if utf8_len(text) <= limit:
        return [text]
    return [part.strip() for part in _parts(text, limit) if part.strip()]


def passive_and_rest(text: str, limit: int = MAX_TEXT_BYTES) -> tuple[str, str]:
    """The passive reply for ``text`` and what must follow it as customer-service messages ("" if nothing).

    A text too long for one reply is cut after a sentence, marked as continued, and the rest follows.
    """
    if utf8_len(text) <= limit:
        return text, ""
    first = _parts(text, limit - utf8_len(CONTINUED))[0]
    return first.rstrip() + CONTINUED, text[len(first):].strip()


def _parts(text: str, limit: int) -> list[str]:
    """Whole sentences packed into parts of at most ``limit`` bytes, ending at a line break where one is in
    the part's second half; ``"".join`` gives ``text`` back."""
    parts, current = [], ""
    for piece in _pieces(text, limit):
        while current and utf8_len(current + piece) > limit:
            cut = current.rfind("\n") + 1
            cut = cut if cut > len(current) // 2 else len(current)
            parts.append(current[:cut])
            current = current[cut:]
        current += piece
    return [*parts, current] if current else parts


def _pieces(text: str, limit: int):
    """The sentences of ``text``; one longer than ``limit`` bytes is cut after a comma or a character."""
    for sentence in _SENTENCE.findall(text):
        while utf8_len(sentence) > limit:
            fits = len(sentence.encode("utf-8")[:limit].decode("utf-8", "ignore"))
            clause = max(sentence.rfind(mark, 0, fits) for mark in _CLAUSE_ENDS) + 1
            cut = clause if clause > fits // 2 else fits
            yield sentence[:cut]
            sentence = sentence[cut:]
        if sentence:
            yield sentence
