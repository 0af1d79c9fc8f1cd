"""`royalty settle` and `royalty compare`: what the schemes would pay."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.compare import compare as compare_schemes
from ledger.period import Period
from ledger.schemes import load_schemes
from ledger.settle import settle as settle_scheme
from reports.export import to_records
from royalty.commands.common import FormatOpt, OutputOpt, open_ledger
from royalty.output import OutputFormat, choose, emit, err

SchemesOpt = Annotated[Path, typer.Option("--schemes", exists=True, dir_okay=False, help="Schemes TOML file.")]
MonthOpt = Annotated[str, typer.Option("--period", help="The UTC month to settle, YYYY-MM.")]


def settle(
    ctx: typer.Context,
    schemes: SchemesOpt,
    scheme: Annotated[str, typer.Option("--scheme", help="The scheme's name in the file.")],
    period: MonthOpt,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Settle one scheme for a month: one row per outlet with the amount and the units it counted.

    The run is stored with the scheme's hash and the ledger's fingerprint; the same inputs give the same
    run id and the same payouts. The run id is printed on stderr.

    Example: royalty settle --schemes schemes.toml --scheme pool --period 2026-10
    """
    chosen = load_schemes(schemes).get(scheme)
    month = Period.month(period)
    with open_ledger(ctx, must_exist=True) as ledger:
        run = settle_scheme(ledger, chosen, month)
    state = "reused stored run" if run.reused else "new run"
    err.print(
        f"run {run.run_id} ({state}): {run.scheme} {run.period}, total {run.total} {run.currency}"
        + (f", retained {run.retained}" if run.retained else "")
    )
    emit(run.payouts, choose(fmt, output), output, title=f"{run.scheme} {run.period} (run {run.run_id})")


def compare(
    ctx: typer.Context,
    schemes: SchemesOpt,
    period: MonthOpt,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Settle every scheme in the file and compare: payouts per outlet side by side, Gini, HHI, top-5 share.

    With -o FILE.csv (or .parquet) the payouts go to FILE and the metrics to FILE with '.metrics' before the
    suffix. JSON output is one object with "payouts" and "metrics".

    Example: royalty compare --schemes schemes.toml --period 2026-10 --format json
    """
    scheme_file = load_schemes(schemes)
    month = Period.month(period)
    with open_ledger(ctx, must_exist=True) as ledger:
        result = compare_schemes(ledger, scheme_file, month)
    chosen = choose(fmt, output)
    if chosen is OutputFormat.json and output is None:
        document = {
            "period": result.period,
            "payouts": to_records(result.payouts),
            "metrics": to_records(result.metrics),
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    metrics_out = output.with_name(f"{output.stem}.metrics{output.suffix}") if output else None
    emit(result.payouts, chosen, output, title=f"payouts by scheme, {result.period}")
    if chosen is OutputFormat.csv and output is None:
        sys.stdout.write("\n")
    emit(result.metrics, chosen, metrics_out, title="distribution metrics")
