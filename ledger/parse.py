"""Vectorised parsing of a batch of log lines into typed columns, and the rejects with their reasons.

Every line of the batch comes out exactly once: in ``parsed`` or in ``rejects`` (line number, reason,
the raw line truncated). Timestamps become UTC from here on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from ledger.formats import PRESETS, SNIFF_ORDER, LogFormat

RAW_LIMIT = 2048
REASON_EMPTY = "empty line"
REASON_TIME = "unreadable timestamp"
PARSED_SCHEMA: dict[str, Any] = {
    "line_no": pl.Int64,
    "ts": pl.Datetime("us", "UTC"),
    "host": pl.String,
    "client_ip": pl.String,
    "method": pl.String,
    "path": pl.String,
    "protocol": pl.String,
    "status": pl.Int16,
    "bytes": pl.Int64,
    "referer": pl.String,
    "user_agent": pl.String,
}
REJECT_SCHEMA: dict[str, Any] = {"line_no": pl.Int64, "reason": pl.String, "raw": pl.String}


@dataclass(frozen=True)
class ParsedBatch:
    parsed: pl.DataFrame
    rejects: pl.DataFrame

    @property
    def lines(self) -> int:
        return self.parsed.height + self.rejects.height


def _dash_to_null(column: str) -> pl.Expr:
    value = pl.col(column)
    return pl.when(value.is_in(["-", ""])).then(None).otherwise(value).alias(column)


def _unescape(column: str) -> pl.Expr:
    return pl.col(column).str.replace_all(r"\"", '"', literal=True).str.replace_all(r"\\", "\\", literal=True)


def _first_address(column: str) -> pl.Expr:
    """The leftmost address of a possible X-Forwarded-For chain; '-' and 'unknown' become null."""
    first = pl.col(column).str.split(",").list.first().str.strip_chars()
    return pl.when(first.is_in(["-", "", "unknown"])).then(None).otherwise(first)


def parse_batch(lines: pl.Series, first_line: int, fmt: LogFormat) -> ParsedBatch:
    """Parse ``lines`` (line numbers from ``first_line``) with ``fmt``."""
    frame = pl.DataFrame({"line": lines}).with_row_index("line_no", offset=first_line)
    frame = frame.with_columns(pl.col("line_no").cast(pl.Int64))
    fields = pl.col("line").str.extract_groups(fmt.regex)
    frame = frame.with_columns(fields.alias("_f")).unnest("_f")
    for missing in {"host", "referer", "user_agent", "bytes", "forwarded_for"} - set(fmt.fields):
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(missing))
    frame = frame.with_columns(
        pl.col("time").str.to_datetime(fmt.time_format, strict=False, time_unit="us").alias("ts"),
    )
    reason = (
        pl.when(pl.col("line").str.strip_chars() == "")
        .then(pl.lit(REASON_EMPTY))
        .when(pl.col("time").is_null())
        .then(pl.lit(f"does not match the {fmt.name} format"))
        .when(pl.col("ts").is_null())
        .then(pl.lit(REASON_TIME) + pl.lit(" '") + pl.col("time") + pl.lit("'"))
        .otherwise(None)
        .alias("reason")
    )
    frame = frame.with_columns(reason)
    rejects = frame.filter(pl.col("reason").is_not_null()).select(
        "line_no", "reason", pl.col("line").str.slice(0, RAW_LIMIT).alias("raw")
    )
    good = frame.filter(pl.col("reason").is_null())
    return ParsedBatch(_typed(good), rejects)


def _typed(good: pl.DataFrame) -> pl.DataFrame:
    request = _unescape("request")
    parts = request.str.extract_groups(r"^([A-Za-z]+) (.+?)(?: (HTTP/\d+(?:\.\d+)?))?$")
    client = _first_address("client")
    forwarded = _first_address("forwarded_for")
    return (
        good.with_columns(
            parts.struct.field("1").alias("method"),
            parts.struct.field("2").alias("path"),
            parts.struct.field("3").alias("protocol"),
            pl.col("status").cast(pl.Int16, strict=False),
            pl.col("bytes").cast(pl.Int64, strict=False).fill_null(0),
            pl.col("host").str.to_lowercase().str.replace(r":\d+$", "").str.strip_suffix("."),
            pl.coalesce(forwarded, client).alias("client_ip"),
            _unescape("referer"),
            _unescape("user_agent"),
        )
        .with_columns(_dash_to_null("referer"), _dash_to_null("user_agent"))
        .select([pl.col(name).cast(dtype) for name, dtype in PARSED_SCHEMA.items()])
    )


def sniff_format(lines: pl.Series, candidates: tuple[str, ...] = SNIFF_ORDER) -> tuple[str | None, int]:
    """The candidate matching the most of ``lines`` (first in ``SNIFF_ORDER`` on ties), and its count."""
    sample = pl.DataFrame({"line": lines}).filter(pl.col("line").str.strip_chars() != "")
    best, best_count = None, 0
    for name in candidates:
        count = int(sample.select(pl.col("line").str.contains(PRESETS[name].regex).sum()).item())
        if count > best_count:
            best, best_count = name, count
    return best, best_count
