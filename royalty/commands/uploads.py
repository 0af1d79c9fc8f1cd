"""`royalty uploads ...`: the uploads in the ledger, and every line each one rejected."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from ledger.errors import ConfigError
from ledger.uploads import find_upload, list_removals, list_uploads, remove_upload, upload, upload_rejects
from reports.export import to_records
from royalty.commands.common import FormatOpt, FromOpt, OutputOpt, PeriodOpt, ToOpt, open_ledger, period_of
from royalty.output import OutputFormat, choose, emit, emit_record, err

app = typer.Typer(help="The uploads in the ledger and the lines they rejected.", no_args_is_help=True)

UploadArg = Annotated[
    str,
    typer.Argument(
        metavar="UPLOAD",
        help="The upload's id (or its start), the start of its content_sha256 (8+ hex digits), or its file name.",
    ),
]


class ShowFormat(StrEnum):
    table = "table"
    json = "json"


@app.command("list")
def list_(
    ctx: typer.Context,
    outlet: Annotated[str | None, typer.Option("--outlet", help="Only the uploads with lines of this outlet.")] = None,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    removed: Annotated[
        bool, typer.Option("--removed", help="The uploads taken out (royalty uploads remove) instead, and why.")
    ] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """The uploads, oldest first: lines parsed and rejected, AI fetches, time span, content digest.

    Example: royalty uploads list --outlet tengrinews --period 2026-10
    """
    window = period_of(period, first, last)
    if removed and (outlet or window):
        raise ConfigError("--removed lists every removal; it takes no --outlet or period", key="--removed")
    with open_ledger(ctx, must_exist=True) as ledger:
        table = list_removals(ledger) if removed else list_uploads(ledger, window, outlet)
    title = "uploads removed" if removed else f"uploads {window.label if window else 'all time'}"
    emit(table, choose(fmt, output), output, title=title)


@app.command("show")
def show(
    ctx: typer.Context,
    ref: UploadArg,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="table (default) or json.")] = ShowFormat.table,
) -> None:
    """One upload: every field of its row, its parsed lines per outlet and class, its rejects per reason.

    Example: royalty uploads show 20261001120000-3f2a9c1d
    """
    with open_ledger(ctx, must_exist=True) as ledger:
        found = upload(ledger, ref)
    if fmt is ShowFormat.json:
        document = {
            "upload": to_records(found.row)[0],
            "outlets": to_records(found.outlets),
            "rejects_by_reason": to_records(found.reasons),
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    emit_record(found.row, title=f"upload {found.upload_id}")
    if found.outlets.num_rows:
        emit(found.outlets, OutputFormat.table, title="parsed lines per outlet and class")
    if found.reasons.num_rows:
        emit(found.reasons, OutputFormat.table, title="rejected lines per reason (royalty uploads rejects UPLOAD)")


@app.command("rejects")
def rejects(
    ctx: typer.Context,
    ref: UploadArg,
    reason: Annotated[str | None, typer.Option("--reason", help="Only the lines rejected for this reason.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many lines (the first ones).")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """An upload's rejected lines, in line order: the line number, the reason and the line as read.

    Example: royalty uploads rejects access-2026-10-01.log.gz --reason "no time" -f csv -o rejects.csv
    """
    with open_ledger(ctx, must_exist=True) as ledger:
        upload_id = find_upload(ledger, ref)
        table = upload_rejects(ledger, upload_id, reason, limit)
    emit(table, choose(fmt, output), output, title=f"rejected lines of upload {upload_id}")


@app.command("remove")
def remove(
    ctx: typer.Context,
    ref: UploadArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it goes; kept with the removal.")],
) -> None:
    """Take an upload out: every row it brought is deleted, and the removal is kept with its reason.

    For an upload ingested by mistake (the wrong --outlet, the wrong file): its file can then be ingested
    again. An upload a stored settlement run read stays (the run's statement recounts its fetches).

    Example: royalty uploads remove access-2026-10-01.log.gz --reason "ingested with --outlet kt, is dala's"
    """
    with open_ledger(ctx, must_exist=True) as ledger:
        upload_id = find_upload(ledger, ref)
        gone = remove_upload(ledger, upload_id, reason)
    err.print(
        f"removed upload {upload_id} ({gone['source']}): {gone['lines_total']:,} lines, "
        f"{gone['ai_fetches']:,} AI fetches; its file can be ingested again ('royalty uploads list --removed' "
        "keeps the removal)"
    )
