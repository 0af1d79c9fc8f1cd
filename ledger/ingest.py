"""Ingest: one source -> one upload, in one transaction, with every line accounted for.

read (sources) -> parse (formats/parse) -> outlet resolution -> detect -> write (store), batch by batch,
so memory stays flat whatever the file size. The same content ingested again is a no-op reported as a
duplicate; any failure or interruption rolls the whole upload back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

import polars as pl

from ledger.detect.classify import Detector
from ledger.errors import ConfigError, FormatDetectionError, InputError
from ledger.formats import SNIFF_ORDER, LogFormat, get_format
from ledger.outlets import DomainResolver, require_outlet
from ledger.parse import REJECT_SCHEMA, parse_batch, sniff_format
from ledger.sources import Batch, Source
from ledger.store.db import Ledger, now

SNIFF_LINES = 1000
Progress = Callable[[int], None]  # called with the number of lines done so far


@dataclass(frozen=True)
class IngestResult:
    upload_id: str
    source: str
    outlet: str | None
    format: str
    lines: int
    parsed: int
    rejected: int
    ai_fetches: int
    duplicate_upload: bool
    fetches: int = 0
    referrals: int = 0
    compression: str = "none"
    first_ts: datetime | None = None
    last_ts: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Totals:
    lines: int = 0
    parsed: int = 0
    rejected: int = 0
    ai_fetches: int = 0
    fetches: int = 0
    referrals: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None


def ingest_paths(
    ledger: Ledger,
    names: Iterable[str],
    *,
    outlet: str | None = None,
    fmt: str = "auto",
    progress: Progress | None = None,
    each: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Ingest each source in turn, each its own upload; ``each`` sees every result as it lands.

    Stops at the first error: the failing file leaves nothing behind, earlier files stay ingested.
    """
    detector = Detector()
    results = []
    for name in names:
        source = Source.open(name)
        result = ingest_or_duplicate(ledger, source, outlet=outlet, fmt=fmt, detector=detector, progress=progress)
        results.append(result)
        if each is not None:
            each(result)
    return results


