"""`royalty settle`, `royalty compare`, `royalty sweep` and `royalty statement`: what the schemes would pay.

The settlement modules are imported inside each command: the CLI loads every command module at start,
and most invocations (ingest, usage, ...) never need them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer

from ledger.errors import ConfigError
from ledger.period import Period, resolve_period
from reports.export import to_records
from royalty.commands.common import FormatOpt, FromOpt, OutputOpt, ToOpt, open_ledger
from royalty.output import OutputFormat, choose, emit, err

SchemesOpt = Annotated[Path, typer.Option("--schemes", exists=True, dir_okay=False, help="Schemes TOML file.")]
PeriodOpt = Annotated[str | None, typer.Option("--period", help="The UTC month to settle, YYYY-MM.")]
TableOpt = Annotated[str | None, typer.Option("--table", help="Only this table (see docs/cli.md for the names).")]


def period_required(period: str | None, first: str | None, last: str | None) -> Period:
    found = resolve_period(period, first, last)
    if found is None:
        raise ConfigError("name the period: --period YYYY-MM, or --from DATE --to DATE", key="--period")
    return found


def emit_tables(
    tables: dict[str, pa.Table], fmt: OutputFormat | None, output: Path | None, title: str, only: str | None = None
) -> None:
    """Several tables: one JSON object; CSV one after another; -o FILE for the first and FILE.<name>.<suffix>
    for the others; --table picks one."""
    if only is not None:
        if only not in tables:
            raise ConfigError(f"unknown table '{only}'", key="--table", allowed=list(tables), value=only)
        tables = {only: tables[only]}
    chosen = choose(fmt, output)
    if chosen is OutputFormat.json and output is None:
        document: dict[str, Any] = {name: to_records(table) for name, table in tables.items()}
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    for index, (name, table) in enumerate(tables.items()):
        target = output if output is None or index == 0 else output.with_name(f"{output.stem}.{name}{output.suffix}")
        if chosen is OutputFormat.csv and output is None and index:
            sys.stdout.write("\n")
        emit(table, chosen, target, title=f"{title}: {name}")


def settle(
    ctx: typer.Context,
    schemes: SchemesOpt,
    scheme: Annotated[str, typer.Option("--scheme", help="The scheme's name in the file.")],
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Settle one scheme for a period: one row per outlet with the amount and the units it counted.

    The run is stored with the scheme's hash and the ledger's fingerprint; the same inputs give the same
    run id and the same payouts. The run id is printed on stderr; 'royalty statement RUN_ID' re-opens it.

    Example: royalty settle --schemes schemes.toml --scheme pool --period 2026-10
    """
    from ledger.schemes import load_schemes

    chosen = load_schemes(schemes).get(scheme)
    span = period_required(period, first, last)
    with open_ledger(ctx, must_exist=True) as ledger:
        from ledger.settle import settle as settle_scheme

        run = settle_scheme(ledger, chosen, span)
    state = "reused stored run" if run.reused else "new run"
    err.print(
        f"run {run.run_id} ({state}): {run.scheme} {run.period}, total {run.total} {run.currency}"
        + (f", retained {run.retained}" if run.retained else "")
    )
    emit(run.payouts, choose(fmt, output), output, title=f"{run.scheme} {run.period} (run {run.run_id})")


def compare(
    ctx: typer.Context,
    schemes: SchemesOpt,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    only: Annotated[
        list[str] | None, typer.Option("--scheme", help="Compare only these schemes (repeat the option).")
    ] = None,
    lorenz_points: Annotated[int, typer.Option("--lorenz-points", min=1, max=10_000, help="Lorenz curve points.")] = 20,
    table: TableOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Settle every scheme in the file and compare them side by side, with the distribution metrics.

    Tables: payouts (outlet x scheme), metrics, lorenz, pairs (winners, losers, churn, rank correlations),
    deltas (per outlet for every two schemes), outlets (long form). The table format shows payouts,
    metrics and pairs; JSON is one object with every table; with -o FILE.csv the payouts go to FILE and
    each other table to FILE.<table>.csv.

    Example: royalty compare --schemes schemes.toml --period 2026-10 --format json
    """
    from ledger.schemes import load_schemes

    scheme_file = load_schemes(schemes)
    span = period_required(period, first, last)
    with open_ledger(ctx, must_exist=True) as ledger:
        from ledger.compare import compare as compare_schemes

        result = compare_schemes(ledger, scheme_file, span, names=only, lorenz_points=lorenz_points)
    tables = result.tables()
    chosen = choose(fmt, output)
    if table is None and chosen is OutputFormat.json and output is None:
        document = {"period": result.period, **{k: to_records(v) for k, v in tables.items()}}
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    if table is None and chosen is OutputFormat.table:
        tables = {k: tables[k] for k in ("payouts", "metrics", "pairs")}
    emit_tables(tables, fmt, output, f"compare {result.period}", table)


def sweep(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Schemes TOML file.")],
    name: Annotated[str, typer.Argument(help="The scheme to sweep.")],
    param: Annotated[
        list[str], typer.Option("--param", help="PATH=START:STOP:STEP or PATH=V1,V2,...; repeat for a grid.")
    ],
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    table: TableOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Settle one scheme at every point of a parameter grid (in memory; nothing is stored).

    Tables: points (one row per grid point: the values, status, total and every metric) and payouts
    (point, outlet, amount, share). A point whose values are invalid or infeasible has its reason in
    status instead of numbers.

    Example: royalty sweep schemes.toml pool --param admin_fee=0:0.2:0.01 --period 2026-10
    """
    from ledger.sweep import Axis
    from ledger.sweep import sweep as sweep_scheme

    axes = [Axis.parse(p) for p in param]
    from ledger.schemes import load_schemes

    scheme_file = load_schemes(file)
    span = period_required(period, first, last)
    with open_ledger(ctx, must_exist=True) as ledger:
        result = sweep_scheme(ledger, scheme_file, name, axes, span)
    failed = sum(1 for s in result.points["status"].to_pylist() if s != "ok") if result.points.num_rows else 0
    err.print(f"sweep of '{name}' over {result.points.num_rows} points ({failed} not settled), {result.period}")
    tables = {"points": result.points, "payouts": result.payouts}
    if table is None and choose(fmt, output) is OutputFormat.table:
        tables = {"points": result.points}
    emit_tables(tables, fmt, output, f"sweep {name}", table)


def statement(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run id printed by settle or shown by compare.")],
    outlet: Annotated[str | None, typer.Option("--outlet", help="One outlet's statement, with the evidence.")] = None,
    table: TableOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Re-open a stored run as a statement: how every amount was computed, from parameters to fetches.

    Tables: header (run, scheme, formula with its numbers, pool sizes and solved values), outlets (status,
    exact and rounded amounts), shares (each pot's key value and amount), lines (per operator) and, with
    --outlet, evidence (the outlet's fetches recounted from the ledger by operator, purpose, verification
    and robots.txt verdict).

    Example: royalty statement 3f2a9c1e5b7d4a60c8e1 --outlet tengrinews
    """
    with open_ledger(ctx, must_exist=True) as ledger:
        from ledger.statement import statement as open_statement

        result = open_statement(ledger, run_id, outlet)
    if result.verified is False:
        err.print("the outlet's fetches recounted from the ledger differ from what the run counted", style="yellow")
    emit_tables(result.tables(), fmt, output, f"run {run_id}" + (f", {outlet}" if outlet else ""), table)
