"""`royalty demo`: the whole pipeline on seeded sample data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.demo import DEMO_LINES, DEMO_SEED, run_demo
from royalty.output import OutputFormat, emit, err

DEMO_METRICS = ("scheme", "family", "total", "currency", "gini", "hhi", "top5_share")


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Folder for the logs, ledger and exports.")] = Path("demo"),
    lines: Annotated[int, typer.Option("--lines", min=1000, help="Sample log lines to generate.")] = DEMO_LINES,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the generator: same seed, same data.")
    ] = DEMO_SEED,
) -> None:
    """Generate a month of logs for several outlets, ingest them, settle two schemes and compare them.

    Example: royalty demo --dir demo
    """
    result = run_demo(directory, lines=lines, seed=seed, on_step=lambda message: err.print(f"• {message}"))
    for upload in result.uploads:
        err.print(
            f"  {Path(upload.source).name}: {upload.lines:,} lines, {upload.parsed:,} parsed, "
            f"{upload.rejected:,} rejected, {upload.ai_fetches:,} AI fetches"
        )
    emit(result.usage, OutputFormat.table, title=f"AI usage {result.period}: fetches by operator and purpose")
    emit(result.comparison.payouts, OutputFormat.table, title=f"payouts {result.period} by scheme")
    shown = [c for c in DEMO_METRICS if c in result.comparison.metrics.column_names]
    emit(result.comparison.metrics.select(shown), OutputFormat.table, title="distribution metrics (all in exports/)")
    if result.truth_mismatches:
        err.print(f"ground truth: {len(result.truth_mismatches)} of {result.truth_checks} checks differ", style="red")
        for line in result.truth_mismatches[:20]:
            err.print(f"  {line}")
        raise typer.Exit(1)
    err.print(f"ground truth: all {result.truth_checks} checks match the ledger")
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    err.print(f"timings: {timings}")
    err.print(f"ledger: {result.db}   schemes: {result.schemes}   exports: {result.exports[0].parent}/")
    err.print(f"try: royalty --db {result.db} usage --period {result.period} --by operator,purpose,verification")
