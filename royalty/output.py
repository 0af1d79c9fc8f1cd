"""Rendering results: rich tables for people on stderr-free stdout, CSV/JSON/Parquet for machines.

Machine output goes to stdout (or -o FILE); messages and progress go to stderr, so pipes stay clean.
"""

from __future__ import annotations

import io
import sys
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from ledger.errors import ConfigError
from reports.export import to_csv, to_json, to_records, write_table


def _console(**options: object) -> Console:
    """A console that prints text as it is: the text is the ledger's and the user's own (log lines with
    [error] or [/] in them, file names, hosts), which rich would otherwise read as markup (dropping the
    brackets, or failing on them) and as emoji codes (an IPv6 address's ":1234:")."""
    return Console(highlight=False, markup=False, emoji=False, **options)  # type: ignore[arg-type]


err = _console(stderr=True, soft_wrap=True)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


def choose(fmt: OutputFormat | None, output: Path | None) -> OutputFormat:
    """An explicit --format wins; otherwise -o's suffix decides; otherwise a table."""
    if fmt is not None:
        return fmt
    if output is not None and output.suffix.lstrip(".") in ("csv", "json", "parquet"):
        return OutputFormat(output.suffix.lstrip("."))
    return OutputFormat.table


def emit(table: pa.Table, fmt: OutputFormat, output: Path | None = None, title: str | None = None) -> None:
    if output is not None:
        if fmt is OutputFormat.table:
            output.write_text(_rich_text(table, title), encoding="utf-8")
        else:
            write_table(table, fmt.value, output)
        err.print(f"wrote {table.num_rows} rows to {output}")
        return
    if fmt is OutputFormat.table:
        console = _console()
        view = _rich_table(table, title)
        unbounded = console.options.update(width=1_000_000)  # the table's own sizes, not clamped to the terminal
        if table.num_rows and Measurement.get(console, unbounded, view).minimum > console.width:
            view = _rich_records(table, title)  # as psql's \x auto: a row a block when words would be cut
        console.print(view)
    elif fmt is OutputFormat.json:
        sys.stdout.write(to_json(table))
    elif fmt is OutputFormat.csv:
        sys.stdout.write(to_csv(table))
    else:
        raise ConfigError("parquet is binary; write it to a file with -o FILE.parquet", key="--format")


def emit_record(table: pa.Table, title: str | None = None) -> None:
    """A table's rows as blocks of their fields' names and values (one row: a record's every field)."""
    _console().print(_rich_records(table, title))


def _cell(value: object) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def _rich_table(table: pa.Table, title: str | None) -> Table:
    view = Table(title=title, title_justify="left", header_style="bold")
    numeric = {
        f.name
        for f in table.schema
        if pa.types.is_integer(f.type) or pa.types.is_decimal(f.type) or pa.types.is_floating(f.type)
    }
    for name in table.column_names:
        view.add_column(name, justify="right" if name in numeric else "left")
    for row in to_records(table):
        view.add_row(*(_cell(v) for v in row.values()))
    if table.num_rows == 0:
        view.caption = "no rows for this selection"
    return view


def _rich_records(table: pa.Table, title: str | None) -> Table:
    """The rows one under the other, each a block of its fields' names and values, ruled apart."""
    view = Table(title=title, title_justify="left", show_header=False)
    view.add_column(style="bold", no_wrap=True)
    view.add_column(overflow="fold")
    for n, row in enumerate(to_records(table)):
        if n:
            view.add_section()
        for name, value in row.items():
            view.add_row(name, _cell(value))
    return view


def _rich_text(table: pa.Table, title: str | None) -> str:
    console = _console(record=True, width=200, file=io.StringIO())
    console.print(_rich_table(table, title))
    return console.export_text()
