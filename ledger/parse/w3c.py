"""W3C extended logs (IIS, CloudFront): columns named by ``#Fields:`` directives that may change mid-file.

The parser keeps the current column names (and the ``#Date:`` of files without a date column) from one
batch to the next. Directive lines are not requests: they are rejected with that reason, so the line
accounting still adds up.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import unquote

import numpy as np
import polars as pl

from ledger.formats.spec import LogFormat
from ledger.parse import native

# W3C column name -> canonical field, in order of preference when several name the same field.
COLUMNS = (
    ("date", "date"),
    ("date-local", "date"),
    ("time", "time"),
    ("time-local", "time"),
    ("c-ip", "client"),
    ("cs-method", "method"),
    ("cs-uri-stem", "path"),
    ("cs-uri", "path"),
    ("cs-uri-query", "query"),
    ("sc-status", "status"),
    ("c-status", "status"),  # streaming servers' (SHOUTcast, Windows Media)
    ("sc-bytes", "bytes"),
    ("bytes", "bytes"),
    ("cs(user-agent)", "user_agent"),
    ("cs(referer)", "referer"),
    ("cs(referrer)", "referer"),
    ("x-host-header", "host"),
    ("cs(host)", "host"),
    ("cs-host", "host"),
    ("x-forwarded-for", "forwarded_for"),
    ("sc-content-type", "content_type"),
    ("cs-protocol-version", "protocol"),
    ("cs-version", "protocol"),
)
_DATE_PATTERN = r"^#Date:\s*(\d{4}-\d\d-\d\d)"
_OFFSET_PATTERN = r"^#GMT-Offset:\s*([+-]\d\d):?(\d\d)"
_DATE, _OFFSET = re.compile(_DATE_PATTERN), re.compile(_OFFSET_PATTERN)
REASON_DIRECTIVE = "W3C directive line (#Fields, #Version, ...): not a request"


def with_stamps(data: pl.DataFrame, offset: pl.Expr) -> pl.DataFrame:
    """``ts``, what ``typed.iso8601`` reads from the ISO 8601 text of the date, "T", the time and the
    ``offset`` "+hh:mm" (a property test holds them equal), read directly from the date and time
    (``%Y-%m-%dT%H:%M:%S%.f``) with the offset then subtracted: a third of the general reading's cost,
    which strips the whole string and tries two rewrites of its end first. That text is ``time`` where
    ``ts`` is null, for the reject's reason, and null elsewhere: no other step reads it, and making it
    for every line took a twentieth of a CloudFront block's parse."""
    data = data.with_columns(offset.alias("_offset"))
    sign = pl.when(pl.col("_offset").str.starts_with("-")).then(-1).otherwise(1)
    minutes = sign * (
        pl.col("_offset").str.slice(1, 2).cast(pl.Int64) * 60 + pl.col("_offset").str.slice(4, 2).cast(pl.Int64)
    )
    utc = (pl.lit(_naive(data)) - pl.duration(minutes=minutes)).dt.replace_time_zone("UTC")
    data = data.with_columns(utc.alias("ts"))
    unread = data["ts"].is_null()
    times = pl.repeat(None, data.height, dtype=pl.String, eager=True).alias("time")
    if unread.any():
        rows = unread.arg_true()
        times = times.scatter(rows, data[rows].select(_stamp() + pl.col("_offset")).to_series())
    return data.with_columns(times)


def _stamp() -> pl.Expr:
    """The date, "T" and the time, as ``typed.iso8601`` reads them (with an offset after them)."""
    return pl.col("date").str.strip_chars() + pl.lit("T") + pl.col("time").str.strip_chars()


def _naive(data: pl.DataFrame) -> pl.Series:
    """The instants the date and time name before the offset: plain dates and times read natively (a
    tenth of polars' reading), the others by polars."""
    reading = _stamp().str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    cut = native.w3c_stamps(data["date"], data["time"])
    if cut is None:
        return data.select(reading).to_series()
    ok, micros = cut
    naive = micros.cast(pl.Datetime("us"))
    if not ok.all():
        rows = (~ok).arg_true()
        naive = naive.scatter(rows, data[rows].select(reading).to_series())
    return naive


def _directives(lines: pl.Series) -> pl.Series:
    """Which lines start with "#": from the first byte of each Arrow string view (inline, or the prefix
    of a longer string), as numpy reads it, without reading the strings (polars' ``starts_with`` took 2-4
    ms of a block; it runs twice a block)."""
    views, validity, offset, count, _ = native.string_views(lines)
    cells = np.frombuffer(views, dtype=np.uint8).reshape(-1, 16)[offset : offset + count]
    lengths = cells[:, :4].copy().view("<i4")[:, 0]
    found = (cells[:, 4] == ord("#")) & (lengths > 0)
    if validity is not None:
        valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[offset : offset + count]
        found &= valid.astype(np.bool_)
    return pl.Series("_directive", found)


