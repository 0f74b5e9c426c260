"""Working-time deadlines on China's official calendar (real 2025/2026 holidays and 调休 days)."""

import datetime as dt

import pytest

from hotline.workcal import DeadlinePolicy, WorkingCalendar, light

CST = dt.timezone(dt.timedelta(hours=8))
cal = WorkingCalendar()


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


@pytest.mark.parametrize("start, days, expected", [
    # Friday before Spring Festival 2026: Sat 02-14 is a make-up working day, 02-15..02-23 are off.
    (at(2026, 2, 13, 10), 1, at(2026, 2, 14, 10)),
    (at(2026, 2, 13, 10), 3, at(2026, 2, 25, 10)),
    # National Day 2025: Sun 09-28 is a make-up working day, 10-01..10-08 are off, Sat 10-11 works.
    (at(2025, 9, 26, 10), 3, at(2025, 9, 30, 10)),
    (at(2025, 9, 30, 15), 5, at(2025, 10, 14, 15)),
    # An ordinary weekend is skipped.
    (at(2026, 11, 20, 10), 1, at(2026, 11, 23, 10)),
    # Created at night: the clock starts the next working morning; the deadline is end of that day.
    (at(2026, 11, 23, 22), 1, at(2026, 11, 24, 18)),
    # National Day 2026: 10-01..10-07 off, Sat 10-10 is a make-up working day.
    (at(2026, 9, 30, 16), 5, at(2026, 10, 13, 16)),
])
def test_working_days_follow_the_official_calendar(start, days, expected):
    assert cal.add_days(start, days) == expected


def test_a_year_the_calendar_package_does_not_know_still_keeps_the_fixed_date_holidays():
    from hotline import workcal

    import chinese_calendar

    with pytest.raises(NotImplementedError):  # the installed package stops at 2026
        chinese_calendar.is_workday(dt.date(2027, 1, 1))
    # dispatched on the afternoon of 31 December: signed for on Monday 4 January, not on New Year's Day
    assert cal.add_hours(at(2026, 12, 31, 17), 2) == at(2027, 1, 4, 10)
    assert cal.add_days(at(2027, 4, 30, 10), 1) == at(2027, 5, 3, 10)  # 劳动节: 1 and 2 May (a weekend here)
    assert cal.add_days(at(2027, 9, 30, 10), 1) == at(2027, 10, 4, 10)  # 国庆节: 1 to 3 October
    assert 2027 in workcal._warned_years  # and the operator was told once in the log


def test_working_hours_skip_lunch_and_nights():
    assert cal.add_hours(at(2026, 11, 23, 11), 2) == at(2026, 11, 23, 14)
    assert cal.add_hours(at(2026, 11, 23, 17), 2) == at(2026, 11, 24, 10)
    # Friday afternoon before the make-up Saturday of Spring Festival 2026.
    assert cal.add_hours(at(2026, 2, 13, 17), 2) == at(2026, 2, 14, 10)


def test_between_counts_only_working_time():
    assert cal.between(at(2026, 2, 13, 9), at(2026, 2, 24, 9)) == 2 * cal.day_seconds
    assert cal.between(at(2026, 11, 24, 9), at(2026, 11, 23, 9)) == -cal.day_seconds


def test_policy_defaults_and_category_override():
    policy = DeadlinePolicy(category_days={"C08": 2, "C0801": 1})
    assert [policy.days_for(t, None) for t in ("咨询", "求助", "投诉", "举报", "建议")] == [1, 3, 5, 5, 10]
    assert policy.days_for("投诉", "C080101") == 1
    assert policy.days_for("投诉", "C0802") == 2
    assert policy.days_for("投诉", "C01") == 5


def test_lights_green_yellow_red():
    start = at(2026, 11, 23, 9)
    budget = 5 * cal.day_seconds
    due = cal.add_days(start, 5)
    assert light(cal, start, due, budget) == "green"
    # 20 % of five working days is one working day.
    assert light(cal, at(2026, 11, 27, 9, 1), due, budget) == "yellow"
    assert light(cal, at(2026, 11, 26, 17), due, budget) == "green"
    assert light(cal, due, due, budget) == "red"
    assert light(cal, start, None, None) is None


def test_policy_from_settings_overrides_defaults_and_rejects_unknown_keys():
    policy = DeadlinePolicy.from_settings({"sign_hours": 1, "reply_days": {"咨询": 2}, "category_days": {"C08": 1}})
    assert (policy.sign_hours, policy.days_for("咨询", None), policy.days_for("求助", None)) == (1, 2, 3)
    assert policy.days_for("建议", "C0801") == 1
    with pytest.raises(ValueError, match="colour"):
        DeadlinePolicy.from_settings({"colour": "red"})


def test_deadlines_come_from_the_environment(monkeypatch):
    from hotline.config import Settings
    from hotline.service import TicketService

    monkeypatch.setenv("HOTLINE_DEADLINES", '{"reply_days": {"投诉": 7}}')
    service = TicketService(engine=None, settings=Settings())
    assert service.policy.days_for("投诉", None) == 7
