"""The uploads in a ledger, as their users look them up: what each one brought, and every line it rejected.

Every line of an upload is parsed or kept in ``rejects`` with its number and reason; these are the reads
that show an outlet which lines, and why, so that it can fix its export and upload again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ledger.errors import ConfigError, NotFoundError
from ledger.period import Period
from ledger.store.db import UPLOAD_TABLES, Ledger, named_query, now

SHA_PREFIX = 8  # the fewest hex digits of a content digest that name an upload


@dataclass(frozen=True)
class Upload:
    """One upload's row (``uploads``, a table of one row), and its rejected lines per reason."""

    upload_id: str
    row: pa.Table
    outlets: pa.Table  # outlet, first_ts, last_ts, lines, and the lines per class
    reasons: pa.Table  # reason, lines, first_line, last_line


def list_uploads(ledger: Ledger, period: Period | None = None, outlet: str | None = None) -> pa.Table:
    """The uploads, oldest first: all of them, or those with lines in ``period`` and of ``outlet``."""
    params = {
        "all_time": period is None,
        "start": period.start if period else None,
        "end": period.end if period else None,
        "outlet": outlet,
    }
    return ledger.arrow(named_query("uploads_list"), params)


def find_upload(ledger: Ledger, ref: str) -> str:
    """The upload named by ``ref``: its id, a prefix of its id, the start of its content digest (at least
    SHA_PREFIX hex digits: ``zcat FILE | sha256sum`` tells it for a compressed log) or its source name, when
    exactly one upload has it."""
    ref = ref.strip()
    if not ref:
        raise ConfigError("name an upload: its id, the start of its content_sha256, or its file name", key="UPLOAD")
    rows = ledger.rows(
        "SELECT upload_id, source FROM uploads WHERE upload_id = $ref"
        " OR starts_with(upload_id, $ref)"
        " OR (length($ref) >= $digits AND starts_with(content_sha256, lower($ref)))"
        " OR source = $ref OR parse_filename(source) = $ref"
        " ORDER BY ingested_at, upload_id",
        {"ref": ref, "digits": SHA_PREFIX},
    )
    exact = [row for row in rows if row["upload_id"] == ref]
    if exact or len(rows) == 1:
        return str((exact or rows)[0]["upload_id"])
    if rows:
        shown = ", ".join(f"{row['upload_id']} ({row['source']})" for row in rows[:10])
        raise ConfigError(
            f"'{ref}' names {len(rows)} uploads: {shown}{', ...' if len(rows) > 10 else ''}; give more of the id",
            key="UPLOAD",
        )
    known = [str(row["upload_id"]) for row in ledger.rows("SELECT upload_id FROM uploads ORDER BY upload_id")]
    raise NotFoundError("upload", ref, known, "List them with 'royalty uploads list'.")


def upload(ledger: Ledger, ref: str) -> Upload:
    """The upload named by ``ref`` (``find_upload``), with its lines per outlet and its rejects per reason."""
    upload_id = find_upload(ledger, ref)
    row = ledger.arrow("SELECT * FROM uploads WHERE upload_id = ?", [upload_id])
    outlets = ledger.arrow(named_query("uploads_outlets"), {"upload_id": upload_id})
    reasons = ledger.arrow(named_query("uploads_reasons"), {"upload_id": upload_id})
    return Upload(upload_id, row, outlets, reasons)


def upload_rejects(ledger: Ledger, upload_id: str, reason: str | None = None, limit: int | None = None) -> pa.Table:
    """The rejected lines of upload ``upload_id`` in line order: every one, or those of ``reason``, up to
    ``limit``. A reason the upload has no line of is an error that lists those it has."""
    if limit is not None and limit < 1:
        raise ConfigError("give a positive number of lines", key="--limit", value=str(limit))
    if reason is not None:
        reasons = [row["reason"] for row in ledger.rows(named_query("uploads_reasons"), {"upload_id": upload_id})]
        if reason not in reasons:
            raise ConfigError(
                f"upload {upload_id} rejected no line for the reason '{reason}'",
                key="--reason",
                allowed=reasons,
                value=reason,
            )
    return ledger.arrow(named_query("uploads_rejects"), {"upload_id": upload_id, "reason": reason, "limit": limit})


# The judgements made later of an upload's fetches (robots.txt, reverse DNS): removed with it.
JUDGEMENT_TABLES = ("robots_verdicts", "rdns_verdicts")
REMOVAL_COLUMNS = (
    "upload_id, source, content_sha256, raw_sha256, format, outlet, lines_total, lines_parsed, lines_rejected, "
    "ai_fetches, first_ts, last_ts, ingested_at"
)


def remove_upload(ledger: Ledger, upload_id: str, reason: str) -> dict[str, Any]:
    """Take upload ``upload_id`` out of the ledger, all or nothing: every row it brought and the judgements
    of its fetches are deleted, and ``upload_removals`` keeps what it was, when and why (``reason``). Its
    file can then be ingested again. Refused when a stored settlement run read it: the run's statement
    recounts its fetches. Returns the removal's row."""
    reason = reason.strip()
    if not reason:
        raise ConfigError("say why the upload is removed (it is kept with the removal)", key="--reason")
    runs = [
        str(row["run_id"])
        for row in ledger.rows(
            "SELECT run_id FROM settlement_uploads WHERE list_contains(upload_ids, ?) ORDER BY run_id", [upload_id]
        )
    ]
    if runs:
        shown = ", ".join(runs[:5]) + (", ..." if len(runs) > 5 else "")
        raise ConfigError(
            f"upload {upload_id} was read by {len(runs)} stored settlement run(s) ({shown}), whose statements "
            "recount its fetches: a settled upload is evidence, and stays in the ledger",
            key="UPLOAD",
        )
    with ledger.transaction():
        ledger.execute(
            f"INSERT INTO upload_removals SELECT {REMOVAL_COLUMNS}, ?, ? FROM uploads WHERE upload_id = ?",
            [now(), reason, upload_id],
        )
        for table in (*JUDGEMENT_TABLES, *UPLOAD_TABLES):
            ledger.execute(f"DELETE FROM {table} WHERE upload_id = ?", [upload_id])
    return ledger.rows("SELECT * FROM upload_removals WHERE upload_id = ?", [upload_id])[0]


def list_removals(ledger: Ledger) -> pa.Table:
    """The uploads taken out of the ledger, in the order they went."""
    return ledger.arrow("SELECT * FROM upload_removals ORDER BY removed_at, upload_id")
