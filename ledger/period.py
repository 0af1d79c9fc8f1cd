"""Reporting periods: a UTC month (``2026-10``) or an inclusive range of UTC days (``--from``/``--to``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ledger.errors import ConfigError

# The times a ledger holds: a log line outside them is rejected with its reason (no access log predates
# 1970, and a month after December 9998 would end in a year Python's datetime does not hold), and every
# period is within them, so all time (``ALL_TIME``) holds every fetch stored.
FIRST = datetime(1970, 1, 1, tzinfo=UTC)
END = datetime(9999, 1, 1, tzinfo=UTC)  # exclusive
HELD = f"{FIRST:%Y-%m-%d} to {(END - timedelta(days=1)):%Y-%m-%d}"  # the range in words, in messages


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive, UTC
    end: datetime  # exclusive, UTC

    @classmethod
    def month(cls, text: str) -> Period:
        match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ConfigError(f"'{text}' is not a month; write it as YYYY-MM, e.g. 2026-10", key="--period")
        year, month = int(match.group(1)), int(match.group(2))
        if not FIRST.year <= year < END.year:
            raise ConfigError(
                f"'{text}' is outside the months a ledger holds ({FIRST:%Y-%m} to {END.year - 1}-12)", key="--period"
            )
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return cls(f"{year:04d}-{month:02d}", start, end)

    @classmethod
    def days(cls, first: str, last: str) -> Period:
        start, stop = _date(first, "--from"), _date(last, "--to")
        if stop < start:
            raise ConfigError(f"--to {last} is before --from {first}", key="--to")
        return cls(
            f"{start.isoformat()}..{stop.isoformat()}",
            datetime(start.year, start.month, start.day, tzinfo=UTC),
            datetime(stop.year, stop.month, stop.day, tzinfo=UTC) + timedelta(days=1),
        )


def _date(text: str, option: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"'{text}' is not a date; write it as YYYY-MM-DD", key=option) from None
    if not FIRST.date() <= day < END.date():
        raise ConfigError(f"'{text}' is outside the days a ledger holds ({HELD})", key=option)
    return day


def resolve_period(period: str | None, first: str | None, last: str | None) -> Period | None:
    """The period named by the CLI options, or None for all time."""
    if period and (first or last):
        raise ConfigError("give either --period or --from/--to, not both", key="--period")
    if period:
        return Period.month(period)
    if first or last:
        if not (first and last):
            raise ConfigError("--from and --to go together", key="--from" if not first else "--to")
        return Period.days(first, last)
    return None


ALL_TIME = Period("all", FIRST, END)
