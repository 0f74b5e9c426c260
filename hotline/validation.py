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


# Fields a person meets in an error of the console or the API, named in Chinese with the field itself
# after it (原因(reason)), as actions are (派单(dispatch)): the name for the reader, the key for the caller.
FIELD_LABELS = {
    "text": "内容", "title": "标题", "reason": "原因", "note": "备注", "days": "天数", "lead_unit": "承办单位",
    "co_units": "协办单位", "category": "分类", "request_type": "诉求类型", "satisfaction": "满意度",
    "channel": "渠道", "intake_line": "热线号码", "address": "地址", "district": "区县", "phone": "电话",
    "citizen_name": "市民姓名", "user_id": "用户标识", "body": "正文", "keywords": "关键词", "unit": "单位",
    "status": "状态", "valid_from": "生效日期", "valid_to": "失效日期", "review_due_at": "复审日期",
    "extension_id": "延期申请", "target": "目标工单", "action": "操作", "attachments": "附件",
}


def field_name(field: str) -> str:
    """``reason`` -> ``原因(reason)``; a field without a Chinese name as it is."""
    label = FIELD_LABELS.get(field)
    return f"{label}({field})" if label else field


def error_line(err: dict, where_default: str = "请求体") -> str:
    """One pydantic error as ``field：reason`` (the field named by :func:`field_name`)."""
    loc = [str(p) for p in err.get("loc", ())]
    where = ".".join([*loc[:-1], field_name(loc[-1])]) if loc else where_default
    return f"{where}：{error_text(err)}"


def validation_message(exc: pydantic.ValidationError, where_default: str = "请求体") -> str:
    """Up to five errors as ``field：reason`` joined with ``；``."""
    return "；".join(error_line(err, where_default) for err in exc.errors()[:5])


MAX_ROW_ID = 2**31 - 1  # integer primary keys on both backends


def row_id(raw: str) -> int | None:
    """A row id typed in a path or on the command line: digits within 1 … 2³¹−1, else None (no such row;
    a larger number is not a database error)."""
    raw = (raw or "").strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 1 <= int(raw) <= MAX_ROW_ID:
        return None
    return int(raw)
