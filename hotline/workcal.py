"""Working time on China's official calendar, deadlines and traffic lights.

Working days come from ``chinesecalendar`` (statutory holidays and the
make-up working days, 调休); within a working day only the office sessions
count (default 09:00-12:00 and 13:00-18:00, Beijing time). Deadlines are
budgets of working seconds: "3 working days" is three full days of sessions.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)
UTC = dt.timezone.utc
DEFAULT_SESSIONS = ((dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 0), dt.time(18, 0)))


# Statutory holidays on fixed dates (全国年节及纪念日放假办法, 2025): 元旦, 劳动节 (two days), 国庆节 (three
# days). For a year ``chinesecalendar`` does not know yet, these at least are no working days; the lunar
# holidays and the 调休 of that year come with the package update that publishes the State Council's schedule.
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
_warned_years: set[int] = set()


def is_workday(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package does not know yet
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("chinesecalendar %s does not know %d: only weekends and fixed-date holidays (元旦, "
                        "劳动节, 国庆节) count for it; update chinesecalendar once the year's schedule is out",
                        getattr(chinese_calendar, "__version__", "?"), day.year)
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


class WorkingCalendar:
    def __init__(self, tz: str = "Asia/Shanghai", sessions=DEFAULT_SESSIONS) -> None:
        self.tz = ZoneInfo(tz)
        self.sessions = tuple(sessions)
        self.day_seconds = sum(
            (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)).seconds
            for start, end in self.sessions
        )

    def _windows(self, day: dt.date):
        if not is_workday(day):
            return
        for start, end in self.sessions:
            yield (dt.datetime.combine(day, start, self.tz), dt.datetime.combine(day, end, self.tz))

    def add(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The instant when ``seconds`` of working time have passed after ``start``."""
        cursor = start.astimezone(self.tz)
        remaining = float(seconds)
        day = cursor.date()
        for _ in range(3660):  # ten years of days is a safe bound
            for w_start, w_end in self._windows(day):
                if w_end <= cursor:
                    continue
                begin = max(w_start, cursor)
                available = (w_end - begin).total_seconds()
                if remaining <= available:
                    return (begin + dt.timedelta(seconds=remaining)).astimezone(UTC)
                remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("deadline beyond the calendar's range")

    def add_days(self, start: dt.datetime, days: float) -> dt.datetime:
        return self.add(start, days * self.day_seconds)

    def add_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        return self.add(start, hours * 3600)

    def between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working seconds from ``a`` to ``b`` (negative when b is before a)."""
        if b < a:
            return -self.between(b, a)
        a, b = a.astimezone(self.tz), b.astimezone(self.tz)
        total = 0.0
        day = a.date()
        while day <= b.date():
            for w_start, w_end in self._windows(day):
                lo, hi = max(w_start, a), min(w_end, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total

    def is_working_time(self, when: dt.datetime) -> bool:
        when = when.astimezone(self.tz)
        return any(s <= when < e for s, e in self._windows(when.date()))

    def next_working_time(self, when: dt.datetime) -> dt.datetime:
        """``when`` itself in office hours, else the start of the next session."""
        return self.add(when, 0)


@dataclass
class DeadlinePolicy:
    """How long units have: sign-for in working hours, replies in working days."""

    sign_hours: float = 2
    reply_days: dict[str, float] = field(
        default_factory=lambda: {"咨询": 1, "求助": 3, "投诉": 5, "举报": 5, "建议": 10, "表扬": 5}
    )
    # Category code (any level) -> working days; the deepest matching prefix wins.
    category_days: dict[str, float] = field(default_factory=dict)
    yellow_fraction: float = 0.2

    @classmethod
    def from_settings(cls, config: dict | None) -> "DeadlinePolicy":
        """Defaults, overridden by whatever keys the configuration gives."""
        policy = cls()
        config = config or {}
        unknown = set(config) - {"sign_hours", "reply_days", "category_days", "yellow_fraction"}
        if unknown:
            raise ValueError(f"未知的时限设置项：{', '.join(sorted(unknown))}"
                             "（可用：sign_hours、reply_days、category_days、yellow_fraction）")
        try:
            policy.sign_hours = float(config.get("sign_hours", policy.sign_hours))
            policy.reply_days = {**policy.reply_days,
                                 **{k: float(v) for k, v in dict(config.get("reply_days", {})).items()}}
            policy.category_days = {k: float(v) for k, v in dict(config.get("category_days", {})).items()}
            policy.yellow_fraction = float(config.get("yellow_fraction", policy.yellow_fraction))
        except (TypeError, ValueError):
            raise ValueError("时限设置中的小时数、天数和比例必须是数字") from None
        return policy

    def days_for(self, request_type: str, category_code: str | None) -> float:
        if category_code:
            for length in range(len(category_code), 0, -1):
                days = self.category_days.get(category_code[:length])
                if days is not None:
                    return days
        return self.reply_days.get(request_type, 5)


def light(calendar: WorkingCalendar, now: dt.datetime, due: dt.datetime | None, budget_seconds: float | None,
          yellow_fraction: float = 0.2) -> str | None:
    """green / yellow (≤ 20 % of the working time left) / red (overdue); None without a deadline."""
    if due is None:
        return None
    if now >= due:
        return "red"
    left = calendar.between(now, due)
    if budget_seconds and left <= yellow_fraction * budget_seconds:
        return "yellow"
    return "green"
