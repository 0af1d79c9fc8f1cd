"""From raw field strings to the typed, canonical columns every format ends in (UTC from here on)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
import polars as pl

from ledger.errors import ConfigError
from ledger.formats.spec import CANONICAL, LogFormat
from ledger.frames import constant, put, rows_where
from ledger.parse import native
from ledger.period import END, FIRST, HELD

RAW_LIMIT = 2048
REASON_EMPTY = "empty line"
REASON_TIME = "unreadable timestamp"
# A line's time outside those a ledger holds (``ledger.period``: year 0 failed its upload's window, a
# fetch before 1970 was left out of every report) is rejected with its reason.
REASON_TIME_RANGE = f"timestamp outside the times a ledger holds ({HELD}, UTC)"
PARSED_SCHEMA: dict[str, Any] = {
    "line_no": pl.Int64,
    "ts": pl.Datetime("us", "UTC"),
    "host": pl.String,
    "client_ip": pl.String,  # the address field as logged: one address, or a chain "a, b, c"
    "forwarded_for": pl.String,  # an X-Forwarded-For chain when the format carries one
    "method": pl.String,
    "path": pl.String,
    "protocol": pl.String,
    "status": pl.Int16,
    "bytes": pl.Int64,
    "referer": pl.String,
    "user_agent": pl.String,
    "content_type": pl.String,
}
QUIET_SCHEMA: dict[str, Any] = {
    "line_no": pl.Int64,
    "ts": pl.Datetime("us", "UTC"),
    "host": pl.String,
    "class": pl.String,  # the traffic class it is counted in: human or other_bot
}
REJECT_SCHEMA: dict[str, Any] = {"line_no": pl.Int64, "reason": pl.String, "raw": pl.String}
_ISO = "%Y-%m-%dT%H:%M:%S%.f%:z"
_URL = r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#\s]+)(.*)$"


def with_missing(frame: pl.DataFrame) -> pl.DataFrame:
    """Every canonical raw field present (null when the format does not carry it)."""
    missing = [name for name in CANONICAL if name not in frame.columns]
    return put(frame, *(constant(name, None, frame.height) for name in missing)) if missing else frame


def iso8601(value: pl.Expr) -> pl.Expr:
    """RFC 3339 / ISO 8601 with 'Z', '+hh:mm', '+hhmm' or a fraction of a second."""
    normal = value.str.strip_chars().str.replace(r"Z$", "+00:00").str.replace(r"([+-]\d\d)(\d\d)$", "${1}:${2}")
    return normal.str.to_datetime(_ISO, strict=False, time_unit="us")


def epoch(value: pl.Expr) -> pl.Expr:
    """Unix time in seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude)."""
    number = value.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    micros = (
        pl.when(number > 1e17)
        .then(number / 1e3)
        .when(number > 1e14)
        .then(number)
        .when(number > 1e11)
        .then(number * 1e3)
        .otherwise(number * 1e6)
    )
    return micros.round(0).cast(pl.Int64, strict=False).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


_FIXED_OFFSET = re.compile(r"([+-])(0\d|1[0-4]):([0-5]\d)")  # --timezone +05:00


def parse_time(fmt: LogFormat) -> pl.Expr:
    """The ``ts`` column from the raw ``time`` (and ``date``) fields, by the format's time kind."""
    raw = pl.col("time")
    kind = fmt.time_kind
    if kind == "iso8601":
        return iso8601(raw)
    if kind == "epoch":
        return epoch(raw)
    if kind in ("epoch_auto", "auto"):
        text = raw.cast(pl.String)
        numeric = text.str.contains(r"^\s*\d+(?:\.\d+)?\s*$")
        clf = text.str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False, time_unit="us")
        return pl.when(numeric).then(epoch(text)).otherwise(pl.coalesce(iso8601(text), clf))
    parsed = raw.str.to_datetime(kind, strict=False, time_unit="us")
    if "%z" in kind:
        return parsed
    if fmt.timezone is None:
        return parsed.dt.replace_time_zone("UTC")
    offset = _FIXED_OFFSET.fullmatch(fmt.timezone)
    if offset is not None:  # arithmetic: polars' zone names hold only some of the fixed offsets
        minutes = (int(offset.group(2)) * 60 + int(offset.group(3))) * (-1 if offset.group(1) == "-" else 1)
        return parsed.dt.replace_time_zone("UTC") - pl.duration(minutes=minutes)
    # A time the clocks skipped (a DST gap) cannot have been written: null, an unreadable timestamp; one
    # written twice (a DST fold) is taken as the first.
    local = parsed.dt.replace_time_zone(fmt.timezone, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC")


def check_timezone(name: str) -> str:
    """``--timezone``: an IANA zone (``Asia/Almaty``) or a fixed offset (``+05:00``), as polars, which
    reads the times in it, knows them; else a ConfigError."""
    if _FIXED_OFFSET.fullmatch(name) is None:
        try:
            pl.Series([datetime(2026, 1, 1)]).dt.replace_time_zone(name)
        except pl.exceptions.PolarsError:
            raise ConfigError(
                f"'{name}' is not a time zone; give an IANA name such as Asia/Almaty, or an offset such as +05:00",
                key="--timezone",
            ) from None
    return name


def held(ts: pl.Expr) -> pl.Expr:
    """Whether a time is one a ledger holds (``FIRST`` to ``END``, exclusive); null for no time."""
    return ts.is_between(pl.lit(FIRST), pl.lit(END), closed="left")


def reasons(fmt: LogFormat, matched: pl.Expr) -> pl.Expr:
    """Why a line is rejected (null when it is not): empty, no match, or a timestamp that does not read
    or is not one a ledger holds."""
    time = pl.lit(" '") + pl.col("time").cast(pl.String).fill_null("") + pl.lit("'")
    return (
        pl.when(pl.col("line").str.strip_chars() == "")
        .then(pl.lit(REASON_EMPTY))
        .when(~matched)
        .then(pl.lit(f"does not match the {fmt.name} format"))
        .when(pl.col("ts").is_null())
        .then(pl.lit(REASON_TIME) + time)
        .when(~held(pl.col("ts")))
        .then(pl.lit(REASON_TIME_RANGE) + time)
        .otherwise(None)
    )


def _dash_to_null(value: pl.Expr) -> pl.Expr:
    # two comparisons, not is_in(["-", ""]): it builds a set for each call (28,500 values: 0.64-0.72 ms
    # against 0.18-0.25 ms, four columns of each block's plain lines)
    return pl.when((value == "-") | (value == "")).then(None).otherwise(value)


def _unescape(value: pl.Expr) -> pl.Expr:
    return value.str.replace_all(r"\"", '"', literal=True).str.replace_all(r"\\", "\\", literal=True)


def _address(value: pl.Expr) -> pl.Expr:
    """An address field or chain, trimmed; '-', '' and 'unknown' become null; a single address loses its port."""
    text = value.str.strip_chars().str.strip_chars('"').str.strip_chars()
    single = ~text.str.contains(",", literal=True)
    cleaned = pl.when(single).then(_strip_port(text)).otherwise(text.str.replace_all(r"\s*,\s*", ", "))
    return pl.when(text.is_in(["-", "", "unknown"])).then(None).otherwise(cleaned)


def address_values(values: pl.Series) -> pl.Series:
    """``_address`` of each value: most (a bare address, a plain chain, "-") are told natively to stay as
    they are or become null, and only the others take the expressions (strips, two port regexes and a
    replace on every row: 4.6 ms of a block behind a load balancer)."""
    if values.null_count() == values.len():  # a layout without the field
        return values
    kinds = native.address_kinds(values)
    if kinds is None:
        return pl.select(_address(pl.lit(values))).to_series()
    kept = _nulls_at(values, kinds != 0)
    odd = pl.Series(kinds == 2)
    if odd.any():
        kept = kept.scatter(odd.arg_true(), pl.select(_address(pl.lit(values.filter(odd)))).to_series())
    return kept.rename(values.name)


def _strip_port(value: pl.Expr) -> pl.Expr:
    """'203.0.113.9:443' -> '203.0.113.9', '[2001:db8::1]:443' -> '2001:db8::1'; bare IPv6 unchanged."""
    bracketed = value.str.extract(r"^\[([0-9A-Fa-f:.]+)\](?::\d+)?$", 1)
    v4_port = value.str.extract(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$", 1)
    return pl.coalesce(bracketed, v4_port, value)


def typed(frame: pl.DataFrame, fmt: LogFormat) -> pl.DataFrame:
    """Raw string fields (plus ``line_no`` and ``ts``) -> PARSED_SCHEMA columns.

    Most lines are plain: no backslash escape, a bare address, and either a request of exactly
    "METHOD /path HTTP/x" (text layouts) or a path and query in fields of their own (JSON, W3C). They take
    cheap expressions; the rest take the general ones. Each cheap path gives what the general one gives
    for its lines (tests/ledger/test_parse.py checks it on generated rows).
    """
    if frame.height == 0:
        return pl.DataFrame(schema=PARSED_SCHEMA)
    frame = with_missing(frame)
    missing = frame["request"].null_count()
    # a target row has no request: text layouts (every line with one) skip that test, and the native
    # triage of JSON and W3C lines tells them (``_target``)
    targets = pl.col("_target") if "_target" in frame.columns else target_rows() if missing else pl.lit(False)
    cut = native.request_parts(frame["request"]) if missing < frame.height else None
    if cut is not None:  # the plain requests and their parts, natively
        frame = frame.hstack(cut)
    plain = _plain_rows(native=cut is not None, clean="_clean" in frame.columns)
    if missing == frame.height:  # a plain row has a request: without any (W3C), none is
        plain = pl.lit(False)
    # one of the two reads the columns (both literal only without rows, returned above): one value a row
    marks = frame.select(plain.fill_null(False).alias("_plain"), targets.fill_null(False).alias("_target"))
    frame = put(frame, *marks.get_columns())
    quick, target = marks["_plain"], ~marks["_plain"] & marks["_target"]
    general = ~marks["_plain"] & ~marks["_target"]
    ways = [
        (build, mask)
        for build, mask in ((_typed_plain, quick), (_typed_target, target), (_typed_general, general))
        if mask.any()
    ]
    if not ways:
        return pl.DataFrame(schema=PARSED_SCHEMA)
    if len(ways) == 2 and ways[0][0] is _typed_plain:
        # plain rows and rows of one other way (a text layout's escaped or odd lines among its plain ones):
        # every row typed the plain way (cheap, and any field gives a value), then the others' rows
        # replaced by their own typing. No filter of the plain rows, no concatenation and sort: a 32 MiB
        # block's 29,636 rows left by the triage, 655 of them general, 39.1 -> 33.2 ms (medians of 60)
        (_, _), (build, mask) = ways
        return _replaced(_typed_plain(frame), mask.arg_true(), build(rows_where(frame, mask)))
    parts = [build(frame if mask.all() else rows_where(frame, mask)) for build, mask in ways]
    return pl.concat(parts).sort("line_no") if len(parts) > 1 else parts[0]


def _replaced(frame: pl.DataFrame, rows: pl.Series, values: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (typed) with ``values`` (the rows at positions ``rows``, typed another way, the same
    columns) in place of those rows; ``line_no`` and ``ts`` pass through every typing as they are."""
    kept = ("line_no", "ts")
    return put(frame, *(frame[name].clone().scatter(rows, values[name]) for name in frame.columns if name not in kept))


_SIMPLE_REQUEST = r"^[A-Z]+ /\S* HTTP/\d(?:\.\d)?$"
_BARE_CLIENT = r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$"


def _no_escape(*columns: str) -> pl.Expr:
    return ~pl.any_horizontal([pl.col(c).str.contains("\\", literal=True).fill_null(False) for c in columns])


def _plain_rows(*, native: bool = False, clean: bool = False) -> pl.Expr:
    """A text layout's line: one request field "METHOD /path HTTP/x", a bare address, no escapes (a
    forwarded-for chain, as load balancers add to every line, is read the general way). ``native``: the
    ``_simple`` column tells the plain requests (``request_parts``); ``clean``: the ``_clean`` column
    tells the lines with a bare address and no backslash at all (``native.Unsettled.clean``)."""
    simple = pl.col("_simple") if native else pl.col("request").str.contains(_SIMPLE_REQUEST).fill_null(False)
    if clean:
        others = pl.col("_clean")
    else:
        bare = pl.col("client").str.contains(_BARE_CLIENT).fill_null(False)
        others = _no_escape("request", "referer", "user_agent", "forwarded_for") & bare
    return simple & others & pl.col("path").is_null() & pl.col("query").is_null()


def target_rows() -> pl.Expr:
    """The JSON and W3C lines whose fields as read are their fields as parsed (no request field, a path
    from the root, a bare address, no forwarded chain, no escape): they take the cheap typing, and the
    triage can decide on them before any typing."""
    return (
        pl.col("request").is_null()
        & pl.col("path").str.starts_with("/").fill_null(False)
        & pl.col("client").str.contains(_BARE_CLIENT).fill_null(False)
        & (pl.col("forwarded_for").is_null() | (pl.col("forwarded_for") == "-"))
        & _no_escape("referer", "user_agent")
    )


def _typed_plain(frame: pl.DataFrame) -> pl.DataFrame:
    # no escapes in it: what the general path makes of it
    forwarded = pl.lit(address_values(frame["forwarded_for"].cast(pl.String)))
    if "_req_method" in frame.columns:  # cut natively (request_parts), and the numbers read natively
        status = number_values(frame["status"], _status()).cast(pl.Int16, strict=False)
        size = _zero_for_null(number_values(frame["bytes"], _bytes()))
        cut = (pl.col("_req_method"), pl.col("_req_target"), pl.col("_req_protocol"))
        return _typed_simple(frame, *cut, forwarded, pl.lit(status), pl.lit(size))
    frame = frame.with_columns(pl.col("request").str.split_exact(" ", 2).alias("_request"))  # computed once
    parts = pl.col("_request")
    return _typed_simple(
        frame, parts.struct.field("field_0"), parts.struct.field("field_1"), parts.struct.field("field_2"), forwarded
    )


def path_with_query() -> pl.Expr:
    """A JSON or W3C line's path and query, as the parsed ``path`` of its target rows."""
    query = pl.col("query")
    return (
        pl.when(query.is_not_null() & ~query.is_in(["-", ""]))
        .then(pl.col("path") + pl.lit("?") + query)
        .otherwise(pl.col("path"))
    )


def _typed_target(frame: pl.DataFrame) -> pl.DataFrame:
    with_query = path_with_query()
    method = _dash_to_null(pl.col("method")).str.to_uppercase()
    # the numbers read natively, and only the hosts normalising changes normalised (as the plain rows')
    status = number_values(frame["status"].cast(pl.String), _status()).cast(pl.Int16, strict=False)
    size = _zero_for_null(number_values(frame["bytes"].cast(pl.String), _bytes()))
    host = normal_hosts(frame.select(_dash_to_null(pl.col("host"))).to_series())
    return _typed_simple(
        frame,
        method,
        with_query,
        _dash_to_null(pl.col("protocol")),
        pl.lit(None, dtype=pl.String),
        pl.lit(status),
        pl.lit(size),
        pl.lit(host),
    )


def _typed_simple(
    frame: pl.DataFrame,
    method: pl.Expr,
    path: pl.Expr,
    protocol: pl.Expr,
    forwarded: pl.Expr,
    status: pl.Expr | None = None,
    size: pl.Expr | None = None,
    host: pl.Expr | None = None,
) -> pl.DataFrame:
    """What both cheap paths read the same way: a bare address, no escapes (``status``, ``size`` and
    ``host``: read already, by default ``_status()``, ``_bytes()`` and the host normalised)."""
    return _as_parsed(
        frame,
        method=method,
        path=path,
        protocol=protocol,
        status=_status() if status is None else status,
        bytes=_bytes() if size is None else size,
        host=normal_host(_dash_to_null(pl.col("host"))) if host is None else host,
        client_ip=pl.col("client"),
        forwarded_for=forwarded,
        referer=_dash_to_null(pl.col("referer")),
        user_agent=_dash_to_null(pl.col("user_agent")),
        content_type=_dash_to_null(pl.col("content_type")),
    )


def _as_parsed(frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """PARSED_SCHEMA's columns of ``frame``, each made by its expression in ``columns`` (else the column of
    its name), in one select: the expressions read ``frame`` as ``with_columns`` would."""
    return frame.select(
        [columns.get(name, pl.col(name)).cast(dtype).alias(name) for name, dtype in PARSED_SCHEMA.items()]
    )


def _status() -> pl.Expr:
    return pl.col("status").cast(pl.String).str.strip_chars().cast(pl.Int16, strict=False).alias("status")


def _bytes() -> pl.Expr:
    return pl.col("bytes").cast(pl.String).str.strip_chars().cast(pl.Int64, strict=False).fill_null(0).alias("bytes")


def number_values(values: pl.Series, expression: pl.Expr) -> pl.Series:
    """The numbers of ``values`` as an Int64: plain decimal digits read natively (``native.integers``),
    missing values (``-``, empty, null) null, and only the others by ``expression`` (``_status()`` or
    ``_bytes()``, which read the column ``values`` comes from: a strip and a cast of every value took 1 ms
    of a block's typing). The caller finishes them as the expression does (the status's range, the size's
    zero for a missing one)."""
    read = native.integers(values)
    if read is None:
        return values.to_frame().select(expression.cast(pl.Int64)).to_series()
    kinds, numbers = read
    out = _nulls_at(pl.Series(values.name, numbers), kinds != 0)
    odd = pl.Series(kinds == 2)
    if odd.any():
        rows = odd.arg_true()
        out = out.scatter(rows, values.gather(rows).to_frame().select(expression.cast(pl.Int64)).to_series())
    return out.rename(values.name)


def _nulls_at(values: pl.Series, rows: np.ndarray) -> pl.Series:
    """``values`` with nulls where ``rows`` (a Boolean array) is true, set in a copy."""
    at = np.flatnonzero(rows)
    return values.clone().scatter(at, None) if len(at) else values


def _zero_for_null(values: pl.Series) -> pl.Series:
    """``values.fill_null(0)``, without polars' query engine when there is no null (most batches)."""
    return values.fill_null(0) if values.null_count() else values


def _typed_general(frame: pl.DataFrame) -> pl.DataFrame:
    # In steps: each intermediate is computed once (inside one expression, the request's groups and the
    # URL's host and path would be evaluated once per use, about three times as much work per row).
    steps = _general_steps()
    for step in steps.intermediates:
        frame = frame.with_columns(step)
    # the addresses natively where they are plain (``address_values``: 3.4 -> 0.8 ms for a block's 1,339
    # general lines, most of them bare addresses with an escaped user agent)
    data = {
        "client_ip": address_values(frame["client"].cast(pl.String)),
        "forwarded_for": address_values(frame.select(steps.forwarded).to_series()),
    }
    return frame.select(
        steps.columns[name] if name in steps.columns else pl.lit(data[name]).cast(dtype).alias(name)
        for name, dtype in PARSED_SCHEMA.items()
    )


@dataclass(frozen=True)
class _Steps:
    intermediates: tuple[pl.Expr, ...]  # the request's parts, the target with its query, its URL's parts
    forwarded: pl.Expr  # the forwarded chain unescaped, before its addresses are read
    columns: dict[str, pl.Expr]  # PARSED_SCHEMA's columns but the addresses, cast and named


@cache
def _general_steps() -> _Steps:
    """The general typing's expressions, made once (by the first call, in whichever thread): making them
    anew for every batch was a quarter of its cost on a few lines (one line: 5.7 -> 4.3 ms a call)."""
    parts = _unescape(pl.col("request")).str.extract_groups(r"^([A-Za-z]+) (.+?)(?: (HTTP/\d+(?:\.\d+)?))?$")
    target = pl.coalesce(pl.col("_parts").struct.field("2"), pl.col("path"))
    with_query = (
        pl.when(pl.col("query").is_not_null() & ~pl.col("query").is_in(["-", ""]))
        .then(target + pl.lit("?") + pl.col("query"))
        .otherwise(target)
    )
    url = pl.col("_target").str.extract_groups(_URL)
    url_host, url_path = pl.col("_url").struct.field("1"), pl.col("_url").struct.field("2")
    path = pl.when(url_host.is_not_null()).then(pl.coalesce(_nonempty(url_path), pl.lit("/"))).otherwise("_target")
    host = pl.coalesce(_dash_to_null(pl.col("host")), url_host)
    columns = {
        "method": pl.coalesce(pl.col("_parts").struct.field("1"), _dash_to_null(pl.col("method"))).str.to_uppercase(),
        "path": _dash_to_null(path),
        "protocol": pl.coalesce(pl.col("_parts").struct.field("3"), _dash_to_null(pl.col("protocol"))),
        "status": _status(),
        "bytes": _bytes(),
        "host": normal_host(host),
        "referer": _dash_to_null(_unescape(pl.col("referer"))),
        "user_agent": _dash_to_null(_unescape(pl.col("user_agent"))),
        "content_type": _dash_to_null(pl.col("content_type")),
    }
    final = {
        name: columns.get(name, pl.col(name)).cast(dtype).alias(name)
        for name, dtype in PARSED_SCHEMA.items()
        if name not in ("client_ip", "forwarded_for")
    }
    return _Steps(
        (parts.alias("_parts"), with_query.alias("_target"), url.alias("_url")),
        _unescape(pl.col("forwarded_for").cast(pl.String)),
        final,
    )


def normal_host(host: pl.Expr) -> pl.Expr:
    """A Host as logged -> lower case, no port, no trailing dot."""
    return host.str.to_lowercase().str.replace(r":\d+$", "").str.strip_suffix(".")


def quiet_rows(frame: pl.DataFrame, classes: pl.Series, *, normalise: bool = True) -> pl.DataFrame:
    """The lines of ``frame`` that need no detection (a traffic class in ``classes``, row for row): only
    what counting them takes (QUIET_SCHEMA). ``frame`` holds raw fields (``normalise``) or typed ones,
    whose host is already normalised."""
    picked = [frame[name] for name in ("line_no", "ts", "host")] + [classes.alias("class")]
    columns = pl.DataFrame([column.cast(dtype) for column, dtype in zip(picked, QUIET_SCHEMA.values(), strict=True)])
    rows = rows_where(columns, classes.is_not_null()) if classes.null_count() else columns
    return put(rows, normal_hosts(rows["host"])) if normalise else rows


_ODD_HOST = r"[A-Z:]|[^\x00-\x7F]|\.$"  # what normal_host can change: a capital letter, a port, a final dot


def normal_hosts(hosts: pl.Series) -> pl.Series:
    """``normal_host`` of each host, computed only for the hosts it changes: most are logged in lower case
    without a port, and lowering every one of millions of quiet lines took 3% of an ingest's CPU."""
    odd = hosts.str.contains(_ODD_HOST).fill_null(False)
    if not odd.any():
        return hosts
    rows = odd.arg_true()
    fixed = pl.select(normal_host(pl.lit(hosts.gather(rows)))).to_series()
    return hosts.clone().scatter(rows, fixed)  # scatter writes in place: not into the caller's series


def _nonempty(value: pl.Expr) -> pl.Expr:
    return pl.when(value == "").then(None).otherwise(value)


def rejects_of(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("reason").is_not_null()).select(
        "line_no", "reason", pl.col("line").str.slice(0, RAW_LIMIT).alias("raw")
    )
