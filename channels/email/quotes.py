"""Strip the quoted earlier mail from a reply, as Chinese and Western clients write it."""

from __future__ import annotations

import re

# A line that starts the quoted original: everything from it on is dropped.
_CUT = [
    re.compile(r"^\s*-{2,}\s*(原始邮件|Original Message)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*在\s*.{0,120}写道\s*[：:]\s*$"),
    re.compile(r"^\s*On\b.{0,250}\bwrote:\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*回复的原邮件\s*-{2,}\s*$"),
]
# Outlook/Foxmail style header block: "发件人：..." followed by "发送时间：" / "Sent:" within a few lines.
_HEADER_START = re.compile(r"^\s*\**\s*(发件人|From)\s*\**\s*[：:]", re.I)
_HEADER_NEXT = re.compile(r"^\s*\**\s*(发送时间|时间|日期|Sent|Date|收件人|To)\s*\**\s*[：:]", re.I)


def strip_quoted(text: str) -> str:
    """The new part of a reply; the whole text when stripping would leave nothing."""
    lines = text.split("\n")
    cut = len(lines)
    for i, line in enumerate(lines):
        if any(p.match(line) for p in _CUT):
            cut = i
            break
        if _HEADER_START.match(line) and any(_HEADER_NEXT.match(nxt) for nxt in lines[i + 1:i + 5]):
            cut = i
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    # Separator lines clients put right above the quote.
    while kept and (not kept[-1].strip() or re.fullmatch(r"\s*[-_=]{5,}\s*", kept[-1])):
        kept.pop()
    result = "\n".join(line.rstrip() for line in kept).strip()
    return result or text.strip()
