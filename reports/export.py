"""Tables out: CSV, JSON and Parquet writers with stable column names and exact decimals, and a report's
whole data set (every table in every format, plus an XLSX workbook and a manifest) with ``write_data``.

JSON is a list of objects; decimals are written as strings ("1234.50") so no consumer rounds money
through a binary float; dates and times are ISO 8601 (UTC times end in "Z").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = ("csv", "json", "parquet")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_records(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_pylist()]


def to_json(table: pa.Table) -> str:
    return json.dumps(to_records(table), ensure_ascii=False, indent=2) + "\n"


def to_csv(table: pa.Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in to_records(table):
        writer.writerow(["" if v is None else v for v in row.values()])
    return buffer.getvalue()


def write_table(table: pa.Table, fmt: str, path: Path) -> Path:
    """Write ``table`` to ``path`` in ``fmt`` (csv, json or parquet); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "json":
        path.write_text(to_json(table), encoding="utf-8")
    elif fmt == "csv":
        path.write_text(to_csv(table), encoding="utf-8")
    else:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    return path


def write_data(tables: Iterable[tuple[str, pa.Table]], directory: Path, manifest: dict[str, Any]) -> list[Path]:
    """Every (name, table) as ``name.csv``, ``name.json`` and ``name.parquet``, all of them as sheets of
    ``<manifest kind>.xlsx``, and ``manifest.json`` (the report's period, generation time and tables)."""
    from reports.xlsx import write_xlsx

    tables = list(tables)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables:
        for fmt in FORMATS:
            written.append(write_table(table, fmt, directory / f"{name}.{fmt}"))
    written.append(write_xlsx(tables, directory / f"{manifest['kind']}.xlsx"))
    document = {
        **{k: _plain(v) for k, v in manifest.items()},
        "tables": [{"name": name, "rows": table.num_rows, "columns": table.column_names} for name, table in tables],
    }
    path = directory / "manifest.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(path)
    return written
