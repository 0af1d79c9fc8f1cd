"""`royalty formats`: the log formats ingest knows, with an example line each."""

from __future__ import annotations

import pyarrow as pa

from ledger.formats import PRESETS
from royalty.commands.common import FormatOpt, OutputOpt
from royalty.output import choose, emit


def formats(fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """List the log format presets (auto-detection tries them in this order) with an example line each.

    Your own nginx log_format or Apache LogFormat string works too: royalty ingest --log-format '...'.

    Example: royalty formats --format json
    """
    rows = [
        {"format": f.name, "kind": f.kind, "description": f.description, "example": f.example} for f in PRESETS.values()
    ]
    emit(pa.Table.from_pylist(rows), choose(fmt, output), output, title="log formats")
