"""Dates the knowledge API takes: ISO dates or datetimes, a plain date meaning that day in China time.

One rule for every field and parameter: ``2026-12-31`` is that day in China time (UTC+8), its start
(00:00) or, for the end of a range (``valid_to``, ``review_due_at``, a search's ``date_to``), its last
microsecond (23:59:59.999999).
"""

from __future__ import annotations

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8))


def is_day(value) -> bool:
    """A date without a time (2026-01-31)."""
    if not isinstance(value, str):
        return False
    try:
        dt.date.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


def day_start_or_end(value: str, *, end_of_day: bool = False) -> dt.datetime:
    """A plain date as that day in China time: its start, or with ``end_of_day`` its last microsecond."""
    start = dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time(), CHINA)
    return start + dt.timedelta(days=1, microseconds=-1) if end_of_day else start


def parse_when(value: str, *, end_of_day: bool = False) -> dt.datetime:
    """An ISO date (:func:`day_start_or_end`) or datetime (China time when it names no zone); ValueError
    when it is neither."""
    if is_day(value):
        return day_start_or_end(value, end_of_day=end_of_day)
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CHINA)
