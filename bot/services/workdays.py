"""Working days and hours: Monday to Friday except French public holidays (the maintained
``holidays`` calendar, not a list of ours), and the hours within which a rep may be nudged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=16)
def _french_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", years=year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a French public holiday (25 December, 14 July, Easter
    Monday…)."""
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def previous_working_day(day: date) -> date:
    """The last working day before ``day`` (Friday for a Monday)."""
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class WorkingHours:
    """[start, end) local wall-clock hours on working days; nudges stay inside them."""

    start: time = time(8)
    end: time = time(19)

    def contains(self, local: datetime) -> bool:
        """True on a working day between ``start`` and ``end`` (``local`` in the rep's zone)."""
        return is_working_day(local.date()) and self.start <= local.time() < self.end
