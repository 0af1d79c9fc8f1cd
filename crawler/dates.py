"""Publication times as pages and sitemaps write them, read into timezone-aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_time(text: str | None) -> datetime | None:
    """W3C/ISO 8601 (``2026-10-15``, ``2026-10-15T10:00:00+05:00``, ``...Z``) or RFC 2822; else None.

    A time without an offset is taken as UTC; a date alone is midnight UTC.
    """
    if not text or not text.strip():
        return None
    value = text.strip()
    match = _YEAR_MONTH.match(value)
    if match:
        value = f"{value}-01"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 1990 <= parsed.year <= 2100:
        return None
    return parsed.astimezone(UTC)
