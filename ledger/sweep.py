"""Sensitivity: one scheme settled (in memory, not stored) at every point of a parameter grid.

An axis is ``PATH=START:STOP:STEP`` (STOP included when the steps land on it) or ``PATH=V1,V2,...``, where
PATH is a key of the scheme's table, dotted into sub-tables (``admin_fee``, ``price.training``,
``group_caps.broadcaster``). Several axes make the Cartesian grid. Each point is the scheme's table with
those values, checked like any schemes file; a point whose values are invalid or infeasible (floors above
the pool, say) is reported with its reason instead of stopping the sweep. The ledger is read once: every
point that does not change which fetches qualify reuses the same scan.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
import pyarrow as pa

from ledger.compare import Usage, baseline_usage, metrics_row
from ledger.errors import ConfigError, LedgerError
from ledger.period import Period
from ledger.schemes import SchemeFile, parse_data
from ledger.settle import Basis, settle
from ledger.store.db import Ledger

MAX_POINTS = 10_000
INT_KEYS = frozenset({"min_fetches", "cap_per_url", "samples", "seed", "burst_window_seconds", "minor_units"})
_PATH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$")


@dataclass(frozen=True)
class Axis:
    path: str
    values: tuple[Decimal, ...]

    @classmethod
    def parse(cls, text: str) -> Axis:
        """``PATH=START:STOP:STEP`` or ``PATH=V1,V2,...``."""
        path, sep, spec = text.partition("=")
        path = path.strip()
        if not sep or not _PATH_RE.match(path):
            raise ConfigError(f"'{text}' is not PATH=START:STOP:STEP (e.g. admin_fee=0:0.2:0.01)", key="--param")
        try:
            if ":" in spec:
                start, stop, step = (Decimal(part.strip()) for part in spec.split(":"))
                return cls(path, _grid(text, start, stop, step))
            values = tuple(Decimal(part.strip()) for part in spec.split(","))
        except (ValueError, InvalidOperation):
            raise ConfigError(f"'{text}': the values must be numbers (PATH=START:STOP:STEP)", key="--param") from None
        return cls(path, values)


def _grid(text: str, start: Decimal, stop: Decimal, step: Decimal) -> tuple[Decimal, ...]:
    if step <= 0 or stop < start:
        raise ConfigError(f"'{text}': STEP must be above 0 and STOP not below START", key="--param")
    count = int((stop - start) / step) + 1
    if count > MAX_POINTS:
        raise ConfigError(f"'{text}' has {count:,} points; at most {MAX_POINTS:,}", key="--param")
    return tuple(start + i * step for i in range(count))


@dataclass(frozen=True)
class SweepResult:
    scheme: str
    period: str
    axes: tuple[Axis, ...]
    points: pa.Table  # point, one column per axis, status, then the metrics
    payouts: pa.Table  # point, outlet, amount, share


def sweep(ledger: Ledger, schemes: SchemeFile, name: str, axes: list[Axis], period: Period) -> SweepResult:
    schemes.get(name)  # an unknown name is an error naming the known ones
    grid = list(itertools.product(*(axis.values for axis in axes)))
    if len(grid) > MAX_POINTS:
        raise ConfigError(f"the grid has {len(grid):,} points; at most {MAX_POINTS:,}", key="--param")
    basis = Basis(ledger, period)
    usage = baseline_usage(ledger, basis)
    rows: list[dict[str, Any]] = []
    frames: list[pl.DataFrame] = []
    for index, values in enumerate(grid, start=1):
        point: dict[str, Any] = {"point": index, **{a.path: _plain(v) for a, v in zip(axes, values, strict=True)}}
        try:
            scheme = parse_data(_with_values(schemes.data, name, axes, values), schemes.path).get(name)
            run = settle(ledger, scheme, period, basis=basis, store=False)
        except LedgerError as exc:
            rows.append({**point, "status": _reason(exc)})
            continue
        amounts = dict(zip(run.payouts["outlet"].to_pylist(), run.payouts["amount"].to_pylist(), strict=True))
        outlets = usage.outlets + sorted(set(amounts) - set(usage.outlets))
        vector = [int(amounts.get(o, Decimal(0)).scaleb(4)) for o in outlets]
        metrics = metrics_row(run, vector, outlets, _extended(usage, outlets))
        rows.append({**point, "status": "ok", **{k: v for k, v in metrics.items() if k not in _DROPPED}})
        frames.append(_payout_frame(index, outlets, vector))
    return SweepResult(name, period.label, tuple(axes), _points(rows, axes), _payouts(frames))


_DROPPED = frozenset({"scheme", "family", "run_id"})


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _extended(usage: Usage, outlets: list[str]) -> Usage:
    return Usage(outlets, usage.fetches, usage.units_e6)


def _reason(exc: LedgerError) -> str:
    return "invalid: " + " ".join(exc.message.split())


def _with_values(data: dict[str, Any], name: str, axes: list[Axis], values: tuple[Decimal, ...]) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    table = changed["schemes"][name]
    for axis, value in zip(axes, values, strict=True):
        *parents, leaf = axis.path.split(".")
        target = table
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{axis.path}: '{part}' is not a table in scheme '{name}'", key="--param")
        integral = value == value.to_integral_value()
        target[leaf] = int(value) if leaf in INT_KEYS and integral else value
    return changed


def _points(rows: list[dict[str, Any]], axes: list[Axis]) -> pa.Table:
    columns = ["point", *(a.path for a in axes), "status"]
    rest = [k for row in rows for k in row if k not in columns]
    ordered = columns + list(dict.fromkeys(rest))
    return pa.Table.from_pylist([{k: row.get(k) for k in ordered} for row in rows])


def _payout_frame(point: int, outlets: list[str], vector: list[int]) -> pl.DataFrame:
    total = sum(vector)
    return pl.DataFrame(
        {
            "point": [point] * len(outlets),
            "outlet": outlets,
            "amount": vector,
            "share": [round(v / total, 6) if total else 0.0 for v in vector],
        },
        schema={"point": pl.Int64, "outlet": pl.String, "amount": pl.Int64, "share": pl.Float64},
    )


def _payouts(frames: list[pl.DataFrame]) -> pa.Table:
    if not frames:
        return pa.table({"point": pa.array([], pa.int64()), "outlet": pa.array([], pa.string())})
    frame = pl.concat(frames).with_columns(
        (pl.col("amount").cast(pl.Decimal(38, 0)) * pl.lit(Decimal("0.0001"), pl.Decimal(38, 4))).cast(
            pl.Decimal(38, 4)
        )
    )
    return frame.to_arrow()
