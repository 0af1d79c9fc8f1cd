"""Options shared by several commands, and opening the ledger named by --db."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.errors import LedgerStoreError
from ledger.period import Period, resolve_period
from ledger.store.db import Ledger
from royalty.output import OutputFormat

PeriodOpt = Annotated[str | None, typer.Option("--period", help="A UTC month, YYYY-MM.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="First UTC day, YYYY-MM-DD (with --to).")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last UTC day, YYYY-MM-DD, inclusive.")]
FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option("--format", "-f", help="table (default), json, csv or parquet (parquet needs -o)."),
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")]


def open_ledger(ctx: typer.Context, *, must_exist: bool = False) -> Ledger:
    """The ledger named by --db; commands that only read it want it to exist already."""
    db: Path = ctx.obj["db"]
    if must_exist and not db.exists():
        raise LedgerStoreError(f"{db}: no ledger here yet; ingest a log first (royalty ingest ...) or pass --db")
    return Ledger(db)


def period_of(period: str | None, first: str | None, last: str | None) -> Period | None:
    return resolve_period(period, first, last)
