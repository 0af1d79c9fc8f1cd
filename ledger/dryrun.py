"""``ingest --dry-run``: how the first lines of a source parse and what detection finds, writing nothing."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

import polars as pl
import pyarrow as pa

from ledger.detect.classify import Detector
from ledger.errors import EmptyInputError
from ledger.ingest import IngestOptions, choose_format
from ledger.outlets import DomainResolver
from ledger.parse import Parser
from ledger.sources import Source
from ledger.store.db import Ledger

COLUMNS = (
    "line_no",
    "outcome",
    "reason",
    "ts",
    "outlet",
    "client_ip",
    "method",
    "path",
    "status",
    "user_agent",
    "class",
    "bot",
    "operator",
    "purpose",
    "verification",
    "referral",
)


@dataclass(frozen=True)
class DryRun:
    source: str
    format: str
    lines: pa.Table  # one row per line looked at, in order (COLUMNS)
    envelope: str | None = None  # what the lines were read out of (``ledger.sources.Envelope.said``)


def dry_run(ledger: Ledger, name: str, options: IngestOptions, *, lines: int = 20) -> DryRun:
    """Parse and detect the first ``lines`` lines of ``name``; the ledger is only read."""
    options.validate(ledger)
    source = Source.open(name)
    first = next(islice(source.batches(), 1), None)
    if first is None:
        raise EmptyInputError(name, source.holes.bytes)
    fmt = choose_format(source.name, first, options)
    result = Parser(fmt).parse(first.lines.head(lines), first.first_line)
    resolver = DomainResolver.from_ledger(ledger)
    parsed = result.parsed.with_columns(
        pl.lit(options.outlet).alias("outlet")
        if options.outlet
        else resolver.resolve(result.parsed["host"]).alias("outlet")
    )
    known = parsed.filter(pl.col("outlet").is_not_null())
    detector = Detector()
    annotated = detector.annotate(known, resolver.primary)
    products = detector.referrals(annotated.filter(pl.col("class") == "human")).select(
        "line_no", pl.col("product").alias("referral")
    )
    good = annotated.join(products, on="line_no", how="left").with_columns(
        pl.lit("parsed").alias("outcome"), pl.lit(None, dtype=pl.String).alias("reason")
    )
    unknown = parsed.filter(pl.col("outlet").is_null()).select(
        "line_no",
        pl.lit("rejected").alias("outcome"),
        (pl.lit("host '") + pl.col("host").fill_null("-") + pl.lit("' is not a domain of any outlet")).alias("reason"),
    )
    rejected = result.rejects.select("line_no", pl.lit("rejected").alias("outcome"), "reason")
    table = pl.concat([good, unknown, rejected], how="diagonal_relaxed").sort("line_no")
    table = table.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in COLUMNS if c not in table.columns)
    envelope = source.envelope.said if source.envelope is not None else None
    return DryRun(source.name, fmt.name, table.select(COLUMNS).to_arrow(), envelope)
