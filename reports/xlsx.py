"""Tables out as one XLSX workbook: a sheet per table, typed cells (numbers stay numbers, dates stay
dates), a bold frozen header. Excel has no time zones, so UTC times are written as UTC wall-clock times
and the header of such a column says "(UTC)"; decimals are written with all their digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

SHEET_NAME_LIMIT = 31  # Excel's own limit


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _formats(schema: pa.Schema) -> dict[str, str]:
    formats = {}
    for field in schema:
        if pa.types.is_timestamp(field.type):
            formats[field.name] = "yyyy-mm-dd hh:mm:ss"
        elif pa.types.is_date(field.type):
            formats[field.name] = "yyyy-mm-dd"
        elif pa.types.is_decimal(field.type):
            formats[field.name] = "0." + "0" * field.type.scale if field.type.scale else "0"
        elif pa.types.is_integer(field.type):
            formats[field.name] = "0"
    return formats


def header(field: pa.Field) -> str:
    return f"{field.name} (UTC)" if pa.types.is_timestamp(field.type) else field.name


def write_xlsx(tables: Iterable[tuple[str, pa.Table]], path: Path) -> Path:
    """Write each (name, table) as a sheet of one workbook at ``path``."""
    book = Workbook(write_only=True)
    for name, table in tables:
        sheet: Worksheet = book.create_sheet(title=name[:SHEET_NAME_LIMIT])
        bold = Font(bold=True)
        cells = []
        for field in table.schema:
            cell = WriteOnlyCell(sheet, value=header(field))
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
        sheet.freeze_panes = "A2"
        formats = _formats(table.schema)
        for row in table.to_pylist():
            out = []
            for column, value in row.items():
                cell = WriteOnlyCell(sheet, value=_value(value))
                if column in formats and value is not None:
                    cell.number_format = formats[column]
                out.append(cell)
            sheet.append(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
