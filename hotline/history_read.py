"""Reading a history file for ``hotline tickets import``: rows, encodings, dates and request types.

Rows are numbered as :func:`knowledge.evaluate.numbered_rows` numbers them (a CSV row as a spreadsheet
shows it, the header being row 1; a JSONL row by its line), so messages read the same as ``hotline kb
import``'s. Unlike the knowledge base import, a CSV may also be GBK (GB18030), as Excel on a Chinese
Windows saves it: the file is read as UTF-8 (a BOM is allowed) and, when that fails, as GB18030.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.lifecycle import REQUEST_TYPES
from knowledge.evaluate import InputError, rows_in
from knowledge.importer import require_content

ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 reads GBK and GB2312 too
JSONL_SUFFIXES = (".jsonl", ".ndjson")

# 2019/4/25 9:32:09, 2019-4-25 9:32, 2019.04.25, 2019年4月25日 9时32分 ... (ISO forms go to fromisoformat)
_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T|\s*)(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2})(?:[.,](\d{1,6}))?\s*秒?|分)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?")
DATE_EXAMPLES = "如 2019/4/25 9:32:09、2019-04-25 09:32:09 或 2019-04-25T09:32:09+08:00"

# Request types as other systems write them -> ours. Anything else not in REQUEST_TYPES fails its row.
TYPE_ALIASES = {"意见": "建议", "意见建议": "建议", "求决": "求助", "求助求决": "求助", "感谢": "表扬",
                "表扬感谢": "表扬", "投诉举报": "投诉", "查询": "咨询", "咨询查询": "咨询"}


def scan(path: str | Path) -> tuple[int, str]:
    """(data rows, encoding) of the file; InputError for a missing, empty or unreadable one."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"文件不存在：{path}")
    require_content(path)
    encodings = ENCODINGS[:1] if path.suffix.lower() in JSONL_SUFFIXES else ENCODINGS
    for encoding in encodings:
        try:
            count = sum(1 for _ in numbered_rows(path, encoding))
        except UnicodeDecodeError:
            continue
        if not count:
            raise InputError(f"{path.name} 没有数据行")
        return count, encoding
    if len(encodings) == 1:
        raise InputError(f"JSONL 文件必须是 UTF-8 编码：{path.name}")
    raise InputError(f"无法识别文件编码：{path.name}（CSV 请保存为 UTF-8 或 GBK 编码）")


def numbered_rows(path: Path, encoding: str) -> Iterator[tuple[int, Any]]:
    """``(number, row)`` for each row of a CSV or JSONL file read in ``encoding`` (UnicodeDecodeError when
    it is not that encoding); CSV rows whose cells are all blank are left out."""
    csv_file = path.suffix.lower() not in JSONL_SUFFIXES
    for number, row in rows_in(path, encoding):
        if csv_file and not any((v or "").strip() for k, v in row.items() if k is not None):
            continue
        yield number, row


def parse_time(value: str, tz: str) -> dt.datetime:
    """A date and time as history files write them; a time without a zone is local (``tz``); a date
    alone is that day's start. ValueError when it is none of these."""
    value = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        match = _DATE.fullmatch(value)
        if match is None:
            raise ValueError(value) from None
        y, mo, d, h, mi, s, frac, zone = match.groups()
        parsed = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                             int((frac or "0").ljust(6, "0")))
        if zone:
            parsed = dt.datetime.fromisoformat(parsed.isoformat() + ("+00:00" if zone == "Z" else
                                                                      zone[:3] + ":" + zone[-2:]))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))


def request_type(value: str | None, default: str) -> str:
    """A request type cell: one of REQUEST_TYPES (咨询类 as 咨询, a few other systems' words mapped);
    ``default`` when blank. ValueError with the Chinese reason for anything else."""
    name = (value or "").strip()
    if not name:
        return default
    name = TYPE_ALIASES.get(name, name)
    if name not in REQUEST_TYPES and name.endswith("类") and name[:-1] in REQUEST_TYPES:
        name = name[:-1]
    if name not in REQUEST_TYPES:
        raise ValueError(f"诉求类型 {value.strip()} 不合法（可用：{'、'.join(REQUEST_TYPES)}）")
    return name
