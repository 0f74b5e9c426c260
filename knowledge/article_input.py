"""What an article's create or edit may carry, and the limits on it (every path: API, console, import).

The limits keep one save cheap: an article's title, keywords and body are tokenised for the search
index as it is saved, so they are bounded (title 300 characters, body 200 000, at most 30 keywords of
at most 50 characters each), and so is a workflow note (2000 characters).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from hotline.validation import error_text, field_name
from knowledge.dates import day_start_or_end, is_day
from knowledge.errors import InvalidInput
from knowledge.sanitize import clean_html, plain_text

class MissingField(InvalidInput):
    """A required field left out or blank: 422, as the API answers a body that fails its schema."""

    status, code = 422, "invalid_params"


MAX_TITLE = 300
MAX_BODY = 200_000
MAX_KEYWORDS = 30
MAX_KEYWORD_CHARS = 50
MAX_NOTE_CHARS = 2000
_IMAGE = re.compile(r"<\s*img\b", re.I)

# field of the input -> column of the stored article an edit that leaves the field out keeps
EDITABLE = {"title": "title", "body": "body_html", "category": "category", "keywords": "keywords",
            "valid_from": "valid_from", "valid_to": "valid_to", "review_due_at": "review_due_at"}


class ArticleInput(BaseModel):
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    category: str | None = Field(default=None, max_length=50)  # categories.code
    unit: str | None = Field(default=None, max_length=50)  # units.code
    keywords: list[str] = Field(default_factory=list, max_length=MAX_KEYWORDS)
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None
    review_due_at: dt.datetime | None = None
    external_id: str | None = Field(default=None, max_length=200)

    @field_validator("title")
    @classmethod
    def _plain_title(cls, value: str) -> str:
        # plain text, shown as text everywhere (the chatbot, the console, search): tags dropped, entities
        # read ("&lt;" is "<"), white space one space; a title of nothing else is empty
        title = plain_title(value)
        if not title:
            raise ValueError("不能为空")
        return title

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str):
        # only spaces, or a body of nothing but tags the sanitizer drops (<script>…): nothing to publish
        if not plain_text(clean_html(value)).strip():
            if _IMAGE.search(value):  # images are not kept (knowledge.sanitize): say so, not just "empty"
                raise ValueError("不能只有图片：正文只保存文字，图片不会保存，请录入图片中的文字内容")
            raise ValueError("不能为空")
        return value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None):
        return (value or "").strip() or None

    @field_validator("keywords", mode="before")
    @classmethod
    def _strip_keywords(cls, value):
        if value is None:  # an explicit null clears them
            return []
        if isinstance(value, list):  # counted and measured without surrounding spaces; blank ones dropped
            return [k.strip() if isinstance(k, str) else k for k in value if not isinstance(k, str) or k.strip()]
        return value

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        for n, word in enumerate(value, 1):
            if len(word) > MAX_KEYWORD_CHARS:
                raise ValueError(f"第 {n} 个关键词超过 {MAX_KEYWORD_CHARS} 个字符")
        return value

    @field_validator("valid_from", "valid_to", "review_due_at", mode="before")
    @classmethod
    def _plain_date(cls, value, info):
        # "2026-12-31": that day in China time; valid_from from its start, valid_to and review_due_at to its end
        if is_day(value):
            return day_start_or_end(value, end_of_day=info.field_name != "valid_from")
        return value

    @field_validator("valid_from", "valid_to", "review_due_at")
    @classmethod
    def _aware(cls, value):
        if value is not None and value.tzinfo is None:
            raise ValueError("日期需要带时区")
        return value


_LINK_TAG = re.compile(r"</?a\b[^>]*>", re.IGNORECASE)


def plain_title(value: str) -> str:
    """A title as plain text: what a reader of it as HTML would see, on one line (``<b>燃气</b>开户`` →
    燃气开户, ``A &lt; B`` → A < B, ``收入<3000元`` unchanged); stable when applied again."""
    return " ".join(plain_text(_LINK_TAG.sub("", clean_html(value or ""))).split())  # a link: its text only


def parse_input(data: dict[str, Any]) -> ArticleInput:
    try:
        item = ArticleInput.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(x) for x in first["loc"]]
        field = ".".join([*loc[:-1], field_name(loc[-1])]) if loc else "请求体"
        raise InvalidInput(f"字段 {field} 不合法：{error_text(first)}") from None
    if item.valid_from and item.valid_to and item.valid_from > item.valid_to:
        raise InvalidInput(f"字段 {field_name('valid_to')} 不合法：失效日期不能早于生效日期")
    return item


def edited(current: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """An edit's input: the fields it leaves out keep the article's current values (an explicit null
    clears the category, keywords or a date; the unit stays unless another one is named)."""
    return {**{name: current[column] for name, column in EDITABLE.items()}, **data}


def check_note(note) -> str | None:
    """A workflow note (a reason for sending back, 已核实 …): text of at most :data:`MAX_NOTE_CHARS`."""
    if note is None:
        return None
    if not isinstance(note, str):
        raise InvalidInput("note 必须是字符串")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"note 不能超过 {MAX_NOTE_CHARS} 字")
    return note
