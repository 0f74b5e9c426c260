"""Keep article rich text safe: an allow-list HTML sanitizer (nh3, the Rust ammonia library)."""

from __future__ import annotations

import html
import re

import nh3

TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "s", "sub", "sup", "span", "div", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td", "hr", "pre", "code",
}
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Tags that mark up words within a line: in the plain text they leave no gap ("每台<b>20万元</b>补贴" is
# 每台20万元补贴); every other tag (paragraphs, list items, line breaks, rows, headings) separates text.
INLINE_TAGS = frozenset({"a", "b", "strong", "i", "em", "u", "s", "sub", "sup", "span", "code"})
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)?([^>]*)>")
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_NAMES = {name: name for name in TAGS}
_INDENT = "\x01"  # a list's nesting level while lines are put together; two spaces in the result


def clean_html(value: str) -> str:
    """Only allowed tags/attributes survive; no script, no on* handlers, no javascript: URLs."""
    return nh3.clean(value or "", tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def plain_text(value: str) -> str:
    """What a reader sees of (sanitized) HTML, as lines: a paragraph, line break, heading or block a line
    break, as a line break in the source is; inline tags dropped; runs of white space within a line one
    space; empty lines dropped. Structure a reader needs survives: a list item is a line starting with
    "• " (an ``<ol>``'s "1. ", "2. "…), two spaces in per level of nesting; a table row is one line, its
    cells joined by " | "; a link's address follows its text, "文字（https://…）", unless the text shows it
    (:func:`_address`). The lines matter: an FAQ kept as "问题？答案" lines (list items and cells included)
    is ranked by its questions (``knowledge.search.base.faq_questions``)."""
    value = (value or "").replace(_INDENT, "")
    out: list[str] = []
    lists: list[list] = []  # the open lists, innermost last: [numbered, items so far]
    marker = ""             # an open list item's "• " or "2. ", written before its first text
    link = None             # an open link: where its text starts in ``out``, and its href
    row = cells = 0         # in a table row (its line breaks are spaces): cells so far
    parts = _TAG.split(value)
    for i in range(0, len(parts) - 1, 4):
        text, closing, name, attributes = parts[i:i + 4]
        if text:
            if row:
                text = text.replace("\r", " ").replace("\n", " ")
            if marker and not text.isspace():
                text, marker = marker + text.lstrip(), ""
            out.append(text)
        name = _NAMES.get(name) or (name or "").lower()  # sanitized HTML's are lower case
        if name in INLINE_TAGS:
            if name != "a":
                continue
            if not closing:
                href = _HREF.search(attributes)
                link = (len(out), href and (href.group(1) or href.group(2) or href.group(3)))
            elif link:
                if link[1]:
                    out.append(_address(link[1], "".join(out[link[0]:])))
                link = None
        elif name == "tr":
            row, cells = (0, 0) if closing else (1, 0)
            out.append("\n")
        elif name in ("td", "th"):
            if not closing:
                out.append(" | " if cells else "")
                cells += 1
        else:
            out.append(" " if row else "\n")
            if name in ("ul", "ol"):
                if closing and lists:
                    lists.pop()
                elif not closing:
                    lists.append([name == "ol", 0])
            elif name == "li":
                marker = ""
                if not closing:
                    if lists:
                        lists[-1][1] += 1
                    numbered, count = lists[-1] if lists else (False, 0)
                    marker = ("" if row else _INDENT * (len(lists) - 1)) + (f"{count}. " if numbered else "• ")
    text = parts[-1]
    out.append(marker + text.lstrip() if marker and text.strip() else text)
    lines = (" ".join(line.split()) for line in html.unescape("".join(out)).replace("\xa0", " ").splitlines())
    # a row of empty cells is an empty line
    return "\n".join(line for line in lines if line.strip(" |")).replace(_INDENT, "  ")


def _address(href: str, text: str) -> str:
    """What follows a link's ``text`` in the plain text: "（https://…）", "（a@b.cn）" for a mailto: link,
    "（0571-…）" for a tel: link whose text does not show the number (its last 7 digits); nothing when
    the text already shows the address, or for a relative one (no use outside the site)."""
    url = html.unescape(href).strip()
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme == "tel":
        digits = re.sub(r"\D", "", rest)[-7:]
        return "" if not digits or digits in re.sub(r"\D", "", html.unescape(text)) else f"（{html.escape(rest)}）"
    if scheme == "mailto":
        url = shown = rest.split("?", 1)[0]
    elif scheme in ("http", "https"):
        shown = rest.lstrip("/").rstrip("/")
    else:
        return ""
    return "" if not shown or shown in html.unescape(text) else f"（{html.escape(url)}）"
