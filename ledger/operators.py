"""Operators' figures for pool sizing (F5) and revenue shares (F11): revenue, deals, payments, value of news.

A CSV with a header ``operator,period,currency[,revenue,deals,payment,value_of_news,repertoire_share]``,
or a TOML file with one ``[[operator]]`` table per row and the same keys. ``period`` is a UTC month
(``2026-10``) or a year (``2026``); amounts are decimals in ``currency``; an empty cell is "not given".
Every problem of a file is reported at once (line, column, what to do), and nothing is stored unless the
whole file is valid. Imports are append-only: a later import of the same (operator, period) supersedes
the earlier one, which stays in the ledger.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ledger.errors import InputError
from ledger.store.db import Ledger, named_query, now

COLUMNS = ("operator", "period", "currency", "revenue", "deals", "payment", "value_of_news", "repertoire_share")
AMOUNTS = ("revenue", "deals", "payment", "value_of_news")
_REQUIRED = ("operator", "period", "currency")
PERIOD_RE = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class OperatorFigures:
    operator: str
    period: str
    currency: str
    revenue: Decimal | None = None
    deals: Decimal | None = None
    payment: Decimal | None = None
    value_of_news: Decimal | None = None
    repertoire_share: Decimal | None = None
    line_no: int = 0

    def start_end(self) -> tuple[datetime, datetime]:
        """The UTC interval the figures cover."""
        match = PERIOD_RE.match(self.period)
        assert match is not None
        year = int(match.group(1))
        if match.group(2) is None:
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        month = int(match.group(2))
        return datetime(year, month, 1, tzinfo=UTC), datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)


def read_operator_file(path: Path) -> list[OperatorFigures]:
    """Rows of a CSV or TOML operators file (chosen by the suffix), all checked."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read operators file: {exc.strerror}", path=path) from exc
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; save the file as UTF-8", path=path) from None
    raw = _toml_rows(content, path) if path.suffix.lower() == ".toml" else _csv_rows(content, path)
    problems: list[str] = []
    rows = [_row(values, line, problems) for line, values in raw]
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if row is None:
            continue
        key = (row.operator, row.period)
        if key in seen:
            problems.append(f"line {row.line_no}: {row.operator} {row.period} is also on line {seen[key]}")
        seen.setdefault(key, row.line_no)
    if not rows:
        problems.append("no rows: give one row per operator and period")
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise InputError(f"{count}:\n  " + "\n  ".join(problems), path=path)
    return [r for r in rows if r is not None]


def _csv_rows(content: str, path: Path) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in _REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        problem = f"missing columns {missing}" if missing else f"unknown columns {unknown}"
        raise InputError(f"{problem}; the header must use {', '.join(COLUMNS)}", path=path, line=1)
    return [
        (reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}) for row in reader
    ]


def _toml_rows(content: str, path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        data = tomllib.loads(content, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=path) from exc
    unknown = sorted(set(data) - {"operator"})
    tables = data.get("operator")
    if unknown or not isinstance(tables, list):
        raise InputError("declare one [[operator]] table per row (keys: " + ", ".join(COLUMNS) + ")", path=path)
    rows = []
    for index, table in enumerate(tables, start=1):
        bad = sorted(set(table) - set(COLUMNS))
        if bad:
            raise InputError(
                f"[[operator]] number {index}: unknown keys {bad} (allowed: {', '.join(COLUMNS)})", path=path
            )
        rows.append((index, {k: "" if v is None else str(v) for k, v in table.items()}))
    return rows


def _row(values: dict[str, Any], line: int, problems: list[str]) -> OperatorFigures | None:
    before = len(problems)
    for column in _REQUIRED:
        if not values.get(column):
            problems.append(f"line {line}: column '{column}' is empty")
    period = values.get("period", "")
    if period and not PERIOD_RE.match(period):
        problems.append(f"line {line}: period '{period}' is not a month (2026-10) or a year (2026)")
    currency = values.get("currency", "")
    if currency and not re.fullmatch(r"[A-Z]{3}", currency):
        problems.append(f"line {line}: currency '{currency}' is not an ISO 4217 code such as KZT")
    amounts = {c: _amount(values.get(c, ""), line, c, problems) for c in (*AMOUNTS, "repertoire_share")}
    share = amounts["repertoire_share"]
    if share is not None and share > 1:
        problems.append(f"line {line}: repertoire_share must be between 0 and 1, got {share}")
    if len(problems) > before:
        return None
    return OperatorFigures(values["operator"], period, currency, line_no=line, **amounts)


def _amount(text: str, line: int, column: str, problems: list[str]) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        problems.append(f"line {line}: column '{column}': '{text}' is not a number")
        return None
    if not value.is_finite() or value < 0:
        problems.append(f"line {line}: column '{column}' must be zero or more, got {text}")
        return None
    return value


def import_operator_file(ledger: Ledger, path: Path) -> tuple[int, int]:
    """Store the rows of ``path``; returns (import number, rows). The same content as the latest import of
    every one of its rows is not stored again (import number 0)."""
    rows = read_operator_file(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    current = {(r.operator, r.period): r for r in operator_figures(ledger)}
    if all(current.get((r.operator, r.period)) == _unlined(r) for r in rows):
        return 0, len(rows)
    with ledger.transaction():
        number = int(ledger.rows("SELECT coalesce(max(import_no), 0) + 1 AS n FROM operator_imports")[0]["n"])
        ledger.execute(
            "INSERT INTO operator_imports VALUES (?, ?, ?, ?, ?)", [number, path.name, digest, len(rows), now()]
        )
        for r in rows:
            ledger.execute(
                "INSERT INTO operator_inputs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    number,
                    r.line_no,
                    r.operator,
                    r.period,
                    r.currency,
                    r.revenue,
                    r.deals,
                    r.payment,
                    r.value_of_news,
                    r.repertoire_share,
                ],
            )
    return number, len(rows)


def _unlined(row: OperatorFigures) -> OperatorFigures:
    return OperatorFigures(
        row.operator,
        row.period,
        row.currency,
        row.revenue,
        row.deals,
        row.payment,
        row.value_of_news,
        row.repertoire_share,
    )


def operator_figures(ledger: Ledger) -> list[OperatorFigures]:
    """The figures in force: for each (operator, period), the row of the latest import."""
    rows = ledger.rows(named_query("operator_figures"))
    return [OperatorFigures(**r) for r in rows]


def figures_text(rows: list[OperatorFigures]) -> str:
    """The figures as canonical text, for a settlement's fingerprint."""
    lines = []
    for r in sorted(rows, key=lambda r: (r.operator, r.period)):
        cells = [r.operator, r.period, r.currency] + [
            "-" if v is None else format(v.normalize(), "f")
            for v in (r.revenue, r.deals, r.payment, r.value_of_news, r.repertoire_share)
        ]
        lines.append(" ".join(cells))
    return "\n".join(lines)
