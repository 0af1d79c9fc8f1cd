"""A fetch's kind: the seven values its user agent and address decide, stored once each (``fetch_kinds``)
while each fetch row keeps a number for them (``fetch_rows.kind``; the ``fetches`` view joins them)."""

from __future__ import annotations

import polars as pl

from ledger.store.db import KIND_COLUMNS


def with_kinds(fetches: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows with their kind's number in place of KIND_COLUMNS, and the kinds they name (``kind``, then
    KIND_COLUMNS, one row each). The number is the values' hash (non-negative, as DuckDB's BIGINT holds
    it): no table of numbers is shared between the threads that make them, and a transaction rolled back
    leaves none behind. A polars version that hashes otherwise stores a kind under a second number, which is
    harmless; two kinds under one number is not, and ``Ledger.insert_kinds`` refuses it."""
    fetches = fetches.with_columns((pl.struct(KIND_COLUMNS).hash(seed=0) // 2).cast(pl.Int64).alias("kind"))
    kinds = fetches.select("kind", *KIND_COLUMNS).unique(maintain_order=True)  # two under one number: refused
    return fetches.drop(KIND_COLUMNS), kinds
