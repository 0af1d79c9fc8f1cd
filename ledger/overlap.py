"""Uploads that cover the same stretch of an outlet's log (rotated files, a re-export, a merged file).

Each upload records, per outlet, the time window its lines cover (``upload_windows``). A new upload
*overlaps* an earlier one when their windows intersect AND the AI fetches of the new upload inside the
intersection are mostly already in the ledger, request for request (same time, address, request, status,
bytes and user agent). Two web servers behind one balancer share windows but not requests, so they do
not overlap. What to do is the user's choice:

- ``fail`` (default): the upload is refused and nothing is written; the message names the earlier upload;
- ``keep``: everything is ingested (the user says these are different requests); recorded on the upload;
- ``drop``: lines inside a window already covered for their outlet are rejected with that reason (so
  every line is still accounted for) and the rest is ingested.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ledger.errors import InputError
from ledger.store.db import Ledger, named_query

OVERLAP_CHOICES = ("fail", "keep", "drop")
THRESHOLD = 0.5  # share of the new upload's AI fetches in the shared window found again


@dataclass(frozen=True)
class Overlap:
    other: str  # the earlier upload
    outlet: str
    first_ts: object
    last_ts: object
    repeated: int  # AI fetches of the new upload found again in the earlier one
    compared: int  # AI fetches of the new upload inside the shared window


class OverlapError(InputError):
    def __init__(self, source: str, overlap: Overlap) -> None:
        super().__init__(
            f"overlaps upload {overlap.other} for outlet '{overlap.outlet}' between {overlap.first_ts} and "
            f"{overlap.last_ts}: {overlap.repeated} of its {overlap.compared} AI fetches there are already in the "
            "ledger. If this is a rotated or re-exported log, ingest it with --overlap drop (lines in windows "
            "already covered are rejected with that reason); if these are different requests (another server), "
            "use --overlap keep",
            path=source,
        )
        self.overlap = overlap


def covered_windows(ledger: Ledger) -> pl.DataFrame:
    """outlet, first_ts, last_ts, upload_id of every stored upload window."""
    table = ledger.arrow("SELECT outlet, first_ts, last_ts, upload_id FROM upload_windows ORDER BY outlet, first_ts")
    return pl.from_arrow(table)  # type: ignore[return-value]


def inside_covered(parsed: pl.DataFrame, windows: pl.DataFrame) -> pl.Series:
    """For each parsed row (``outlet``, ``ts``), the earlier upload whose window contains it, or null."""
    if windows.height == 0 or parsed.height == 0:
        return pl.Series("covered_by", [None] * parsed.height, dtype=pl.String)
    probe = parsed.select("line_no", "outlet", "ts").with_row_index("_row").sort("ts")
    windows = windows.with_columns(
        pl.col("first_ts").dt.cast_time_unit("us"), pl.col("last_ts").dt.cast_time_unit("us")
    )
    hit = probe.join_asof(windows.sort("first_ts"), left_on="ts", right_on="first_ts", by="outlet", strategy="backward")
    hit = hit.with_columns(pl.when(pl.col("ts") <= pl.col("last_ts")).then(pl.col("upload_id")).alias("covered_by"))
    return hit.sort("_row")["covered_by"]


def find_overlap(ledger: Ledger, upload_id: str) -> Overlap | None:
    """The most repeated earlier upload overlapping ``upload_id`` (its rows already written), if any.

    The windows are compared first: the request-for-request comparison, whose joins grow with the
    upload, runs only when some earlier upload's window of the same outlet intersects this one's."""
    if not ledger.rows(named_query("overlap_windows"), {"upload_id": upload_id}):
        return None
    rows = ledger.rows(named_query("overlap_check"), {"upload_id": upload_id})
    for row in rows:
        if row["compared"] and row["repeated"] >= THRESHOLD * row["compared"]:
            return Overlap(
                row["other"], row["outlet"], row["first_ts"], row["last_ts"], row["repeated"], row["compared"]
            )
    return None
