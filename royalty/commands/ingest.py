"""`royalty ingest`: logs into the ledger, one upload per file."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import pyarrow as pa
import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ledger.ingest import IngestResult, ingest_paths
from reports.export import to_records
from royalty.commands.common import open_ledger
from royalty.output import err

JSON_KEYS = ("upload_id", "source", "outlet", "format", "lines", "parsed", "rejected", "ai_fetches", "duplicate_upload")


class FormatChoice(StrEnum):
    auto = "auto"
    combined = "combined"
    common = "common"
    vhost_combined = "vhost_combined"


def ingest(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Log files (plain, .gz, .bz2, .xz, .zst), or - for stdin.")],
    outlet: Annotated[
        str | None, typer.Option("--outlet", help="The outlet every line belongs to (else: from the vhost).")
    ] = None,
    fmt: Annotated[FormatChoice, typer.Option("--format", help="Log format; auto sniffs the first lines.")] = (
        FormatChoice.auto
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per file on stdout.")] = False,
) -> None:
    """Parse logs, detect and verify AI bots, and store the results as one upload per file.

    Every line ends up parsed or in the rejects table with its line number and reason. The same content
    ingested again is a no-op (duplicate_upload). A failure rolls that file's upload back entirely.

    Example: royalty ingest access.log.gz --outlet tengrinews --json
    """
    with open_ledger(ctx) as ledger, _progress() as tick:
        ingest_paths(ledger, paths, outlet=outlet, fmt=fmt.value, progress=tick, each=_reporter(as_json))


def _reporter(as_json: bool) -> Callable[[IngestResult], None]:
    def report(result: IngestResult) -> None:
        if as_json:
            data = result.as_dict()
            record = to_records(pa.Table.from_pylist([{k: data[k] for k in JSON_KEYS}]))[0]
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        elif result.duplicate_upload:
            err.print(f"{result.source}: already ingested as upload {result.upload_id}; nothing changed")
        else:
            err.print(
                f"{result.source}: upload {result.upload_id} ({result.format}, {result.compression}): "
                f"{result.lines:,} lines, {result.parsed:,} parsed, {result.rejected:,} rejected, "
                f"{result.ai_fetches:,} AI fetches, {result.referrals:,} AI referrals"
            )

    return report


@contextmanager
def _progress() -> Iterator[Callable[[int], None] | None]:
    """A spinner with the line count on a terminal; nothing at all in a pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, transient=True, console=err) as progress:
        task = progress.add_task("ingesting", total=None)
        yield lambda lines: progress.update(task, description=f"ingesting: {lines:,} lines")
