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

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
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


Span = tuple[str, int, int]  # outlet, first and last time in microseconds since the epoch (inclusive)


@dataclass
class StoredWindows:
    """The time covered by the uploads in the ledger, per outlet, as sorted disjoint spans: an outlet's
    are read the first time it comes up in a run (one query, and only its own: a regulator's ledger holds
    many outlets), then added to as the run's uploads are written. An upload none of whose windows meets
    them cannot overlap an earlier one, so the ingest skips the overlap check's queries for it (their
    planning took 1.75 ms of the writing thread per file for the window test alone). The test is exact:
    a window meets the union of the stored ones exactly when it meets one of them."""

    ledger: Ledger | None = None  # None: nothing stored but what is added
    starts: dict[str, list[int]] = field(default_factory=dict)
    ends: dict[str, list[int]] = field(default_factory=dict)

    def may_overlap(self, spans: Iterable[Span], times: dict[str, np.ndarray] | None, upload_id: str) -> bool:
        """Whether the overlap check of upload ``upload_id`` (its windows ``spans``, the times of its AI
        fetches per outlet, None when not kept) can find anything: its windows meet stored ones, and
        one of its AI fetches falls inside them."""
        return self.meets(spans, upload_id) and (times is None or self.hold_any(times, upload_id))

    def meets(self, spans: Iterable[Span], upload_id: str) -> bool:
        """Whether one of ``spans`` (the windows of upload ``upload_id``, written but not committed) shares
        an instant with a stored window of its outlet."""
        for outlet, first, last in spans:
            starts, ends = self._spans(outlet, upload_id)
            at = bisect_right(starts, last) - 1  # the last stored span starting by ``last``
            if at >= 0 and ends[at] >= first:
                return True
        return False

    def hold_any(self, times: dict[str, np.ndarray], upload_id: str) -> bool:
        """Whether a stored window holds one of ``times`` (sorted microseconds, per outlet): the AI fetches
        of upload ``upload_id``, whose windows meet them. When none does, the overlap check compares no
        request (it compares the new upload's AI fetches inside the shared windows, and every fetch of the
        upload is inside its own window), so its queries can be skipped."""
        for outlet, moments in times.items():
            starts, ends = self._spans(outlet, upload_id)
            if not starts or not len(moments):
                continue
            at = np.searchsorted(np.asarray(starts, dtype=np.int64), moments, side="right") - 1
            inside = at >= 0
            if (np.asarray(ends, dtype=np.int64)[at[inside]] >= moments[inside]).any():
                return True
        return False

    def add(self, spans: Iterable[Span]) -> None:
        for outlet, first, last in spans:
            starts, ends = self._spans(outlet)
            low = bisect_left(ends, first)  # the first stored span not ending before ``first``
            high = bisect_right(starts, last)  # past the last one starting by ``last``
            if low < high:  # the spans it meets become one
                first, last = min(first, starts[low]), max(last, ends[high - 1])
            starts[low:high], ends[low:high] = [first], [last]

    def _spans(self, outlet: str, upload_id: str = "") -> tuple[list[int], list[int]]:
        """The spans of ``outlet``, read from the ledger the first time (but upload ``upload_id``'s)."""
        if outlet not in self.starts:
            self.starts[outlet], self.ends[outlet] = [], []
            if self.ledger is not None:
                self.add(
                    (outlet, first, last)
                    for first, last in self.ledger.execute(
                        "SELECT epoch_us(first_ts), epoch_us(last_ts) FROM upload_windows"
                        " WHERE outlet = ? AND upload_id <> ? ORDER BY first_ts",
                        [outlet, upload_id],
                    ).fetchall()
                )
        return self.starts[outlet], self.ends[outlet]


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


def find_overlap(ledger: Ledger, upload_id: str, *, windows_meet: bool = False) -> Overlap | None:
    """The most repeated earlier upload overlapping ``upload_id`` (its rows already written), if any.

    The windows are compared first (unless the caller knows they meet: ``StoredWindows``): the
    request-for-request comparison, whose joins grow with the upload, runs only when some earlier
    upload's window of the same outlet intersects this one's."""
    if not windows_meet and not ledger.rows(named_query("overlap_windows"), {"upload_id": upload_id}):
        return None
    rows = ledger.rows(named_query("overlap_check"), {"upload_id": upload_id})
    for row in rows:
        if row["compared"] and row["repeated"] >= THRESHOLD * row["compared"]:
            return Overlap(
                row["other"], row["outlet"], row["first_ts"], row["last_ts"], row["repeated"], row["compared"]
            )
    return None