def ingest_source(
    ledger: Ledger,
    source: Source,
    *,
    outlet: str | None = None,
    fmt: str = "auto",
    detector: Detector | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    detector = detector or Detector()
    if outlet is not None:
        require_outlet(ledger, outlet)
    if fmt != "auto":
        get_format(fmt)  # validates the name before any work
    resolver = DomainResolver.from_ledger(ledger)
    upload_id = f"{now():%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    totals = _Totals()
    traffic: list[pl.DataFrame] = []
    chosen: LogFormat | None = None
    with ledger.transaction():
        for batch in source.batches():
            if chosen is None:
                chosen = _choose_format(source, batch, fmt, outlet)
            _ingest_batch(ledger, upload_id, batch, chosen, outlet, resolver, detector, totals, traffic)
            if progress is not None:
                progress(totals.lines)
        if chosen is None:
            raise InputError("the file is empty; nothing to ingest", path=source.name)
        existing = ledger.rows("SELECT upload_id FROM uploads WHERE content_sha256 = ?", [source.content_sha256])
        if existing:
            # Same content already in the ledger: undo everything this pass wrote.
            raise _Duplicate(existing[0]["upload_id"])
        _finish(ledger, upload_id, source, chosen, outlet, detector, totals, traffic)
    return IngestResult(
        upload_id=upload_id,
        source=source.name,
        outlet=outlet or _outlets_seen(traffic),
        format=chosen.name,
        lines=totals.lines,
        parsed=totals.parsed,
        rejected=totals.rejected,
        ai_fetches=totals.ai_fetches,
        duplicate_upload=False,
        fetches=totals.fetches,
        referrals=totals.referrals,
        compression=source.compression,
        first_ts=totals.first_ts,
        last_ts=totals.last_ts,
    )


class _Duplicate(Exception):
    def __init__(self, upload_id: str) -> None:
        super().__init__(upload_id)
        self.upload_id = upload_id


def ingest_or_duplicate(ledger: Ledger, source: Source, **options: Any) -> IngestResult:
    """``ingest_source``, reporting a duplicate upload instead of raising.

    When an upload of exactly this file's size exists, the file's hash is checked first, so re-sending
    the same bytes costs one read, not a parse.
    """
    if options.get("outlet") is not None:
        require_outlet(ledger, options["outlet"])
    try:
        same_bytes = _same_raw_bytes(ledger, source)
        if same_bytes is not None:
            raise _Duplicate(same_bytes)
        return ingest_source(ledger, source, **options)
    except _Duplicate as duplicate:
        row = ledger.rows("SELECT * FROM uploads WHERE upload_id = ?", [duplicate.upload_id])[0]
        return IngestResult(
            upload_id=row["upload_id"],
            source=source.name,
            outlet=row["outlet"],
            format=row["format"],
            lines=row["lines_total"],
            parsed=row["lines_parsed"],
            rejected=row["lines_rejected"],
            ai_fetches=row["ai_fetches"],
            duplicate_upload=True,
            compression=row["compression"],
            first_ts=row["first_ts"],
            last_ts=row["last_ts"],
        )


def _same_raw_bytes(ledger: Ledger, source: Source) -> str | None:
    if source.path is None:
        return None
    size = source.path.stat().st_size
    if not ledger.rows("SELECT 1 FROM uploads WHERE raw_bytes = ?", [size]):
        return None
    digest = hashlib.sha256()
    with source.path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    found = ledger.rows("SELECT upload_id FROM uploads WHERE raw_sha256 = ?", [digest.hexdigest()])
    return found[0]["upload_id"] if found else None


def _choose_format(source: Source, batch: Batch, fmt: str, outlet: str | None) -> LogFormat:
    sample = batch.lines.head(SNIFF_LINES)
    candidates = SNIFF_ORDER if fmt == "auto" else (fmt,)
    name, matched = sniff_format(sample, candidates)
    if name is None or matched == 0:
        nonempty = [i for i, line in enumerate(sample.to_list()) if line.strip()]
        first = nonempty[0] if nonempty else 0
        raise FormatDetectionError(
            source.name, candidates, batch.first_line + first, sample[first] if len(sample) else ""
        )
    chosen = get_format(name)
    if outlet is None and not chosen.has_host:
        raise ConfigError(
            f"{source.name}: format '{chosen.name}' carries no host, so the outlet cannot be read from the lines; "
            "pass --outlet SLUG"
        )
    return chosen


def _ingest_batch(
    ledger: Ledger,
    upload_id: str,
    batch: Batch,
    fmt: LogFormat,
    outlet: str | None,
    resolver: DomainResolver,
    detector: Detector,
    totals: _Totals,
    traffic: list[pl.DataFrame],
) -> None:
    result = parse_batch(batch.lines, batch.first_line, fmt)
    parsed, rejects = result.parsed, result.rejects
    if outlet is not None:
        parsed = parsed.with_columns(pl.lit(outlet).alias("outlet"))
    else:
        parsed = parsed.with_columns(resolver.resolve(parsed["host"]).alias("outlet"))
        unknown = parsed.filter(pl.col("outlet").is_null())
        if unknown.height:
            rejects = pl.concat([rejects, _unknown_host_rejects(unknown, batch)])
            parsed = parsed.filter(pl.col("outlet").is_not_null())
    detected = detector.detect(parsed, resolver.primary)
    tag = pl.lit(upload_id).alias("upload_id")
    ledger.insert_arrow("fetches", detected.fetches.with_columns(tag).to_arrow())
    ledger.insert_arrow("referrals", detected.referrals.with_columns(tag).to_arrow())
    ledger.insert_arrow("rejects", rejects.sort("line_no").with_columns(tag).to_arrow())
    traffic.append(detected.traffic)
    totals.lines += batch.lines.len()
    totals.parsed += parsed.height
    totals.rejected += rejects.height
    totals.fetches += detected.fetches.height
    totals.ai_fetches += int(detected.fetches["ai"].sum() or 0)
    totals.referrals += detected.referrals.height
    if parsed.height:
        low, high = cast(datetime, parsed["ts"].min()), cast(datetime, parsed["ts"].max())
        totals.first_ts = low if totals.first_ts is None else min(totals.first_ts, low)
        totals.last_ts = high if totals.last_ts is None else max(totals.last_ts, high)
    if totals.parsed + totals.rejected != totals.lines:  # pragma: no cover - an invariant, not a branch
        raise AssertionError(f"line accounting broke at line {batch.first_line}: {totals}")


def _unknown_host_rejects(unknown: pl.DataFrame, batch: Batch) -> pl.DataFrame:
    reason = (
        pl.lit("host '")
        + pl.col("host").fill_null("-")
        + pl.lit(
            "' is not a domain of any outlet; add it with 'royalty outlets add SLUG --domain HOST' or pass --outlet"
        )
    )
    raw = batch.lines.gather((unknown["line_no"] - batch.first_line).cast(pl.UInt32))
    return (
        unknown.select("line_no", reason.alias("reason"))
        .with_columns(raw.str.slice(0, 2048).alias("raw"))
        .cast(
            REJECT_SCHEMA  # type: ignore[arg-type]
        )
    )


def _finish(
    ledger: Ledger,
    upload_id: str,
    source: Source,
    fmt: LogFormat,
    outlet: str | None,
    detector: Detector,
    totals: _Totals,
    traffic: list[pl.DataFrame],
) -> None:
    if traffic:
        daily = pl.concat(traffic).group_by("outlet", "day", "class").agg(pl.col("requests").sum())
        ledger.insert_arrow("traffic_daily", daily.with_columns(pl.lit(upload_id).alias("upload_id")).to_arrow())
    ledger.execute(
        "INSERT OR IGNORE INTO registry_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            detector.version,
            detector.registry.version,
            detector.ip_lists.version,
            detector.referrers.version,
            len(detector.registry.bots),
            len(detector.ip_lists.lists),
            now(),
        ],
    )
    ledger.execute(
        "INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            upload_id,
            source.name,
            source.content_sha256,
            source.raw_sha256,
            source.raw_bytes,
            source.content_bytes,
            source.compression,
            fmt.name,
            outlet,
            totals.lines,
            totals.parsed,
            totals.rejected,
            totals.ai_fetches,
            totals.first_ts,
            totals.last_ts,
            detector.version,
            now(),
        ],
    )


def _outlets_seen(traffic: list[pl.DataFrame]) -> str | None:
    if not traffic:
        return None
    seen = sorted(set(pl.concat(traffic)["outlet"].to_list()))
    return ",".join(seen) if seen else None
