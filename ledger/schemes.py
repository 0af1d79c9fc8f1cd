"""Compensation schemes declared in TOML, parsed into frozen typed objects.

Every problem in a file is collected and reported at once (file, scheme, key, allowed values, a
did-you-mean), never the first one only. Numbers are read as ``Decimal`` (TOML floats included, so
``price = 2.5`` is exactly 2.5). Each scheme has a content hash over its canonical form, which settlement
runs record.

A file holds ``[schemes.<name>]`` tables; see docs/schemes.md for every key and its default.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

from ledger.detect.registry import AI_PURPOSES, PURPOSES
from ledger.errors import InputError, NotFoundError, SchemeError, did_you_mean

FAMILIES = ("per_fetch", "pool_pro_rata")
VERIFICATIONS = ("verified", "spoofed", "unverifiable", "unknown")
REFETCH = ("every", "unique_url_per_period", "cap_per_url")
BELOW_THRESHOLD = ("redistribute", "retain")
MINOR_UNITS = {"KZT": 2, "USD": 2, "EUR": 2, "RUB": 2, "GBP": 2, "CAD": 2, "AUD": 2, "CHF": 2, "JPY": 0, "KRW": 0}
DEFAULT_EXCLUDE_PATHS = (
    r"(?i)\.(?:css|js|mjs|map|png|jpe?g|gif|webp|avif|svg|ico|woff2?|ttf|eot|mp4|webm|mp3|pdf|zip|json|xml)(?:\?|$)",
    r"^/(?:robots\.txt|favicon\.ico|sitemap[^/]*|ads\.txt|\.well-known/)",
)
_DEFAULT_WEIGHTS = {"verified": Decimal(1), "unverifiable": Decimal(1), "unknown": Decimal(1), "spoofed": Decimal(0)}

COMMON_KEYS = {
    "family",
    "description",
    "currency",
    "minor_units",
    "statuses",
    "methods",
    "purposes",
    "include_paths",
    "exclude_paths",
    "verified_only",
    "verification_weights",
    "include_undeclared",
    "refetch",
    "cap_per_url",
}
FAMILY_KEYS = {
    "per_fetch": {"price", "operator_multiplier"},
    "pool_pro_rata": {"pool", "admin_fee", "min_fetches", "below_threshold"},
}


@dataclass(frozen=True)
class Qualifying:
    """Which fetches count, and with what weight per verification verdict."""

    statuses: tuple[tuple[int, int], ...] = ((200, 299),)
    methods: tuple[str, ...] = ("GET",)
    purposes: tuple[str, ...] = AI_PURPOSES
    include_paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = DEFAULT_EXCLUDE_PATHS
    verification_weights: tuple[tuple[str, Decimal], ...] = tuple(_DEFAULT_WEIGHTS.items())
    include_undeclared: bool = False

    def weight(self, verdict: str) -> Decimal:
        return dict(self.verification_weights).get(verdict, Decimal(0))


@dataclass(frozen=True)
class PerFetch:
    price: tuple[tuple[str, Decimal], ...]
    operator_multiplier: tuple[tuple[str, Decimal], ...] = ()

    def price_of(self, purpose: str) -> Decimal:
        return dict(self.price).get(purpose, Decimal(0))

    def multiplier(self, operator: str) -> Decimal:
        return dict(self.operator_multiplier).get(operator, Decimal(1))


@dataclass(frozen=True)
class PoolProRata:
    pool: Decimal
    admin_fee: Decimal = Decimal(0)
    min_fetches: int = 0
    below_threshold: str = "redistribute"

    @property
    def net_pool(self) -> Decimal:
        return self.pool * (1 - self.admin_fee)


@dataclass(frozen=True)
class Scheme:
    name: str
    family: str
    description: str
    currency: str
    minor_units: int
    qualifying: Qualifying
    refetch: str
    cap_per_url: int | None
    params: PerFetch | PoolProRata
    canonical: str = field(repr=False)

    @property
    def scheme_hash(self) -> str:
        return hashlib.sha256(self.canonical.encode()).hexdigest()


@dataclass(frozen=True)
class SchemeFile:
    path: str
    schemes: dict[str, Scheme]

    def get(self, name: str) -> Scheme:
        if name not in self.schemes:
            raise NotFoundError("scheme", name, self.schemes, f"Schemes in {self.path}.")
        return self.schemes[name]


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, scheme: str, key: str, message: str) -> None:
        self.items.append(f"scheme '{scheme}': {key}: {message}")


def load_schemes(path: Path | str) -> SchemeFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read schemes file: {exc.strerror}", path=path) from exc
    return parse_schemes(text, str(path))


def parse_schemes(text: str, path: str = "schemes.toml") -> SchemeFile:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(path, [f"not valid TOML: {exc}"]) from exc
    problems = _Problems()
    unknown_top = set(data) - {"schemes"}
    for key in sorted(unknown_top):
        problems.items.append(
            f"unknown top-level key '{key}'{did_you_mean(key, ['schemes'])}; declare schemes as [schemes.<name>] tables"
        )
    tables = data.get("schemes", {})
    if not isinstance(tables, dict) or not tables:
        problems.items.append("no schemes: declare at least one [schemes.<name>] table")
        tables = {}
    schemes = {}
    for name, table in tables.items():
        if not isinstance(table, dict):
            problems.add(name, "(table)", f"must be a table [schemes.{name}], got {table!r}")
            continue
        scheme = _scheme(name, table, problems)
        if scheme is not None:
            schemes[name] = scheme
    if problems.items:
        raise SchemeError(path, problems.items)
    return SchemeFile(path, schemes)


def _scheme(name: str, table: dict[str, Any], problems: _Problems) -> Scheme | None:
    before = len(problems.items)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        problems.add(name, "name", "use letters, digits, '_', '-' or '.'")
    if name == "outlet":
        problems.add(name, "name", "'outlet' is the comparison table's first column; choose another name")
    family = table.get("family")
    if family not in FAMILIES:
        hint = did_you_mean(str(family), FAMILIES) if family else ""
        problems.add(
            name, "family", f"{'missing' if family is None else repr(family)}{hint} (allowed: {', '.join(FAMILIES)})"
        )
        return None
    allowed = COMMON_KEYS | FAMILY_KEYS[family]
    for key in sorted(set(table) - allowed):
        problems.add(
            name, key, f"unknown key{did_you_mean(key, allowed)} (allowed for {family}: {', '.join(sorted(allowed))})"
        )
    currency = str(table.get("currency", "KZT"))
    minor_units = _minor_units(name, table, currency, problems)
    qualifying = _qualifying(name, table, problems)
    refetch, cap = _refetch(name, table, problems)
    params: PerFetch | PoolProRata | None
    params = _per_fetch(name, table, problems) if family == "per_fetch" else _pool(name, table, problems)
    if len(problems.items) > before or params is None:
        return None
    canonical = json.dumps(
        {
            "family": family,
            "currency": currency,
            "minor_units": minor_units,
            "qualifying": qualifying,
            "refetch": refetch,
            "cap_per_url": cap,
            "params": params,
        },
        default=_json_default,
        sort_keys=True,
        separators=(",", ":"),
    )
    return Scheme(
        name,
        family,
        str(table.get("description", "")),
        currency,
        minor_units,
        qualifying,
        refetch,
        cap,
        params,
        canonical,
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 2.50, 2.5 and 2.500 are one value: one hash
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    raise TypeError(type(value))


def _decimal(
    name: str,
    key: str,
    value: Any,
    problems: _Problems,
    *,
    low: Decimal | None = Decimal(0),
    high: Decimal | None = None,
) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        problems.add(name, key, f"must be a number, got {value!r}")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        problems.add(name, key, f"'{value}' is not a number")
        return None
    if not number.is_finite() or (low is not None and number < low) or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        problems.add(name, key, f"must be {bounds}, got {value}")
        return None
    return number


def _minor_units(name: str, table: dict[str, Any], currency: str, problems: _Problems) -> int:
    if not re.fullmatch(r"[A-Z]{3}", currency):
        problems.add(name, "currency", f"'{currency}' is not an ISO 4217 code such as KZT")
        return 2
    value = table.get("minor_units", MINOR_UNITS.get(currency))
    if value is None:
        problems.add(
            name, "minor_units", f"currency {currency} is not in the built-in table; give minor_units (e.g. 2)"
        )
        return 2
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 4:
        problems.add(name, "minor_units", f"must be an integer from 0 to 4, got {value!r}")
        return 2
    return value


def _strings(
    name: str, key: str, value: Any, problems: _Problems, allowed: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(name, key, "must be a list of strings")
        return ()
    for item in value:
        if allowed is not None and item not in allowed:
            problems.add(
                name, key, f"unknown value '{item}'{did_you_mean(item, allowed)} (allowed: {', '.join(allowed)})"
            )
    return tuple(sorted(set(value)))  # a set: order and repeats do not change the scheme


def _statuses(name: str, value: Any, problems: _Problems) -> tuple[tuple[int, int], ...]:
    items = value if isinstance(value, list) else [value]
    ranges = []
    for item in items:
        text = str(item).strip().lower()
        if re.fullmatch(r"[1-5]xx", text):
            ranges.append((int(text[0]) * 100, int(text[0]) * 100 + 99))
        elif re.fullmatch(r"[1-5]\d\d", text):
            ranges.append((int(text), int(text)))
        else:
            problems.add(name, "statuses", f"'{item}' is not a status (200) or a class (2xx)")
    return tuple(sorted(set(ranges)))


def _regexes(name: str, key: str, value: Any, problems: _Problems) -> tuple[str, ...]:
    patterns = _strings(name, key, value, problems)
    for pattern in patterns:
        try:  # the ledger runs these in DuckDB (RE2): no look-around, no back-references
            duckdb.execute("SELECT regexp_matches('', ?)", [pattern])
        except duckdb.Error as exc:
            detail = str(exc).splitlines()[0]
            problems.add(
                name, key, f"'{pattern}' is not a valid regular expression (as the ledger runs it, RE2: {detail})"
            )
    return patterns


def _qualifying(name: str, table: dict[str, Any], problems: _Problems) -> Qualifying:
    q = Qualifying()
    statuses = _statuses(name, table["statuses"], problems) if "statuses" in table else q.statuses
    methods = tuple(
        sorted({m.upper() for m in _strings(name, "methods", table.get("methods", list(q.methods)), problems)})
    )
    purposes = _strings(name, "purposes", table.get("purposes", list(q.purposes)), problems, PURPOSES)
    include = _regexes(name, "include_paths", table.get("include_paths", []), problems)
    exclude = _regexes(name, "exclude_paths", table.get("exclude_paths", list(q.exclude_paths)), problems)
    weights = dict(_DEFAULT_WEIGHTS)
    if "verified_only" in table and "verification_weights" in table:
        problems.add(name, "verified_only", "give either verified_only or verification_weights, not both")
    if table.get("verified_only") is True:
        weights = {v: Decimal(v == "verified") for v in VERIFICATIONS}
    elif "verified_only" in table and not isinstance(table["verified_only"], bool):
        problems.add(name, "verified_only", "must be true or false")
    raw = table.get("verification_weights", {})
    if not isinstance(raw, dict):
        problems.add(name, "verification_weights", "must be a table such as {verified = 1, unverifiable = 0.5}")
        raw = {}
    for verdict, value in raw.items():
        if verdict not in VERIFICATIONS:
            problems.add(
                name,
                f"verification_weights.{verdict}",
                f"unknown verdict{did_you_mean(verdict, VERIFICATIONS)} (allowed: {', '.join(VERIFICATIONS)})",
            )
            continue
        weight = _decimal(name, f"verification_weights.{verdict}", value, problems, high=Decimal(1))
        if weight is not None:
            weights[verdict] = weight
    undeclared = table.get("include_undeclared", False)
    if not isinstance(undeclared, bool):
        problems.add(name, "include_undeclared", "must be true or false")
    return Qualifying(statuses, methods, purposes, include, exclude, tuple(sorted(weights.items())), bool(undeclared))


def _refetch(name: str, table: dict[str, Any], problems: _Problems) -> tuple[str, int | None]:
    refetch = table.get("refetch", "every")
    if refetch not in REFETCH:
        problems.add(
            name, "refetch", f"{refetch!r}{did_you_mean(str(refetch), REFETCH)} (allowed: {', '.join(REFETCH)})"
        )
        return "every", None
    cap = table.get("cap_per_url")
    if refetch == "cap_per_url":
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            problems.add(
                name, "cap_per_url", f"refetch = 'cap_per_url' needs cap_per_url = a whole number >= 1, got {cap!r}"
            )
            return refetch, None
        return refetch, cap
    if cap is not None:
        problems.add(name, "cap_per_url", "only applies with refetch = 'cap_per_url'")
    return refetch, None


def _rate_table(
    name: str, key: str, value: Any, problems: _Problems, allowed: tuple[str, ...] | None
) -> tuple[tuple[str, Decimal], ...]:
    if not isinstance(value, dict):
        problems.add(name, key, "must be a table, e.g. {training = 2.5, search = 1}")
        return ()
    rates = []
    for item, amount in value.items():
        if allowed is not None and item not in allowed:
            problems.add(name, f"{key}.{item}", f"unknown{did_you_mean(item, allowed)} (allowed: {', '.join(allowed)})")
            continue
        number = _decimal(name, f"{key}.{item}", amount, problems)
        if number is not None:
            rates.append((item, number))
    return tuple(sorted(rates))


def _per_fetch(name: str, table: dict[str, Any], problems: _Problems) -> PerFetch | None:
    if "price" not in table:
        problems.add(
            name, "price", "per_fetch needs a price table, e.g. price = {training = 2.5, search = 1, user = 0.5}"
        )
        return None
    price = _rate_table(name, "price", table["price"], problems, PURPOSES)
    multipliers = _rate_table(name, "operator_multiplier", table.get("operator_multiplier", {}), problems, None)
    return PerFetch(price, multipliers)


def _pool(name: str, table: dict[str, Any], problems: _Problems) -> PoolProRata | None:
    if "pool" not in table:
        problems.add(name, "pool", "pool_pro_rata needs pool = <amount>, e.g. pool = 50000000")
        return None
    pool = _decimal(name, "pool", table["pool"], problems)
    fee = _decimal(name, "admin_fee", table.get("admin_fee", 0), problems, high=Decimal(1))
    min_fetches = table.get("min_fetches", 0)
    if not isinstance(min_fetches, int) or isinstance(min_fetches, bool) or min_fetches < 0:
        problems.add(name, "min_fetches", f"must be a whole number >= 0, got {min_fetches!r}")
        min_fetches = 0
    below = table.get("below_threshold", "redistribute")
    if below not in BELOW_THRESHOLD:
        problems.add(
            name,
            "below_threshold",
            f"{below!r}{did_you_mean(str(below), BELOW_THRESHOLD)} (allowed: {', '.join(BELOW_THRESHOLD)})",
        )
    if pool is None or fee is None:
        return None
    return PoolProRata(pool, fee, min_fetches, str(below))
