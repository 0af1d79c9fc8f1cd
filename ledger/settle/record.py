"""Writing settlement runs into the ledger: the settlement row, payouts per outlet and operator, and the
traces a statement re-opens (outlets, shares of pots, pots, facts, the uploads read).

``Recorder`` writes the new runs of one ``settle_many`` inside its transaction, on one background thread,
so that storing a run (DuckDB work, which releases the GIL) overlaps computing the next one. Every use of
the ledger connection, here and in ``Basis``, holds the basis lock: the connection is used by one thread
at a time. A failed write is raised when the recorder closes, and the caller's transaction rolls back.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any

import duckdb
import polars as pl

from ledger.money import from_minor, to_decimal
from ledger.period import Period
from ledger.schemes import Scheme
from ledger.settle.allocate import Allocation
from ledger.store.db import Ledger, named_query, now

POT_SCHEMA = {
    "pot": pl.String,
    "operator": pl.String,
    "key": pl.String,
    "exact": pl.String,
    "minor": pl.Int64,
    "retained_minor": pl.Int64,
    "key_total": pl.String,
    "detail": pl.String,
}


@dataclass(frozen=True)
class NewRun:
    run_id: str
    scheme: Scheme
    period: Period
    fingerprint: str  # the scheme's fingerprint (the run id hashes it)
    base: str  # the ledger fingerprint, kept as a fact
    allocation: Allocation


class Recorder:
    """Stores runs in the background, in the order given; use as a context manager inside a transaction."""

    def __init__(self, ledger: Ledger, lock: threading.RLock) -> None:
        self.ledger, self.lock = ledger, lock
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="settle-store")
        self._writes: list[Future[None]] = []
        self._run_ids: list[str] = []

    def __enter__(self) -> Recorder:
        return self

    def add(self, run: NewRun) -> None:
        self._run_ids.append(run.run_id)
        self._writes.append(self._pool.submit(self._write, run))

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._pool.shutdown(wait=True, cancel_futures=kind is not None)  # the connection is idle after this
        if kind is not None:
            return  # the caller's error wins; its transaction rolls back
        for write in self._writes:
            write.result()  # the first failed write, if any
        if self._run_ids:
            self._insert("settle_insert_uploads", pl.DataFrame({"run_id": self._run_ids}), {})

    def _write(self, run: NewRun) -> None:
        a, m = run.allocation, run.scheme.minor_units
        self._settlement(run)
        params = {"run_id": run.run_id, "unit": Decimal(1).scaleb(-m).quantize(Decimal("0.0001"))}
        cells = a.cells.filter((pl.col("minor") > 0) | (pl.col("units_e6") > 0) | (pl.col("fetches") > 0))
        payouts = cells.select("outlet", "operator", "units_e6", "fetches", "minor")
        self._insert("settle_insert_payouts", payouts, {**params, "currency": run.scheme.currency})
        outlets = a.outlets.filter((pl.col("minor") > 0) | (pl.col("units_e6") > 0) | (pl.col("status") != "unpaid"))
        self._insert("settle_insert_outlets", outlets, params)
        self._insert("settle_insert_shares", a.shares.filter(pl.col("key_value") != "-"), params)
        self._insert("settle_insert_pots", _pots(a), params)
        facts = dict(a.facts)
        facts["fingerprint.base"] = run.base
        names = sorted(facts)
        frame = pl.DataFrame({"name": names, "value": [facts[n] for n in names]})
        self._insert("settle_insert_facts", frame, {"run_id": run.run_id})

    def _settlement(self, run: NewRun) -> None:
        a, s, m = run.allocation, run.scheme, run.scheme.minor_units
        qualifying = int(a.cells["fetches"].sum() or 0)
        values = [run.run_id, s.name, s.family, s.scheme_hash, s.canonical, run.period.label, run.period.start]
        values += [run.period.end, s.currency, m, run.fingerprint, from_minor(a.paid, m), from_minor(a.retained, m)]
        with self.lock:
            self.ledger.execute(
                "INSERT INTO settlements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*values, qualifying, now()],
            )

    def _insert(self, query: str, frame: pl.DataFrame, params: dict[str, Any]) -> None:
        if frame.height == 0:
            return
        data = frame.to_arrow()
        with self.lock:
            self.ledger.con.register("_incoming", data)
            try:
                self.ledger.execute(named_query(query), params)
            finally:
                with suppress(duckdb.Error):  # after a failed insert the transaction is aborted; the error says why
                    self.ledger.con.unregister("_incoming")


def _pots(a: Allocation) -> pl.DataFrame:
    rows = [
        (
            r.pot.name,
            r.pot.operator,
            r.pot.key,
            str(r.pot.exact),
            r.minor,
            r.retained,
            str(to_decimal(r.key_total, 6)),
            r.pot.detail,
        )
        for r in a.pots
    ]
    return pl.DataFrame(rows, schema=POT_SCHEMA, orient="row")
