"""`royalty schemes validate|explain` and `royalty operators import|list`: schemes files and operators' figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer

from royalty.commands.common import FormatOpt, OutputOpt, open_ledger
from royalty.output import choose, emit, err

app = typer.Typer(help="Check and explain schemes files.", no_args_is_help=True)
operators_app = typer.Typer(help="Operators' revenues, deals and payments for pool sizing.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Schemes TOML file.")]


@app.command("validate")
def validate(file: FileArg) -> None:
    """Check a schemes file: every problem at once (scheme, key, allowed values, did-you-mean).

    Exits 0 and lists the schemes when the file is valid, 5 with every problem when it is not.

    Example: royalty schemes validate schemes.toml
    """
    from ledger.schemes import FAMILY_CODES, load_schemes

    loaded = load_schemes(file)
    for scheme in loaded.schemes.values():
        typer.echo(f"{scheme.name}\t{scheme.family} ({FAMILY_CODES[scheme.family]})\t{scheme.scheme_hash[:16]}")
    err.print(f"{file}: {len(loaded.schemes)} scheme{'s' if len(loaded.schemes) != 1 else ''}, no problems")


@app.command("explain")
def explain(file: FileArg, name: Annotated[str, typer.Argument(help="The scheme's name in the file.")]) -> None:
    """Print a scheme's formula with its parameters filled in.

    Example: royalty schemes explain schemes.toml pool
    """
    from ledger.schemes import load_schemes
    from ledger.schemes.explain import explain as explain_scheme

    typer.echo(explain_scheme(load_schemes(file).get(name)))


@operators_app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or TOML (by suffix).")],
) -> None:
    """Import operators' figures (operator,period,currency,revenue,deals,payment,value_of_news,repertoire_share).

    Every problem of the file is reported at once and nothing is stored unless all rows are valid. A later
    import of the same operator and period supersedes the earlier one (which stays in the ledger).

    Example: royalty operators import operators.csv
    """
    from ledger.operators import import_operator_file

    with open_ledger(ctx) as ledger:
        number, rows = import_operator_file(ledger, file)
    if number:
        err.print(f"imported {rows} rows from {file} (import {number})")
    else:
        err.print(f"{file}: the ledger already has these {rows} rows; nothing imported")


@operators_app.command("list")
def list_(ctx: typer.Context, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """List the operators' figures in force (the latest import of each operator and period).

    Example: royalty operators list --format csv
    """
    from ledger.operators import operator_figures

    with open_ledger(ctx) as ledger:
        rows = [vars(r) for r in operator_figures(ledger)]
    columns = ["operator", "period", "currency", "revenue", "deals", "payment", "value_of_news", "repertoire_share"]
    table = (
        pa.Table.from_pylist([{k: r[k] for k in columns} for r in rows])
        if rows
        else pa.table({"operator": pa.array([], pa.string())})
    )
    emit(table, choose(fmt, output), output, title="operators' figures")
