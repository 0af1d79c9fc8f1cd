"""Reporting periods: months and days within the times a ledger holds, or a clear error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.errors import ConfigError
from ledger.period import ALL_TIME, END, FIRST, Period, resolve_period


def test_the_times_a_ledger_holds_are_all_time() -> None:
    assert (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)) == (FIRST, END)
    assert (ALL_TIME.start, ALL_TIME.end) == (FIRST, END)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("1970-01", datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 2, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("9998-12", datetime(9998, 12, 1, tzinfo=UTC), END),
    ],
)
def test_a_month_runs_from_its_first_day_to_the_next_month_s(text: str, start: datetime, end: datetime) -> None:
    assert Period.month(text) == Period(text, start, end)


@pytest.mark.parametrize("text", ["0000-01", "0001-01", "1969-12", "9999-01", "9999-12"])
def test_a_month_outside_the_times_a_ledger_holds_is_a_clear_error(text: str) -> None:
    """9999-12 ended in "internal error: ValueError: year 10000 is out of range", 0000-01 in "year 0"."""
    with pytest.raises(ConfigError, match=rf"'{text}' is outside the months a ledger holds \(1970-01 to 9998-12\)"):
        Period.month(text)


def test_the_first_and_last_days_a_ledger_holds_are_a_period() -> None:
    period = Period.days("1970-01-01", "9998-12-31")
    assert (period.start, period.end) == (FIRST, END)


@pytest.mark.parametrize(
    ("first", "last", "option", "bad"),
    [
        ("9999-12-31", "9999-12-31", "--from", "9999-12-31"),  # was "internal error: OverflowError"
        ("2026-10-01", "9999-01-01", "--to", "9999-01-01"),
        ("0001-01-01", "2026-10-01", "--from", "0001-01-01"),
        ("1969-12-31", "1970-01-31", "--from", "1969-12-31"),
    ],
)
def test_days_outside_the_times_a_ledger_holds_are_a_clear_error(first: str, last: str, option: str, bad: str) -> None:
    with pytest.raises(ConfigError, match=rf"'{bad}' is outside the days a ledger holds") as raised:
        resolve_period(None, first, last)
    assert raised.value.key == option
