"""Report periods: local calendar days, both ends inclusive, as UTC ranges; Chinese reasons for bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.periods import local_period, query_period

UTC = dt.timezone.utc
TODAY = dt.date(2026, 11, 23)


def test_local_days_are_inclusive_and_in_the_city_time_zone():
    start, end = local_period("2026-11-01", "2026-11-02", "Asia/Shanghai", TODAY)
    assert (start, end) == (dt.datetime(2026, 10, 31, 16, tzinfo=UTC), dt.datetime(2026, 11, 2, 16, tzinfo=UTC))


def test_default_is_the_last_days_up_to_today():
    start, end = local_period(None, None, "Asia/Shanghai", TODAY, days=7)
    assert (start, end) == (dt.datetime(2026, 11, 16, 16, tzinfo=UTC), dt.datetime(2026, 11, 23, 16, tzinfo=UTC))
    start, _ = local_period(None, "2026-11-10", "Asia/Shanghai", TODAY, days=1)
    assert start == dt.datetime(2026, 11, 9, 16, tzinfo=UTC)


@pytest.mark.parametrize("query, reason", [
    ({"since": "2026/11/01"}, "开始日期格式应为 YYYY-MM-DD"),
    ({"until": "yesterday"}, "结束日期格式应为 YYYY-MM-DD"),
    ({"since": "2026-11-02", "until": "2026-11-01"}, "开始日期不能晚于结束日期"),
    ({"days": "0"}, "days 应为 1 到 3660 之间的整数"),
    ({"days": "a week"}, "days 应为 1 到 3660 之间的整数"),
    ({"since": "0001-01-01"}, "开始日期超出范围：0001-01-01（应在 1900-01-01 至 2999-12-31 之间）"),
    ({"until": "9999-12-31"}, "结束日期超出范围：9999-12-31"),
    ({"since": "1899-12-31", "until": "2026-11-01"}, "开始日期超出范围"),
])
def test_bad_queries_have_chinese_reasons(query, reason):
    with pytest.raises(ValueError, match=reason):
        query_period(query, "Asia/Shanghai", TODAY)


def test_query_days():
    start, end = query_period({"days": "2"}, "Asia/Shanghai", TODAY)
    assert end - start == dt.timedelta(days=2)


def test_the_ends_of_the_date_range_are_accepted():
    start, end = local_period("1900-01-01", "2999-12-31", "Asia/Shanghai", TODAY)
    assert start.date() == dt.date(1899, 12, 31)  # local mean time then, +08:05:43
    assert end == dt.datetime(2999, 12, 31, 16, tzinfo=UTC)
    start, _ = local_period(None, "1900-01-01", "Asia/Shanghai", TODAY, days=3660)  # a default start before 1900
    assert start.year == 1889
