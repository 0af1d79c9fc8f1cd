"""The vectorised exact steps of a settlement, in an in-memory DuckDB: largest-remainder splits and rounding.

Amounts are whole minor units (BIGINT); weights and exact amounts are integers (HUGEINT: 128 bits, with
overflow errors instead of wrap-around). No floating point touches money here. The ledger file is never
written by these steps; inputs are Arrow tables registered for one query.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ledger.errors import LedgerError
from ledger.store.db import named_query


class AllocationError(LedgerError):
    """An exact allocation that does not add up (a bug, never bad input): nothing is stored."""


class Compute:
    """One connection to an in-memory DuckDB for the arithmetic of a settlement (``cursor()``: another
    connection to the same database, for another thread; tables registered on one are not seen by others)."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.con = con if con is not None else duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")

    def cursor(self) -> Compute:
        return Compute(self.con.cursor())

    def run(self, query: str, tables: Mapping[str, pa.Table], params: Mapping[str, Any] | None = None) -> pa.Table:
        """The named query ``query`` over the given tables (registered under their names)."""
        for name, table in tables.items():
            self.con.register(name, table)
        try:
            return self.con.sql(named_query(query), params=dict(params or {})).to_arrow_table()
        except duckdb.Error as exc:
            raise AllocationError(f"exact allocation failed ({str(exc).splitlines()[0]})") from exc
        finally:
            for name in tables:
                self.con.unregister(name)

    def split(self, parents: pa.Table, edges: pa.Table) -> pa.Table:
        """parent, child, minor: each parent's minor units shared over its children by weight, exactly."""
        if edges.num_rows == 0 or parents.num_rows == 0:
            return pa.table(
                {
                    "parent": pa.array([], pa.string()),
                    "child": pa.array([], pa.string()),
                    "minor": pa.array([], pa.int64()),
                }
            )
        result = self.run("lr_split", {"_parents": parents, "_edges": edges})
        _check_sums(parents, result)
        return result


def _check_sums(parents: pa.Table, result: pa.Table) -> None:
    """The children add up to the parents (each parent's split is exact by construction; this checks that
    no funded parent was left without children)."""
    expected = pc.sum(parents["minor"]).as_py() or 0
    got = pc.sum(result["minor"]).as_py() or 0
    if expected != got:
        raise AllocationError(f"a split adds up to {got} minor units, not {expected}: a funded share has no weights")


def edges(parent: pa.Array | list[Any], child: pa.Array | list[Any], weight: pa.Array | list[Any]) -> pa.Table:
    """An edges table; Python-int weights beyond 64 bits are carried as DECIMAL(38, 0)."""
    if isinstance(weight, list):
        big = any(abs(w) >= 2**63 for w in weight)
        weight = pa.array([Decimal(w) for w in weight], pa.decimal128(38, 0)) if big else pa.array(weight, pa.int64())
    return pa.table({"parent": pa.array(parent, pa.string()), "child": pa.array(child, pa.string()), "weight": weight})


def parents(names: list[str], minor: list[int]) -> pa.Table:
    return pa.table({"parent": pa.array(names, pa.string()), "minor": pa.array(minor, pa.int64())})