def _field_names(header: str) -> list[str]:
    return header.split(":", 1)[1].split()


def _unquote_twice(text: str | None) -> str | None:
    """CloudFront URL-encodes these fields, and some pipelines encode them twice (%2520)."""
    if text is None:
        return None
    once = unquote(text)
    return unquote(once) if "%2" in text and "%" in once else once


def _cut_columns(data: pl.DataFrame, sep: str, wanted: dict[str, int], pattern: str, named: bool) -> pl.DataFrame:
    """The ``wanted`` columns and ``_columns_ok`` of lines cut by polars: lines without a double quote are
    split at ``sep``; quoted values (IIS cookies) go through ``pattern`` (slow with many groups, and a
    when/then would run it on every line). Lines without a quote need no quote stripping."""
    needed = max(wanted.values(), default=-1) + 1
    has_quote = data.select(pl.col("line").str.contains('"', literal=True).fill_null(False)).to_series()
    by_regex = bool(needed) and bool(has_quote.any())
    plain = data.filter(~has_quote) if by_regex else data
    plain = plain.with_columns(pl.col("line").str.split(sep).alias("_cut"))  # the split computed once
    parts = [
        plain.with_columns(
            *(pl.col("_cut").list.get(index, null_on_oob=True).alias(field) for field, index in wanted.items()),
            ((pl.col("_cut").list.len() >= needed) & pl.lit(named)).fill_null(False).alias("_columns_ok"),
        ).drop("_cut")
    ]
    if by_regex:
        groups = pl.col("line").str.extract_groups(pattern)
        count_ok = pl.col("line").str.count_matches(sep, literal=True) >= needed - 1
        with_quotes = data.filter(has_quote).with_columns(
            groups.alias("_groups"), (count_ok & pl.lit(named)).fill_null(False).alias("_columns_ok")
        )
        with_quotes = with_quotes.with_columns(
            *(
                pl.col("_groups").struct.field(str(index + 1)).str.strip_chars('"').alias(field)
                for field, index in wanted.items()
            ),
            (pl.col("_columns_ok") & pl.col("_groups").struct.field("1").is_not_null()).alias("_columns_ok"),
        ).drop("_groups")
        parts.append(with_quotes)
    return pl.concat(parts, how="diagonal").sort("line_no") if len(parts) > 1 else parts[0]


