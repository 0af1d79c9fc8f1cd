"""Reading one key of a scheme table: typed, bounded, with a message that names the key and the fix.

Every reader appends to ``Problems`` instead of raising, so a file's problems are all reported at once.
Numbers are ``Decimal`` (TOML floats are read as decimals by the parser; strings such as "2.50" work
too). Tables of numbers and lists of strings are normalised (sorted) so that order never changes a
scheme's hash; lists whose order matters (steps, sections) keep it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import duckdb

from ledger.errors import did_you_mean


class Problems:
    """Problems found in a schemes file, in the order they were found."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, scheme: str, key: str, message: str) -> None:
        self.items.append(f"scheme '{scheme}': {key}: {message}")

    def __len__(self) -> int:
        return len(self.items)


def choices_text(allowed: Iterable[str]) -> str:
    return ", ".join(allowed)


def number(
    p: Problems,
    scheme: str,
    key: str,
    value: Any,
    *,
    low: Decimal | None = Decimal(0),
    high: Decimal | None = None,
    above: bool = False,
    places: int | None = None,
) -> Decimal | None:
    """A finite decimal within bounds (``above``: strictly greater than ``low``), or None after a problem."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str | float):
        p.add(scheme, key, f"must be a number, got {value!r}")
        return None
    try:
        result = Decimal(str(value).strip().replace("_", ""))
    except InvalidOperation:
        p.add(scheme, key, f"'{value}' is not a number")
        return None
    finite = result.is_finite()
    too_low = finite and low is not None and (result <= low if above else result < low)
    if not finite or too_low or (high is not None and result > high):
        if above:
            bounds = f"greater than {low}" + (f" and at most {high}" if high is not None else "")
        else:
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        p.add(scheme, key, f"must be {bounds}, got {value}")
        return None
    if places is not None and result != result.quantize(Decimal(1).scaleb(-places), rounding="ROUND_DOWN"):
        p.add(scheme, key, f"at most {places} decimal places, got {value}")
        return None
    return result


def whole(p: Problems, scheme: str, key: str, value: Any, *, low: int = 0, high: int | None = None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        limit = f">= {low}" if high is None else f"from {low} to {high}"
        p.add(scheme, key, f"must be a whole number {limit}, got {value!r}")
        return None
    return value


def choice(p: Problems, scheme: str, key: str, value: Any, allowed: tuple[str, ...]) -> str | None:
    if value not in allowed:
        hint = did_you_mean(str(value), allowed)
        p.add(scheme, key, f"{value!r}{hint} (allowed: {choices_text(allowed)})")
        return None
    return str(value)


def boolean(p: Problems, scheme: str, key: str, value: Any) -> bool | None:
    if not isinstance(value, bool):
        p.add(scheme, key, "must be true or false")
        return None
    return value


def text(p: Problems, scheme: str, key: str, value: Any) -> str | None:
    if not isinstance(value, str):
        p.add(scheme, key, f"must be a string, got {value!r}")
        return None
    return value


def strings(
    p: Problems, scheme: str, key: str, value: Any, allowed: tuple[str, ...] | None = None
) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        p.add(scheme, key, "must be a list of strings")
        return None
    bad = False
    for item in value:
        if allowed is not None and item not in allowed:
            hint = did_you_mean(item, allowed)
            p.add(scheme, key, f"unknown value '{item}'{hint} (allowed: {choices_text(allowed)})")
            bad = True
    return None if bad else tuple(sorted(set(value)))


def numbers(
    p: Problems,
    scheme: str,
    key: str,
    value: Any,
    *,
    allowed: tuple[str, ...] | None = None,
    example: str = "{training = 2.5, search = 1}",
    low: Decimal | None = Decimal(0),
    high: Decimal | None = None,
    places: int | None = None,
) -> tuple[tuple[str, Decimal], ...] | None:
    """A table name -> number, sorted by name; ``allowed`` restricts the names."""
    if not isinstance(value, dict):
        p.add(scheme, key, f"must be a table, e.g. {example}")
        return None
    before = len(p)
    found: dict[str, Decimal] = {}
    for name, raw in value.items():
        if allowed is not None and name not in allowed:
            hint = did_you_mean(name, allowed)
            p.add(scheme, f"{key}.{name}", f"unknown{hint} (allowed: {choices_text(allowed)})")
            continue
        parsed = number(p, scheme, f"{key}.{name}", raw, low=low, high=high, places=places)
        if parsed is not None:
            found[name] = parsed
    return None if len(p) > before else tuple(sorted(found.items()))


def statuses(p: Problems, scheme: str, value: Any) -> tuple[tuple[int, int], ...] | None:
    items = value if isinstance(value, list) else [value]
    ranges = []
    before = len(p)
    for item in items:
        code = str(item).strip().lower()
        if re.fullmatch(r"[1-5]xx", code):
            ranges.append((int(code[0]) * 100, int(code[0]) * 100 + 99))
        elif re.fullmatch(r"[1-5]\d\d", code):
            ranges.append((int(code), int(code)))
        else:
            p.add(scheme, "statuses", f"'{item}' is not a status (200) or a class (2xx)")
    return None if len(p) > before else tuple(sorted(set(ranges)))


def status_texts(ranges: tuple[tuple[int, int], ...]) -> list[str]:
    """The inverse of ``statuses``: (200, 299) -> '2xx', (304, 304) -> '304'."""
    return [f"{low // 100}xx" if high - low == 99 else str(low) for low, high in ranges]


def regexes(p: Problems, scheme: str, key: str, value: Any) -> tuple[str, ...] | None:
    patterns = strings(p, scheme, key, value)
    if patterns is None:
        return None
    before = len(p)
    for pattern in patterns:
        problem = regex_problem(pattern)
        if problem:
            p.add(scheme, key, f"'{pattern}' is not a valid regular expression (as the ledger runs it, RE2: {problem})")
    return None if len(p) > before else patterns


def regex_problem(pattern: str) -> str | None:
    """Why DuckDB (RE2: no look-around, no back-references) cannot run ``pattern``, or None."""
    try:
        duckdb.execute("SELECT regexp_matches('', ?)", [pattern])
    except duckdb.Error as exc:
        return str(exc).splitlines()[0]
    return None


def steps(p: Problems, scheme: str, key: str, value: Any) -> tuple[tuple[Decimal, Decimal], ...] | None:
    """Freshness steps: a list of [max_age_days, weight] pairs with increasing ages."""
    example = "[[1, 2.0], [7, 1.5], [30, 1.0]]"
    if not isinstance(value, list) or not value:
        p.add(scheme, key, f"must be a non-empty list of [max_age_days, weight] pairs, e.g. {example}")
        return None
    found: list[tuple[Decimal, Decimal]] = []
    before = len(p)
    for index, item in enumerate(value):
        if not isinstance(item, list) or len(item) != 2:
            p.add(scheme, f"{key}[{index}]", f"must be a [max_age_days, weight] pair, e.g. {example}")
            continue
        age = number(p, scheme, f"{key}[{index}]", item[0], above=True)
        weight = number(p, scheme, f"{key}[{index}]", item[1], high=Decimal(1000), places=6)
        if age is not None and weight is not None:
            found.append((age, weight))
    if len(p) == before and any(b[0] <= a[0] for a, b in itertools.pairwise(found)):
        p.add(scheme, key, "ages must increase from one step to the next")
    return None if len(p) > before else tuple(found)


def sections(p: Problems, scheme: str, key: str, value: Any) -> tuple[tuple[str, Decimal], ...] | None:
    """Path rates: a list of {path = "<regex>", multiplier = <number>} tables; the first match wins."""
    example = '[{path = "^/premium/", multiplier = 2}]'
    if not isinstance(value, list):
        p.add(scheme, key, f"must be a list of tables, e.g. {example}")
        return None
    found: list[tuple[str, Decimal]] = []
    before = len(p)
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(item, dict) or set(item) != {"path", "multiplier"}:
            p.add(scheme, where, f"must be a table with exactly path and multiplier, e.g. {example}")
            continue
        pattern = text(p, scheme, f"{where}.path", item["path"])
        problem = regex_problem(pattern) if pattern is not None else None
        if problem:
            p.add(scheme, f"{where}.path", f"'{pattern}' is not a valid regular expression (RE2: {problem})")
        rate = number(p, scheme, f"{where}.multiplier", item["multiplier"], places=6)
        if pattern is not None and rate is not None and not problem:
            found.append((pattern, rate))
    return None if len(p) > before else tuple(found)
