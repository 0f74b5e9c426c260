"""Keep article rich text safe: an allow-list HTML sanitizer (nh3, the Rust ammonia library)."""

from __future__ import annotations

import nh3

from knowledge.tokenize import html_to_text

TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "s", "sub", "sup", "span", "div", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td", "hr", "pre", "code",
}
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def clean_html(value: str) -> str:
    """Only allowed tags/attributes survive; no script, no on* handlers, no javascript: URLs."""
    return nh3.clean(value or "", tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     link_rel="noopener noreferrer", strip_comments=True)


def plain_text(value: str) -> str:
    return " ".join(html_to_text(value).split())
