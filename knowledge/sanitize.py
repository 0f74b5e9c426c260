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
# 每台20万元补贴); every other tag (paragraphs, list items, line breaks, cells, headings) separates text.
INLINE_TAGS = frozenset({"a", "b", "strong", "i", "em", "u", "s", "sub", "sup", "span", "code"})
_TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)?[^>]*>")


def clean_html(value: str) -> str:
    """Only allowed tags/attributes survive; no script, no on* handlers, no javascript: URLs."""
    return nh3.clean(value or "", tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def plain_text(value: str) -> str:
    """What a reader sees of (sanitized) HTML: inline tags dropped, every other tag (paragraph, list item, line
    break, cell, heading) a line break, as a line break in the source is; runs of white space within a line
    one space, empty lines dropped. The lines matter: an FAQ kept as "问题？答案" lines is ranked by its
    questions (``knowledge.search.base.faq_questions``)."""
    text = _TAG.sub(lambda m: "" if (m.group(1) or "").lower() in INLINE_TAGS else "\n", value or "")
    lines = (" ".join(line.split()) for line in html.unescape(text).replace("\xa0", " ").splitlines())
    return "\n".join(line for line in lines if line)
