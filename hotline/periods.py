"""Report periods: local calendar days (both ends inclusive) as a UTC half-open range."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


MAX_DAYS = 3660
# Dates a period may name: far enough apart for any report, and near enough that no time-zone shift or added day
# leaves the range Python's datetime can hold (0001-01-01 and 9999-12-31 used to end in OverflowError).
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)


def today_in(zone: str) -> dt.date:
    return dt.datetime.now(ZoneInfo(zone)).date()


def local_period(since: str | None, until: str | None, zone: str, today: dt.date, days: int = 30
                 ) -> tuple[dt.datetime, dt.datetime]:
    """Local dates (YYYY-MM-DD, both inclusive; default the last ``days`` days up to today) as a UTC range."""
    def parse(value: str, name: str) -> dt.date:
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{name}日期格式应为 YYYY-MM-DD：{value}") from None
        if not MIN_DATE <= day <= MAX_DATE:
            raise ValueError(f"{name}日期超出范围：{value}（应在 {MIN_DATE} 至 {MAX_DATE} 之间）")
        return day

    last = parse(until, "结束") if until else today
    first = parse(since, "开始") if since else last - dt.timedelta(days=days - 1)
    if first > last:
        raise ValueError("开始日期不能晚于结束日期")
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(first, dt.time(), tz).astimezone(dt.timezone.utc)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.timezone.utc)
    return start, end


def query_period(query, zone: str, today: dt.date | None = None, default_days: int = 30
                 ) -> tuple[dt.datetime, dt.datetime]:
    """A report request's ``?since=&until=&days=``; a ValueError carries the Chinese reason."""
    try:
        days = int(query.get("days") or default_days)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days 应为 1 到 {MAX_DAYS} 之间的整数")
    return local_period(query.get("since"), query.get("until"), zone, today or today_in(zone), days)
