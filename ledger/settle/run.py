"""Settlement runs: a scheme applied to the ledger for a period, stored immutably and reproducibly.

A run's id hashes the scheme's name and canonical text, the period and the fingerprint of what it read:
every upload's content hash and registry version and the outlet registry (``ledger_fingerprint``), plus,
only for the schemes that use them, the operators' figures and digests of the robots.txt verdicts and
article facts. Settling the same scheme over the same ledger content gives the same run id and
byte-identical payouts; settling again returns the stored run. The new runs of one call are written in
one transaction (``record``): settlement, payouts per outlet and operator, and the traces a statement
re-opens (pots, shares, outlets, facts, the uploads read).

Several schemes are allocated two at a time, each run stored in the background as soon as it is ready;
every allocation is a pure function of the basis, so which thread computes it changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl
import pyarrow as pa

from ledger.money import from_minor, to_minor
from ledger.operators import OperatorFigures, figures_text, operator_figures
from ledger.period import Period
from ledger.schemes import Scheme
from ledger.settle import allocate as al
from ledger.settle import plans
from ledger.settle.attribution import attribution_plan
from ledger.settle.basis import Basis
from ledger.settle.record import NewRun, Recorder
from ledger.settle.sizing import size_pool
from ledger.settle.tariffs import operator_totals, per_fetch_plan, referral_gap_plan
from ledger.store.db import Ledger, named_query

WORKERS = 2  # schemes allocated at once


@dataclass(frozen=True)
class Settlement:
    run_id: str
    scheme: str
    family: str
    period: str
    currency: str
    total: Decimal
    retained: Decimal  # money not paid out (below-threshold outlets under 'retain', empty pots, caps)
    reused: bool  # True when an identical run was already stored
    payouts: pa.Table  # per outlet: outlet, basis_units, fetches, amount, currency, share, author_amount
    allocation: al.Allocation | None = field(default=None, repr=False)  # in memory, for sweeps

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


def uses_figures(scheme: Scheme) -> bool:
    if scheme.sizing is not None and scheme.sizing.uses_inputs:
        return True
    return getattr(scheme.params, "revenue", None) == "operator_revenue"


def scheme_fingerprint(base: str, basis: Basis, scheme: Scheme, figures: list[OperatorFigures]) -> str:
    """The ledger fingerprint, extended with the optional facts this scheme reads."""
    extras = basis.digests(basis.needs(scheme))
    tariff = scheme.sizing.tariff if scheme.sizing is not None else None
    if tariff is not None:
        extras += [f"tariff {d}" for d in basis.digests(basis.needs(tariff))]
    if uses_figures(scheme):
        extras.append("figures\n" + figures_text(figures))
    if not extras:
        return base
    return hashlib.sha256("\n".join([base, *extras]).encode()).hexdigest()


def run_id_for(scheme: Scheme, period: Period, fingerprint: str) -> str:
    parts = [scheme.name, scheme.canonical, period.label, period.start.isoformat(), period.end.isoformat(), fingerprint]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def allocate(scheme: Scheme, period: Period, basis: Basis, figures: list[OperatorFigures]) -> al.Allocation:
    """The exact allocation of ``scheme`` over the basis, in whole minor units."""
    family = scheme.family
    if family == "per_fetch":
        return al.allocate_tariff(per_fetch_plan(scheme, basis), scheme, basis.compute)
    if family == "referral_gap":
        return al.allocate_tariff(referral_gap_plan(scheme, basis), scheme, basis.compute)
    if family == "attribution_share":
        return al.allocate_pool(
            attribution_plan(scheme, basis, period, figures), scheme, plans.registry(basis), basis.compute
        )

    def tariffs(tariff: Scheme) -> dict[str, Fraction]:
        return operator_totals(per_fetch_plan(tariff, basis), basis.compute)

    pool = size_pool(scheme, period, figures, tariffs)
    total = Fraction(to_minor(pool.net, scheme.minor_units), 10**scheme.minor_units)
    plan = _plan(scheme, basis, pool, total)
    plan.facts = [("pool.gross", str(pool.gross)), ("pool.net", str(pool.net)), *plan.facts]
    return al.allocate_pool(plan, scheme, plans.registry(basis), basis.compute)


def _plan(scheme: Scheme, basis: Basis, pool: Any, total: Fraction) -> plans.PoolPlan:
    keys = {"pool_pro_rata": "fetches", "pool_weighted": "weighted", "fte": "fte"}
    if scheme.family in keys:
        return plans.single_key_plan(scheme, basis, pool, keys[scheme.family], total)
    if scheme.family == "multi_pot":
        return plans.multi_pot_plan(scheme, basis, pool, total)
    if scheme.family == "operator_pools":
        return plans.operator_pools_plan(scheme, basis, pool, total)
    return plans.shapley_plan(scheme, basis, pool, total)


def settle(
    ledger: Ledger, scheme: Scheme, period: Period, *, basis: Basis | None = None, store: bool = True
) -> Settlement:
    """Compute (or reuse) the run of ``scheme`` over ``period``; ``store=False`` computes in memory only."""
    return settle_many(ledger, [scheme], period, basis=basis, store=store)[0]


def settle_many(
    ledger: Ledger, schemes: list[Scheme], period: Period, *, basis: Basis | None = None, store: bool = True
) -> list[Settlement]:
    """Settle several schemes over one reading of the ledger; new runs are stored in one transaction (each
    stored in the background while the next is computed)."""
    basis = basis or Basis(ledger, period)
    figures = operator_figures(ledger) if any(uses_figures(s) for s in schemes) else []
    prepared = _prepare(ledger, schemes, period, basis, figures, store)
    if not store:
        with _allocating([s for s, _, _, _ in prepared], period, basis, figures) as allocations:
            pairs = list(zip(prepared, allocations, strict=True))
        return [_in_memory(run_id, s, period, a) for (s, run_id, _, _), a in pairs]
    fresh = [(s, run_id, fingerprint) for s, run_id, fingerprint, stored in prepared if not stored]
    if fresh:
        recorder = Recorder(ledger, basis.lock)
        todo = [s for s, _, _ in fresh]
        with ledger.transaction(), recorder, _allocating(todo, period, basis, figures) as allocations:
            for (scheme, run_id, fingerprint), allocation in zip(fresh, allocations, strict=True):
                recorder.add(NewRun(run_id, scheme, period, fingerprint, basis.base_fingerprint, allocation))
    return [load_run(ledger, run_id, reused=stored) for _, run_id, _, stored in prepared]


@contextmanager
def _allocating(
    schemes: list[Scheme], period: Period, basis: Basis, figures: list[OperatorFigures]
) -> Iterator[Iterator[al.Allocation]]:
    """The allocations of the schemes, in their order, computed two at a time (DuckDB and polars release
    the GIL: one scheme's Python overlaps another's queries). On the way out, whatever happened, schemes not
    started are cancelled and those running are waited for (they read the ledger connection)."""
    if len(schemes) < 2:
        yield (allocate(scheme, period, basis, figures) for scheme in schemes)
        return
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="settle")
    try:
        futures = [pool.submit(allocate, scheme, period, basis, figures) for scheme in schemes]
        yield (future.result() for future in futures)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _prepare(
    ledger: Ledger, schemes: list[Scheme], period: Period, basis: Basis, figures: list[OperatorFigures], store: bool
) -> list[tuple[Scheme, str, str, bool]]:
    """(scheme, run id, fingerprint, already stored) for each scheme."""
    prepared = []
    for scheme in schemes:
        fingerprint = scheme_fingerprint(basis.base_fingerprint, basis, scheme, figures)
        run_id = run_id_for(scheme, period, fingerprint)
        stored = store and bool(ledger.rows("SELECT 1 FROM settlements WHERE run_id = ?", [run_id]))
        prepared.append((scheme, run_id, fingerprint, stored))
    return prepared


def _in_memory(run_id: str, scheme: Scheme, period: Period, allocation: al.Allocation) -> Settlement:
    m = scheme.minor_units
    per = allocation.outlets.filter((pl.col("minor") > 0) | (pl.col("units_e6") > 0))
    total = from_minor(allocation.paid, m)
    payouts = pa.table(
        {
            "outlet": pa.array(per["outlet"].to_list(), pa.string()),
            "amount": pa.array([from_minor(v, m) for v in per["minor"].to_list()], pa.decimal128(38, m)),
        }
    )
    return Settlement(
        run_id,
        scheme.name,
        scheme.family,
        period.label,
        scheme.currency,
        total,
        from_minor(allocation.retained, m),
        False,
        payouts,
        allocation,
    )


def load_run(ledger: Ledger, run_id: str, *, reused: bool = False) -> Settlement:
    head = ledger.rows("SELECT * FROM settlements WHERE run_id = ?", [run_id])[0]
    payouts = ledger.arrow(named_query("run_payouts"), {"run_id": run_id})
    m = int(head["minor_units"])
    exact = pa.decimal128(38, m)  # amounts are whole minor units: this cast never rounds
    for column in ("amount", "author_amount"):
        index = payouts.schema.get_field_index(column)
        payouts = payouts.set_column(index, column, payouts[column].cast(exact))
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
