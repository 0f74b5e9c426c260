"""Safe parsing of WeChat's flat XML: no DOCTYPE, no entities, no external anything."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from channels.base import MalformedPayload

_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(data: bytes | str) -> dict:
    """``<xml><A>1</A><B><C>2</C></B></xml>`` -> ``{"A": "1", "B": {"C": "2"}}``."""
    raw = data.encode() if isinstance(data, str) else data
    if _FORBIDDEN.search(raw):
        raise MalformedPayload("XML 中不允许 DOCTYPE 或实体声明")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise MalformedPayload(f"XML 格式错误：{exc}") from None
    if root.tag != "xml":
        raise MalformedPayload("XML 根元素必须是 <xml>")
    return _children(root)


def _children(node: ET.Element) -> dict:
    out: dict = {}
    for child in node:
        out[child.tag] = _children(child) if len(child) else (child.text or "").strip()
    return out
