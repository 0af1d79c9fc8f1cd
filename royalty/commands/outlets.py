"""`royalty outlets ...`: the outlet registry."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer

from ledger.errors import ConfigError
from ledger.outlets import Outlet, list_outlets, read_outlets_csv, save_outlets, validate_outlet
from royalty.commands.common import FormatOpt, OutputOpt, open_ledger
from royalty.output import choose, emit, err

app = typer.Typer(help="Register outlets and their domains.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="Short id: lower case letters, digits, '-', '_'.")],
    name: Annotated[str, typer.Option("--name", help="The outlet's name.")],
    domain: Annotated[list[str], typer.Option("--domain", help="A domain of the outlet; repeat for several.")],
    fte: Annotated[str | None, typer.Option("--fte", help="Journalist full-time equivalents.")] = None,
    regional_fte: Annotated[str | None, typer.Option("--regional-fte", help="Regional journalist FTE.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="ISO country code, e.g. KZ.")] = None,
    language: Annotated[str | None, typer.Option("--language", help="Main language, e.g. kk or ru.")] = None,
    group: Annotated[str | None, typer.Option("--group", help="Group, e.g. broadcaster.")] = None,
    rpm: Annotated[
        str | None, typer.Option("--rpm", help="Revenue per 1,000 visits, in the schemes' currency (for F9).")
    ] = None,
) -> None:
    """Add one outlet.

    Example: royalty outlets add tengrinews --name "Tengrinews" --domain tengrinews.kz --fte 85 --rpm 2.40
    """
    outlet = Outlet(
        slug,
        name,
        tuple(domain),
        country,
        language,
        _dec(fte, "--fte"),
        _dec(regional_fte, "--regional-fte"),
        group,
        _dec(rpm, "--rpm"),
    )
    outlet = validate_outlet(outlet)
    with open_ledger(ctx) as ledger:
        save_outlets(ledger, [outlet])
    err.print(f"added outlet {outlet.slug} ({', '.join(outlet.domains)})")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV with a header row.")],
) -> None:
    """Add or update outlets from a CSV (slug,name,domains[,country,language,fte,regional_fte,group]).

    Example: royalty outlets import outlets.csv
    """
    outlets = read_outlets_csv(file)
    with open_ledger(ctx) as ledger:
        save_outlets(ledger, outlets, replace=True)
    err.print(f"imported {len(outlets)} outlets from {file}")


@app.command("list")
def list_(ctx: typer.Context, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """List the registered outlets.

    Example: royalty outlets list --format csv
    """
    with open_ledger(ctx) as ledger:
        rows = list_outlets(ledger)
    table = pa.Table.from_pylist(rows) if rows else pa.table({"slug": pa.array([], pa.string())})
    emit(table, choose(fmt, output), output, title="outlets")


def _dec(value: str | None, option: str) -> Decimal | None:
    """An option's number, exactly as written (no binary float on the way)."""
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ConfigError(f"{option} must be a number, like 85 or 2.40", key=option, value=value)
    return number
