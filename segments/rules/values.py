"""How condition values and data values are read: dates, durations, text folding.

Both evaluators (Python and SQL) rely on these definitions, so they are kept to
what both SQLite and PostgreSQL can do the same way.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

# "7d", "12h", "2w", "30m": a duration; a leading sign makes it a point in time.
DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
RELATIVE = re.compile(r"^([+-])(\d{1,6})([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# A date in the data: an ISO day, alone or followed by a time ("2025-01-31",
# "2025-01-31T10:00:00Z"). It compares by the day written in it. \Z, not $: a
# Python $ also matches before a final newline, which SQL's patterns do not.
DATA_DAY = re.compile(r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}([T ]|\Z)")

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """Case-fold as SQLite's LOWER() does: ASCII letters only."""
    return text.translate(_ASCII_LOWER)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def data_day(value: Any) -> str | None:
    """The day a data value names ("YYYY-MM-DD"), or None if it names none."""
    if not isinstance(value, str) or not DATA_DAY.match(value):
        return None
    month, day = value[5:7], value[8:10]
    if not ("01" <= month <= "12" and "01" <= day <= "31"):
        return None
    return value[:10]


def parse_duration(value: Any) -> timedelta | None:
    """A positive number of days, or "7d", "12h", "2w", "30m"."""
    if is_number(value) and value > 0 and float(value).is_integer():
        return timedelta(days=int(value))
    if isinstance(value, str) and (found := DURATION.match(value)):
        amount = int(found[1])
        return timedelta(**{UNITS[found[2]]: amount}) if amount else None
    return None


@dataclass(frozen=True)
class When:
    """A point in time from a condition value. `day` is set when the value named a
    whole day ("2025-01-31"): then `at` is that day's start in UTC."""

    at: datetime
    day: bool

    @property
    def date_text(self) -> str:
        return self.at.astimezone(UTC).date().isoformat()

    @property
    def day_end(self) -> datetime:
        return datetime.combine(self.at.date() + timedelta(days=1), time(), UTC)


def is_when(value: Any) -> bool:
    return parse_when(value, datetime.now(UTC)) is not None


def parse_when(value: Any, now: datetime) -> When | None:
    """ "2025-01-31", an ISO datetime (UTC if it has no offset), "now", "-7d"."""
    if not isinstance(value, str):
        return None
    if value == "now":
        return When(now, day=False)
    if found := RELATIVE.match(value):
        delta = timedelta(**{UNITS[found[3]]: int(found[2])})
        try:
            return When(now + delta if found[1] == "+" else now - delta, day=False)
        except OverflowError:  # before year 1 or after year 9999
            return None
    if ISO_DAY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return None
        return When(datetime.combine(day, time(), UTC), day=True)
    try:
        at = datetime.fromisoformat(value)
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        at.astimezone(UTC)  # both evaluators compare in UTC: it must exist there
    except (ValueError, OverflowError):
        return None
    return When(at, day=False)


def is_relative(value: Any) -> bool:
    """Does this value mean something different tomorrow?"""
    return isinstance(value, str) and (value == "now" or bool(RELATIVE.match(value)))
