"""Usage and referral tables: counts grouped by the fields a user names, over a UTC period."""

from __future__ import annotations

import pyarrow as pa

from ledger.errors import ConfigError
from ledger.period import ALL_TIME, Period
from ledger.store.db import Ledger, named_query

USAGE_FIELDS = ("outlet", "operator", "bot", "purpose", "verification", "attribution", "day", "month")
REFERRAL_FIELDS = ("outlet", "operator", "product", "day", "month")


def parse_fields(text: str, allowed: tuple[str, ...], option: str = "--by") -> list[str]:
    """``outlet,operator`` -> ['outlet', 'operator'], each checked against ``allowed``."""
    fields = [f.strip() for f in text.split(",") if f.strip()]
    if not fields:
        raise ConfigError("name at least one field", key=option, allowed=allowed)
    for field in fields:
        if field not in allowed:
            raise ConfigError(f"unknown field '{field}'", key=option, allowed=allowed, value=field)
    if len(set(fields)) != len(fields):
        raise ConfigError("a field is named twice", key=option)
    return fields


def _grouped(base: str, fields: list[str], measures: str, order: str) -> str:
    # Field names come from the allow-lists above, never from user text; values are bound parameters.
    columns = ", ".join(fields)
    return f"SELECT {columns}, {measures} FROM ({base}) GROUP BY {columns} ORDER BY {order}, {columns}"


def usage(
    ledger: Ledger,
    period: Period | None,
    by: list[str],
    *,
    ai_only: bool = True,
    include_undeclared: bool = False,
) -> pa.Table:
    """Fetches and distinct canonical URLs per group of ``by`` fields."""
    period = period or ALL_TIME
    sql = _grouped(
        named_query("usage_base"),
        by,
        "count(*) AS fetches, count(DISTINCT url) AS unique_urls",
        "fetches DESC",
    )
    params = {"start": period.start, "end": period.end, "ai_only": ai_only, "include_undeclared": include_undeclared}
    return ledger.arrow(sql, params)


def referrals(ledger: Ledger, period: Period | None, by: list[str]) -> pa.Table:
    """Visits referred by AI products per group of ``by`` fields."""
    period = period or ALL_TIME
    sql = _grouped(named_query("referrals_base"), by, "count(*) AS referrals", "referrals DESC")
    return ledger.arrow(sql, {"start": period.start, "end": period.end})
