"""pydantic validation errors in plain Chinese, for API answers and CLI messages alike."""

from __future__ import annotations

import pydantic

# pydantic error type -> message; ``{…}`` fields come from the error's ``ctx``.
MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_type": "必须是字符串",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "int_from_float": "必须是整数",
    "float_type": "必须是数字",
    "float_parsing": "必须是数字",
    "bool_type": "必须是 true 或 false",
    "bool_parsing": "必须是 true 或 false",
    "greater_than": "必须大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "必须小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "literal_error": "只能是 {expected}",
    "enum": "只能是 {expected}",
    "dict_type": "必须是对象",
    "list_type": "必须是数组",
    "datetime_type": "必须是日期时间",
    "datetime_parsing": "日期时间格式不正确",
    "datetime_from_date_parsing": "日期时间格式不正确",
    "date_parsing": "日期格式不正确",
    "date_from_datetime_parsing": "日期格式不正确",
    "json_invalid": "不是合法的 JSON",
    "model_type": "必须是对象",
    "model_attributes_type": "必须是对象",
    "url_parsing": "网址格式不正确",
}


def error_text(err: dict) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in Chinese."""
    kind = err.get("type", "")
    if kind == "string_too_short" and (err.get("ctx") or {}).get("min_length") == 1:
        return "不能为空"
    template = MESSAGES.get(kind)
    if template is None:
        if kind == "value_error":  # our own validators raise Chinese messages
            return str(err.get("ctx", {}).get("error", err.get("msg", ""))).removeprefix("Value error, ")
        return "取值不正确"
    ctx = dict(err.get("ctx") or {})
    if "expected" in ctx:  # "'a', 'b' or 'c'" -> "a、b、c"
        ctx["expected"] = "、".join(p.strip(" '\"") for p in str(ctx["expected"]).replace(" or ", ", ").split(","))
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split("{")[0].strip() or "取值不正确"


def validation_message(exc: pydantic.ValidationError, where_default: str = "请求体") -> str:
    """Up to five errors as ``field：reason`` joined with ``；``."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or where_default
        parts.append(f"{where}：{error_text(err)}")
    return "；".join(parts)


MAX_ROW_ID = 2**31 - 1  # integer primary keys on both backends


def row_id(raw: str) -> int | None:
    """A row id typed in a path or on the command line: digits within 1 … 2³¹−1, else None (no such row;
    a larger number is not a database error)."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= MAX_ROW_ID:
        return None
    return int(raw)
