"""Languages for the reports: translated labels from reports/locales/<lang>.toml, and numbers, dates and
money formatted for the locale by Babel (CLDR data), so "1 234 567", "1,234,567" and "12,5 %" come out
as readers of each language expect.

A message file is flat TOML tables of strings; every file must have exactly the keys of ``en.toml`` with
the same ``{named}`` fields (tests/reports/test_i18n.py checks it). ``term()`` translates values from the
closed vocabularies the ledger uses (purposes, verdicts, '(undeclared)', ...); names (operators, outlets,
bots) are shown as they are.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale as BabelLocale
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_compact_decimal, format_currency, format_decimal, format_percent

from ledger.errors import ConfigError

LANGS = ("en", "ru", "kk")


@cache
def messages(lang: str) -> dict[str, str]:
    """Every message of one language, keyed 'table.key' (e.g. 'section.coverage.title')."""
    if lang not in LANGS:
        raise ConfigError(f"unknown language '{lang}'", key="--lang", allowed=LANGS, value=lang)
    text = resources.files("reports.locales").joinpath(f"{lang}.toml").read_text(encoding="utf-8")
    flat: dict[str, str] = {}
    _flatten(tomllib.loads(text), "", flat)
    return flat


def _flatten(node: dict[str, Any], prefix: str, into: dict[str, str]) -> None:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            _flatten(value, name + ".", into)
        else:
            into[name] = str(value)


@dataclass(frozen=True)
class Locale:
    """One language's labels and formats. ``Locale('ru').number(1234567)`` -> '1 234 567'."""

    lang: str

    def __post_init__(self) -> None:
        messages(self.lang)  # validates the language early

    @property
    def babel(self) -> BabelLocale:
        return BabelLocale.parse(self.lang)

    def t(self, key: str, **values: Any) -> str:
        """The message ``key``, with its ``{named}`` fields filled; a missing key is a programming error."""
        text = messages(self.lang).get(key)
        if text is None:
            raise KeyError(f"no message '{key}' in reports/locales/{self.lang}.toml")
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in messages(self.lang)

    def term(self, value: object) -> str:
        """A vocabulary value translated ('training' -> 'обучение'); anything else as it is."""
        text = "" if value is None else str(value)
        return messages(self.lang).get(f"term.{text}", text)

    def integer(self, value: int | Decimal) -> str:
        return format_decimal(value, format="#,##0", locale=self.lang)

    def decimal(self, value: Decimal | float, places: int = 2) -> str:
        pattern = "#,##0." + "0" * places if places else "#,##0"
        return format_decimal(value, format=pattern, locale=self.lang, decimal_quantization=True)

    def percent(self, share: Decimal | float, places: int = 1) -> str:
        pattern = "#,##0." + "0" * places + "%" if places else "#,##0%"
        return format_percent(share, format=pattern, locale=self.lang, decimal_quantization=True)

    def compact(self, value: int | float | Decimal) -> str:
        """Short axis labels: 1.2M, 1,2 млн."""
        if abs(value) < 10_000:
            return self.integer(int(value)) if float(value).is_integer() else self.decimal(Decimal(str(value)), 1)
        return format_compact_decimal(value, format_type="short", locale=self.lang, fraction_digits=1)

    def money(self, amount: Decimal, currency: str) -> str:
        return format_currency(amount, currency, locale=self.lang, currency_digits=True)

    def date(self, value: date, style: str = "medium") -> str:
        return format_date(value, format=style, locale=self.lang)

    def day_month(self, value: date) -> str:
        """A short date for chart axes: 'Oct 5', '5 окт.'."""
        return format_skeleton("MMMd", value, locale=self.lang)

    def datetime(self, value: datetime) -> str:
        """A UTC time with its zone named, e.g. '1 Nov 2026, 06:00:00 UTC'."""
        return format_datetime(value.astimezone(UTC), format="medium", tzinfo=UTC, locale=self.lang) + " UTC"

    def period(self, start: date, last: date) -> str:
        """'1–31 October 2026' in the locale's own interval form."""
        from babel.dates import format_interval

        if start == last:
            return self.date(start, "long")
        return format_interval(start, last, skeleton="yMMMMd", locale=self.lang)
