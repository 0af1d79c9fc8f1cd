"""`royalty ingest`: logs into the ledger, one upload per file."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from ledger.dryrun import dry_run
from ledger.errors import EmptyInputError
from ledger.formats import FORMAT_CHOICES
from ledger.ingest import IngestOptions, IngestResult, ingest_paths
from ledger.inputs import expand_inputs, inputs_of
from reports.export import to_records
from royalty.commands.common import open_ledger
from royalty.output import OutputFormat, emit, err

JSON_KEYS = (
    "upload_id",
    "source",
    "outlet",
    "format",
    "lines",
    "parsed",
    "rejected",
    "ai_fetches",
    "duplicate_upload",
    "skipped",
    "null_runs",
    "null_bytes",
    "null_cuts",
)


FormatChoice = StrEnum("FormatChoice", {name: name for name in FORMAT_CHOICES})  # type: ignore[misc]


class OverlapChoice(StrEnum):
    fail = "fail"
    keep = "keep"
    drop = "drop"


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[str], typer.Argument(help="Log files (plain, .gz, .bz2, .xz, .zst), directories, globs, or - for stdin.")
    ],
    outlet: Annotated[
        str | None, typer.Option("--outlet", help="The outlet every line belongs to (else: from the host).")
    ] = None,
    fmt: Annotated[
        FormatChoice, typer.Option("--format", help="A preset (see 'royalty formats'); auto sniffs the first lines.")
    ] = FormatChoice.auto,  # type: ignore[attr-defined]
    log_format: Annotated[
        str | None,
        typer.Option("--log-format", help="Your server's own format string: nginx log_format or Apache LogFormat."),
    ] = None,
    overlap: Annotated[
        OverlapChoice,
        typer.Option("--overlap", help="If the file repeats an earlier upload: fail, keep all, or drop covered lines."),
    ] = OverlapChoice.fail,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="The zone of times logged without an offset (haproxy, an Apache %{...}t without %z): "
            "an IANA name such as Asia/Almaty, or +05:00. Else they are read as UTC.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show how the first lines parse and what is detected; write nothing.")
    ] = False,
    lines: Annotated[int, typer.Option("--lines", min=1, max=10_000, help="Lines to show with --dry-run.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per file on stdout.")] = False,
) -> None:
    """Parse logs, detect and verify AI bots, and store the results as one upload per file.

    Every line ends up parsed or in the rejects table with its line number and reason. The same content
    ingested again is a no-op (duplicate_upload). A failure rolls that file's upload back entirely.

    Example: royalty ingest access.log.gz --outlet tengrinews --json
    """
    if dry_run:
        _dry_run(ctx, paths, IngestOptions(outlet, fmt.value, log_format, overlap.value, timezone), lines, as_json)
        return
    report = _reporter(as_json)
    rejected: list[IngestResult] = []  # the uploads with rejected lines: where to see them is said once, at the end

    def each(result: IngestResult) -> None:
        report(result)
        if result.rejected and not result.duplicate_upload:
            rejected.append(result)

    with open_ledger(ctx) as ledger, _progress(paths) as tick:
        ingest_paths(
            ledger,
            paths,
            outlet=outlet,
            fmt=fmt.value,
            log_format=log_format,
            overlap=overlap.value,
            timezone=timezone,
            progress=tick,
            each=each,
        )
    if rejected and not as_json:
        which = rejected[0].upload_id if len(rejected) == 1 else "UPLOAD"
        err.print(
            f"the rejected lines, with their numbers and reasons: royalty uploads rejects {which} "
            f"(per reason: royalty uploads show {which})"
        )


def _dry_run(ctx: typer.Context, paths: list[str], options: IngestOptions, lines: int, as_json: bool) -> None:
    with open_ledger(ctx) as ledger:
        inputs = inputs_of(paths)
        for name in inputs.names:
            try:
                result = dry_run(ledger, name, options, lines=lines)
            except EmptyInputError as empty:
                if name not in inputs.found:
                    raise
                err.print(f"{name}: skipped: {empty.what}, nothing to ingest")
                continue
            read_out = f", the lines read out of {result.envelope}" if result.envelope else ""
            err.print(f"{result.source}: format {result.format}{read_out} (nothing written)")
            emit(result.lines, OutputFormat.json if as_json else OutputFormat.table, title=result.source)


def _reporter(as_json: bool) -> Callable[[IngestResult], None]:
    def report(result: IngestResult) -> None:
        if as_json:
            data = result.as_dict()
            record = to_records(pa.Table.from_pylist([{k: data[k] for k in JSON_KEYS}]))[0]
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        elif result.skipped is not None:
            err.print(f"{result.source}: skipped: {result.skipped}")
        elif result.duplicate_upload:
            err.print(f"{result.source}: already ingested as upload {result.upload_id}; nothing changed")
        else:
            err.print(
                f"{result.source}: upload {result.upload_id} ({result.format}, {result.compression}): "
                f"{result.lines:,} lines, {result.parsed:,} parsed, {result.rejected:,} rejected, "
                f"{result.ai_fetches:,} AI fetches, {result.referrals:,} AI referrals"
            )
            if result.null_runs:
                err.print(f"{result.source}: {_null_runs(result)}")

    return report


def _null_runs(result: IngestResult) -> str:
    runs = "a run" if result.null_runs == 1 else f"{result.null_runs:,} runs"
    cut = ""
    if result.null_cuts:
        cut = f"; on {result.null_cuts:,} line(s), the text before one was cut off by it and not read"
    return (
        f"{runs} of null bytes ({result.null_bytes:,} bytes) taken out (holes a crash or a copytruncate "
        f"rotation leaves in a log): the lines were read from after them{cut}"
    )


@contextmanager
def _progress(paths: list[str]) -> Iterator[Callable[[int, int], None] | None]:
    """A bar over the input bytes on a terminal; nothing at all in a pipe."""
    if not sys.stderr.isatty():
        yield None
        return
    total = sum(Path(p).stat().st_size for p in expand_inputs(paths) if p != "-") or None
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=err) as progress:
        task = progress.add_task("ingesting", total=total)
        done = {"bytes": 0, "file_bytes": 0}

        def tick(lines: int, file_bytes: int) -> None:
            if file_bytes < done["file_bytes"]:  # a new file started
                done["bytes"] += done["file_bytes"]
            done["file_bytes"] = file_bytes
            progress.update(task, completed=done["bytes"] + file_bytes, description=f"{lines:,} lines")

        yield tick