class W3cParser:
    """Parses W3C extended logs; remembers the last #Fields and #Date across batches."""

    def __init__(self, fmt: LogFormat) -> None:
        self.fmt = fmt
        self.names: list[str] = fmt.format_string.split() if fmt.format_string else []
        self.date: str | None = None
        self.offset = "+00:00"  # from #GMT-Offset; W3C times are UTC unless a directive says otherwise

    def raw(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Expr]:
        frame = frame.with_columns(_directives(frame["line"]))
        directive = pl.col("_directive")
        if frame["_directive"].any():
            frame = frame.with_columns(
                pl.col("line").str.starts_with("#Fields:").cum_sum().alias("_segment"),
                pl.when(pl.col("line").str.starts_with("#Date:"))
                .then(pl.col("line").str.extract(_DATE_PATTERN, 1))
                .otherwise(None)
                .forward_fill()
                .alias("_date"),
                pl.when(pl.col("line").str.starts_with("#GMT-Offset:"))
                .then(
                    pl.col("line").str.extract(_OFFSET_PATTERN, 1)
                    + pl.lit(":")
                    + pl.col("line").str.extract(_OFFSET_PATTERN, 2)
                )
                .otherwise(None)
                .forward_fill()
                .alias("_offset"),
            )
        else:  # most batches of a big file: no directive, so no per-line regex for them
            frame = frame.with_columns(
                pl.lit(0, dtype=pl.UInt32).alias("_segment"),
                pl.lit(None, dtype=pl.String).alias("_date"),
                pl.lit(None, dtype=pl.String).alias("_offset"),
            )
        if self.fmt.separator == " ":  # some writers pad columns with runs of spaces
            frame = frame.with_columns(
                pl.when(directive)
                .then(pl.col("line"))
                .otherwise(pl.col("line").str.replace_all(r" {2,}", " "))
                .str.strip_chars_end()
                .alias("line")
            )
        directives = frame.filter(pl.col("_directive"))["line"].to_list()  # a few lines, if any
        segments = [self.names] + [_field_names(line) for line in directives if line.startswith("#Fields:")]
        if len(segments) == 1:  # one #Fields stretch: the whole batch, not a copy of it
            parts = [self._segment(frame, self.names)]
        else:
            parts = [self._segment(frame.filter(pl.col("_segment") == n), names) for n, names in enumerate(segments)]
        self._advance(directives)
        raw = pl.concat(parts, how="diagonal_relaxed").sort("line_no") if len(parts) > 1 else parts[0]
        why = pl.when(pl.col("_directive")).then(pl.lit(REASON_DIRECTIVE)).otherwise(pl.col("_why"))
        return raw.with_columns(why.alias("_why")), ~pl.col("_directive") & pl.col("_columns_ok")

    def fork(self, lines: pl.Series) -> W3cParser:
        """A parser for ``lines`` (with the state at their start), this one moved past them: batches can
        then be parsed in parallel, since only directive lines change the state."""
        start = copy.copy(self)
        self._advance(lines.filter(_directives(lines)).to_list())
        return start

    def _advance(self, directives: list[str]) -> None:
        """The state after these directive lines: the last #Fields, #Date and #GMT-Offset that read."""
        for line in directives:
            if line.startswith("#Fields:"):
                self.names = _field_names(line)
            elif line.startswith("#Date:") and (date := _DATE.match(line)):
                self.date = date.group(1)
            elif line.startswith("#GMT-Offset:") and (offset := _OFFSET.match(line)):
                self.offset = f"{offset.group(1)}:{offset.group(2)}"

    def _segment(self, frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
        """Columns of one #Fields stretch, cut natively where the extension takes the line, by polars
        otherwise (``_cut_columns``). More columns than named is fine (fields get appended over the
        years); fewer than the last field the ledger reads is a reject."""
        lowered = [n.lower() for n in names]
        wanted = {field: lowered.index(w3c) for w3c, field in reversed(COLUMNS) if w3c in lowered}
        needed = max(wanted.values(), default=-1) + 1
        sep = self.fmt.separator
        value = '"[^"]*"|[^"' + ("\t" if sep == "\t" else " ") + "]*"
        pattern = "^" + (("\t" if sep == "\t" else " ").join(f"({value})" for _ in range(needed))) + "(?:[\t ].*)?$"
        data = frame.with_columns(pl.coalesce(pl.col("_date"), pl.lit(self.date, dtype=pl.String)).alias("_date"))
        cut = native.columns(data, sep, wanted) if names else None
        if cut is None:
            data = _cut_columns(data, sep, wanted, pattern, bool(names))
        else:  # most lines cut natively; the others (quotes, directives, short lines) put in their places
            data, taken = cut
            data = data.with_columns(taken.alias("_columns_ok"))
            if not taken.all():
                rows = (~taken).arg_true()
                others = _cut_columns(data[rows], sep, wanted, pattern, bool(names))
                data = data.with_columns(data[name].scatter(rows, others[name]) for name in [*wanted, "_columns_ok"])
        if "date" not in wanted:
            data = data.with_columns(pl.col("_date").alias("date"))
        if "time" not in wanted:
            data = data.with_columns(pl.lit(None, dtype=pl.String).alias("time"))
        data = with_stamps(data, pl.coalesce(pl.col("_offset"), pl.lit(self.offset)))
        why = f"fewer than the {needed} columns the last #Fields directive needs" if names else "no #Fields yet"
        data = data.with_columns(
            pl.when(pl.col("_columns_ok")).then(None).otherwise(pl.lit(why)).alias("_why"),
        )
        return self._decode(data)

    def _decode(self, data: pl.DataFrame) -> pl.DataFrame:
        if self.fmt.plus_is_space and "user_agent" in data.columns:
            data = data.with_columns(pl.col("user_agent").str.replace_all("+", " ", literal=True))
        for field in self.fmt.url_encoded:
            if field in data.columns:
                data = data.with_columns(_unquoted(data[field]))
        return data


def _unquoted(values: pl.Series) -> pl.Series:
    """``_unquote_twice`` of each value: natively where the extension decodes it (each distinct value once,
    the others taking its view: 7 ms for a CloudFront block's user agents, where Python's decoding of the
    distinct values and the mapping back took 10-13 ms), by Python for the others (each distinct one once)."""
    decoded = native.unquoted(values)
    if decoded is None:  # without the extension: every value by Python
        return _python_unquoted(values)
    status, out = decoded
    odd = pl.Series(status == 2)
    if odd.any():
        rows = odd.arg_true()
        out = out.scatter(rows, _python_unquoted(values.gather(rows)))
    return out.rename(values.name)


def _python_unquoted(values: pl.Series) -> pl.Series:
    """``_unquote_twice`` of each distinct value, mapped back onto ``values``."""
    distinct = values.drop_nulls().unique().to_list()
    mapping = dict(zip(distinct, [_unquote_twice(value) for value in distinct], strict=True))
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)
