"""JSON-lines formats: one object per line (after an optional prefix), fields found by JSON path."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import unquote

import polars as pl

from ledger.formats.spec import LogFormat

CHUNK_LINES = 8192  # lines decoded at once
REASON_JSON = "not a JSON object"
REASON_RECORD = "a JSON record without a time or a request: not an access-log entry"
REASON_SHAPE = "a JSON record with an object or a list where the format expects a single value: not this format's"
REASON_NUMBER = "a JSON record with a number out of range (beyond 128-bit integers or 64-bit floats)"
REASON_DEPTH = "a JSON record nested too deep to read (about a thousand levels)"
# The integers polars' JSON reader takes (a signed or an unsigned 128-bit one); beyond them, or a float
# beyond 64 bits, it fails the whole batch's decoding.
INT_RANGE = (-(1 << 127), (1 << 128) - 1)


def _steps(path: str) -> list[str | int]:
    """'request.headers.User-Agent[0]' -> ['request', 'headers', 'User-Agent', 0]."""
    steps: list[str | int] = []
    for part in path.split("."):
        if part.endswith("[0]"):
            steps += [part[:-3], 0]
        else:
            steps.append(part)
    return steps


def _insert(tree: dict[str, Any], steps: list[str | int]) -> None:
    head, rest = steps[0], steps[1:]
    assert isinstance(head, str)
    if not rest:
        tree.setdefault(head, pl.String)
    elif rest == [0]:
        tree[head] = pl.List(pl.String)
    else:
        branch = tree.setdefault(head, {})
        if isinstance(branch, dict):
            _insert(branch, rest)


def _dtype(tree: dict[str, Any]) -> pl.Struct:
    return pl.Struct({k: _dtype(v) if isinstance(v, dict) else v for k, v in tree.items()})


def _expr(steps: list[str | int]) -> pl.Expr:
    expr = pl.col("_obj")
    for step in steps:
        expr = expr.list.first() if step == 0 else expr.struct.field(str(step))
    return expr.cast(pl.String)


class JsonParser:
    """Parses JSON-lines formats; stateless."""

    def __init__(self, fmt: LogFormat) -> None:
        self.fmt = fmt
        self.paths = {field: [_steps(p) for p in spec.split("|")] for field, spec in fmt.paths}
        self.tree: dict[str, Any] = {}
        for alternatives in self.paths.values():
            for steps in alternatives:
                _insert(self.tree, steps)
        self.dtype = _dtype(self.tree)

    def raw(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Expr]:
        """The fields of every line, decoded ``CHUNK_LINES`` at a time: the decoded objects of a whole
        16 MiB batch took about 140 MB, per worker, next to the fields taken from them."""
        parts = [self._raw(frame.slice(start, CHUNK_LINES)) for start in range(0, max(frame.height, 1), CHUNK_LINES)]
        raw = pl.concat(parts) if len(parts) > 1 else parts[0]
        for field in self.fmt.url_encoded:
            if field in raw.columns:
                raw = raw.with_columns(url_decoded(raw[field]))
        return raw, pl.col("_object") & pl.col("time").is_not_null() & self._target().is_not_null()

    def _target(self) -> pl.Expr:
        return pl.coalesce([pl.col(f) for f in ("path", "request") if f in self.paths] or [pl.lit(None)])

    def _raw(self, frame: pl.DataFrame) -> pl.DataFrame:
        body = pl.col("line").str.replace(self.fmt.prefix, "") if self.fmt.prefix else pl.col("line")
        frame = frame.with_columns(body.str.strip_chars().alias("_body"))
        frame = frame.with_columns(pl.col("_body").str.starts_with("{").fill_null(False).alias("_object"))
        decoded, reasons = self._decode(frame)
        frame = frame.with_columns(decoded.alias("_obj"))
        fields = [pl.coalesce([_expr(s) for s in alts]).alias(name) for name, alts in self.paths.items()]
        raw = frame.with_columns(fields).with_columns(pl.col("_obj").is_not_null().alias("_object"))
        record = pl.col("time").is_not_null() & self._target().is_not_null()
        no_object = pl.lit(REASON_JSON)
        if reasons is not None:
            no_object = pl.coalesce(pl.lit(reasons), no_object)
        why = pl.when(~pl.col("_object")).then(no_object).when(~record).then(pl.lit(REASON_RECORD))
        return raw.with_columns(why.otherwise(None).alias("_why")).drop("_obj", "_body")

    def _decode(self, frame: pl.DataFrame) -> tuple[pl.Series, pl.Series | None]:
        """The lines' objects, decoded as the format's fields need them (null: not one); and, when some
        line cannot be decoded so (then the slow path: each line read with ``json``), the reason of each
        object that cannot (the wrong kind of value at one of the format's paths, a number out of range),
        null for the others."""
        bodies = frame.select(pl.when(pl.col("_object")).then(pl.col("_body")).otherwise(None)).to_series()
        try:
            return bodies.str.json_decode(dtype=self.dtype), None
        except pl.exceptions.ComputeError:
            read = [_readable(text, self.tree, self.dtype) for text in bodies.to_list()]
            fits = pl.Series([why is None and fit for fit, why in read], dtype=pl.Boolean)
            reasons = pl.Series([why for _, why in read], dtype=pl.String)
            cleaned = bodies.zip_with(fits, pl.Series([None] * len(read), dtype=pl.String))
            return cleaned.str.json_decode(dtype=self.dtype), reasons


def url_decoded(values: pl.Series) -> pl.Series:
    """Each value's ``%XX`` escapes decoded once (a ``+`` stays a ``+``), the bytes that are no UTF-8 as
    ``\\xHH`` escapes, as in every other field read: each distinct value that holds a ``%`` decoded once."""
    escaped = values.filter(values.str.contains("%", literal=True)).unique()
    if escaped.is_empty():
        return values
    decoded = pl.Series([unquote(value, errors="backslashreplace") for value in escaped.to_list()], dtype=pl.String)
    return values.replace(escaped, decoded)


def _readable(text: str | None, tree: dict[str, Any], dtype: pl.DataType) -> tuple[bool, str | None]:
    """Whether polars can decode ``text`` as the format needs (``tree``, ``dtype``), and when it cannot,
    the reason for a JSON object (None for anything else: no JSON object, which the caller says)."""
    if text is None:
        return False, None
    try:
        value = _object(text)
    except _OutOfRange:
        return False, REASON_NUMBER
    except RecursionError:  # deeper than Python's reader goes (about 990 levels), polars' reading decides
        try:  # (it goes to 1,022 levels): alone, it fails on a wrong shape as on too deep a record
            pl.Series([text], dtype=pl.String).str.json_decode(dtype=dtype)
        except pl.exceptions.ComputeError:
            return False, REASON_DEPTH
        return True, None
    if value is None:
        return False, None
    return (True, None) if _fits(value, tree) else (False, REASON_SHAPE)


class _OutOfRange(ValueError):
    """A number Python's JSON reader takes and polars' does not."""


def _integer(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:  # more digits than Python converts (4,300)
        raise _OutOfRange(text) from exc
    if not INT_RANGE[0] <= value <= INT_RANGE[1]:
        raise _OutOfRange(text)
    return value


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _OutOfRange(text)
    return value


def _object(text: str) -> dict[str, Any] | None:
    """The JSON object ``text`` holds, as polars would read it (None: none); ``_OutOfRange`` for one with a
    number polars does not take."""
    try:  # NaN and Infinity are no JSON (Python's reader takes them; polars' does not)
        value = json.loads(text, parse_constant=_no_constant, parse_int=_integer, parse_float=_float)
    except _OutOfRange:
        raise
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _fits(value: Any, node: Any) -> bool:
    """Whether a decoded JSON ``value`` has, along the format's paths (``node``: a tree of them, its leaves
    the dtypes read), the kinds of values polars can decode into them: an object where the paths go on, a
    list of single values for a first item, a single value at a leaf (missing and null fit anywhere)."""
    if value is None:
        return True
    if isinstance(node, dict):
        return isinstance(value, dict) and all(_fits(value.get(key), child) for key, child in node.items())
    if isinstance(node, pl.List):
        return isinstance(value, list) and not any(isinstance(item, dict | list) for item in value)
    return not isinstance(value, dict | list)
