"""Settlement runs: a scheme applied to the ledger for a period, stored immutably and reproducibly.

A run's id is a hash of the scheme's canonical text, the period and the ledger fingerprint (every
upload's content hash and registry version, and the outlet registry). Settling the same scheme over the
same ledger content gives the same run id and byte-identical payouts; settling again reuses the stored
run. Amounts stay exact fractions until the final largest-remainder rounding to minor units.

per_fetch      pay[o,i] = sum over purposes of units[o,i,p] * price[p] * operator_multiplier[o]
pool_pro_rata  pay[o,i] = P_net * U[o,i] / sum of U[j] over eligible outlets j   (P_net = pool * (1 - fee))
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pyarrow as pa

from ledger.money import from_minor, largest_remainder, to_minor
from ledger.period import Period
from ledger.schemes import PerFetch, PoolProRata, Scheme
from ledger.store.db import Ledger, named_query, now

Cell = tuple[str, str]  # (outlet, operator)


@dataclass(frozen=True)
class Settlement:
    run_id: str
    scheme: str
    family: str
    period: str
    currency: str
    total: Decimal
    retained: Decimal  # pool money not paid out (below-threshold outlets under 'retain')
    reused: bool  # True when an identical run was already stored
    payouts: pa.Table  # one row per outlet: outlet, basis_units, fetches, amount, currency, share

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "scheme": self.scheme,
            "family": self.family,
            "period": self.period,
            "currency": self.currency,
            "total": self.total,
            "retained": self.retained,
            "reused": self.reused,
        }


@dataclass(frozen=True)
class Usage:
    """Qualifying usage per (outlet, operator): counted units, fetches, and priced value (per_fetch)."""

    units: dict[Cell, Fraction]
    fetches: dict[Cell, int]
    value: dict[Cell, Fraction]


def ledger_fingerprint(ledger: Ledger) -> str:
    lines = [row["line"] for row in ledger.rows(named_query("ledger_fingerprint"))]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def run_id_for(scheme: Scheme, period: Period, fingerprint: str) -> str:
    parts = [scheme.name, scheme.canonical, period.label, period.start.isoformat(), period.end.isoformat(), fingerprint]
    text = "\n".join(parts)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def qualifying_usage(ledger: Ledger, scheme: Scheme, period: Period) -> Usage:
    q = scheme.qualifying
    statuses = sorted({s for low, high in q.statuses for s in range(low, high + 1)})
    params = {
        "start": period.start,
        "end": period.end,
        "include_undeclared": q.include_undeclared,
        "purposes": list(q.purposes),
        "methods": list(q.methods),
        "statuses": statuses,
        "include_regex": "|".join(f"(?:{p})" for p in q.include_paths),
        "exclude_regex": "|".join(f"(?:{p})" for p in q.exclude_paths),
        "refetch": scheme.refetch,
        "cap": Decimal(scheme.cap_per_url or 1),
        **{f"w_{verdict}": q.weight(verdict) for verdict in ("verified", "unverifiable", "unknown", "spoofed")},
    }
    units: dict[Cell, Fraction] = defaultdict(Fraction)
    fetches: dict[Cell, int] = defaultdict(int)
    value: dict[Cell, Fraction] = defaultdict(Fraction)
    prices = scheme.params if isinstance(scheme.params, PerFetch) else None
    for row in ledger.rows(named_query("qualifying_units"), params):
        cell = (row["outlet"], row["operator"])
        units[cell] += Fraction(row["units"])
        fetches[cell] += int(row["fetches"])
        if prices is not None:
            rate = prices.price_of(row["purpose"]) * prices.multiplier(row["operator"])
            value[cell] += Fraction(row["units"]) * Fraction(rate)
    return Usage(dict(units), dict(fetches), dict(value))


def allocate(scheme: Scheme, usage: Usage) -> tuple[dict[Cell, int], int]:
    """Minor units per (outlet, operator), and the minor units retained from a pool."""
    m = scheme.minor_units
    if isinstance(scheme.params, PerFetch):
        total = to_minor(sum(usage.value.values(), Fraction(0)), m)
        return largest_remainder(usage.value, total, m), 0
    pool: PoolProRata = scheme.params
    net_minor = to_minor(pool.net_pool, m)
    per_outlet: dict[str, Fraction] = defaultdict(Fraction)
    for (outlet, _), units in usage.units.items():
        per_outlet[outlet] += units
    eligible = {o for o, u in per_outlet.items() if u > 0 and u >= pool.min_fetches}
    if not eligible:
        return {}, net_minor
    counted = sum((per_outlet[o] for o in eligible), Fraction(0))
    denominator = counted if pool.below_threshold == "redistribute" else sum(per_outlet.values(), Fraction(0))
    net = Fraction(net_minor, 10**m)
    exact = {cell: net * units / denominator for cell, units in usage.units.items() if cell[0] in eligible}
    paid = to_minor(sum(exact.values(), Fraction(0)), m)
    return largest_remainder(exact, paid, m), net_minor - paid


def settle(ledger: Ledger, scheme: Scheme, period: Period) -> Settlement:
    """Compute (or reuse) the run of ``scheme`` over ``period`` and return it."""
    fingerprint = ledger_fingerprint(ledger)
    run_id = run_id_for(scheme, period, fingerprint)
    if ledger.rows("SELECT 1 FROM settlements WHERE run_id = ?", [run_id]):
        return load_run(ledger, run_id, reused=True)
    usage = qualifying_usage(ledger, scheme, period)
    cells, retained = allocate(scheme, usage)
    m = scheme.minor_units
    rows = [
        (
            run_id,
            outlet,
            operator,
            _decimal(usage.units.get((outlet, operator), Fraction(0))),
            usage.fetches.get((outlet, operator), 0),
            from_minor(cells.get((outlet, operator), 0), m),
            scheme.currency,
        )
        for outlet, operator in sorted(set(cells) | set(usage.units))
    ]
    with ledger.transaction():
        ledger.execute(
            "INSERT INTO settlements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                scheme.name,
                scheme.family,
                scheme.scheme_hash,
                scheme.canonical,
                period.label,
                period.start,
                period.end,
                scheme.currency,
                m,
                fingerprint,
                from_minor(sum(cells.values()), m),
                from_minor(retained, m),
                sum(usage.fetches.values()),
                now(),
            ],
        )
        if rows:
            ledger.insert_arrow("payouts", _payout_table(rows))
    return load_run(ledger, run_id, reused=False)


def _payout_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    names = ["run_id", "outlet", "operator", "basis_units", "fetches", "amount", "currency"]
    types = [pa.string(), pa.string(), pa.string(), pa.decimal128(38, 6), pa.int64(), pa.decimal128(38, 4), pa.string()]
    columns = list(zip(*rows, strict=True))
    return pa.table({n: pa.array(c, type=t) for n, t, c in zip(names, types, columns, strict=True)})


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.000001"))


def load_run(ledger: Ledger, run_id: str, *, reused: bool = False) -> Settlement:
    head = ledger.rows("SELECT * FROM settlements WHERE run_id = ?", [run_id])[0]
    payouts = ledger.arrow(named_query("run_payouts"), {"run_id": run_id})
    m = int(head["minor_units"])
    exact = pa.decimal128(38, m)  # amounts are whole minor units: this cast never rounds
    payouts = payouts.set_column(payouts.schema.get_field_index("amount"), "amount", payouts["amount"].cast(exact))
    quantum = Decimal(1).scaleb(-m)
    return Settlement(
        run_id,
        head["scheme_name"],
        head["family"],
        head["period"],
        head["currency"],
        head["total"].quantize(quantum),
        head["retained"].quantize(quantum),
        reused,
        payouts,
    )
