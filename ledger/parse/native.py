"""Parsing passes run natively (``ledger/_native.c``): one pass per batch instead of a dozen polars
expressions.

- ``split``: a text layout's split plan as a small program, with the CLF time read in the same pass and,
  given the triage's ``Hints``, its tests on each line. The native splitter takes a line only when the
  plan's regexes, taking the first choice at every step, match it; their captures are then exactly what
  it cut, so the result is the regexes' (a quote escaped inside a quoted value is part of it, as the
  regex's ``\\.`` reads it). Every other line (a backslash before a quote outside the quoted values,
  non-ASCII bytes outside quotes, odd timestamps, lines the plan rejects) is left to the full regex. A
  layout whose pieces use a value it does not know, or whose values would need the regex to backtrack,
  keeps the polars plan.
- ``columns``: the columns of separator-split lines (W3C, CloudFront) that have no quote.

Fields come out as Arrow string views. Where the extension was not built, ``program_for`` and
``columns`` say so (None) and the callers do the same work with polars.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
import pyarrow as pa

from ledger.formats.layout import HOST, QUICK_CLIENT, TOKEN
from ledger.formats.spec import CLF, LogFormat, Step
from ledger.frames import put
from ledger.sources import arrow_series

try:
    from ledger import _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - the extension is optional; the polars plan does the same work
    _native = None

OP_LIT, OP_VAL, OP_TRAIL, OP_END, OP_QUOTED = 1, 2, 3, 4, 5
_DIGITS = set("0123456789")
_SPACE = set(" \t\n\v\f\r")
_ASCII = {chr(c) for c in range(128)}
# value regex -> (class code in _native.c, the ASCII characters its greedy run consumes)
CLASSES: dict[str, tuple[int, set[str]]] = {
    TOKEN: (1, _ASCII - _SPACE),
    r"\S*": (2, _ASCII - _SPACE),
    r"[^\]]+": (3, _ASCII - {"]"}),
    r"\d{3}": (4, _DIGITS),
    r"\d+|-": (5, _DIGITS | {"-"}),
    r"\d+": (6, _DIGITS),
    r"[A-Za-z]+|-": (7, {chr(c) for c in range(65, 91)} | {chr(c) for c in range(97, 123)} | {"-"}),
    HOST: (8, (_ASCII - _SPACE - {'"'}) | _DIGITS),  # the colon too, when a port follows
    r"[\d.]+|-": (9, _DIGITS | {".", "-"}),
    r"[-+X]": (10, {"-", "+", "X"}),
    r"\d+(?:\.\d+)?": (11, _DIGITS | {"."}),
    r"[^\s\"]+": (12, _ASCII - _SPACE - {'"'}),
    r"\S+(?:,\s*\S+)*": (1, _ASCII - _SPACE),  # after a greedy \S+ the next is a space: no more items
    QUICK_CLIENT: (13, _ASCII),  # the whole chain; see _greedy_is_safe
}


@dataclass(frozen=True)
class Hints:
    """What the ingest triage lets the native splitter test while it cuts a line (``Detector.split_hints``):
    a line passes when every hop of its address field and X-Forwarded-For chain (``-`` for none) is a
    dotted quad or plain IPv6 text outside these ranges (so whichever hop detection takes for the client,
    it is in no AI-only list), its Referer names none of these hosts, and it has no backslash, no
    ``utm_source=`` (outside the user agent, which no referral reads), a user agent, and a host when the
    layout has one. The user agent is still looked up by the detector."""

    starts: bytes  # 128-bit numbers (IPv4 mapped) as (high, low) uint64 pairs: sorted, disjoint ranges
    ends: bytes  # their inclusive ends
    needles: tuple[str, ...]  # lower-case hosts of AI products


# The kinds of known user agents: a person's and an undeclared bot's make a line quiet (with the triage's
# tests); a declared bot's line takes the full path, without a lookup to tell it.
PERSON, OTHER_BOT, DECLARED = 1, 2, 3


@dataclass(frozen=True)
class KnownAgents:
    """User agent strings end to end (UTF-8), where each starts (``count + 1`` int64 offsets), the kind of
    each (one byte: PERSON, OTHER_BOT or DECLARED), and the slots of their hash table (``_native.agent_index``,
    made once: every native call that looks user agents up would hash all of them again, 9 ms for
    200,000; empty: each call makes its own)."""

    data: bytes
    offsets: bytes
    kinds: bytes
    slots: bytes = b""

    @classmethod
    def of(cls, agents: pl.Series, kinds: pl.Series | None = None) -> KnownAgents:
        """``agents`` of the ``kinds`` (row for row; by default all PERSON); null agents are left out."""
        if kinds is not None:
            kinds = kinds.filter(agents.is_not_null())
        array = agents.drop_nulls().cast(pl.String).to_arrow()  # large strings (polars' oldest compat level)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if array.type != pa.large_string():  # a cast imports pyarrow.compute: 23 ms, on the first batch's way
            array = array.cast(pa.large_string())
        offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
        data = array.buffers()[2]
        start, end = int(offsets[0]), int(offsets[-1])
        each = np.full(len(array), PERSON, dtype=np.uint8) if kinds is None else kinds.cast(pl.UInt8).to_numpy()
        text = data.to_pybytes()[start:end] if data is not None else b""
        starts, kind_bytes = (offsets - start).tobytes(), each.tobytes()
        slots = _native.agent_index(text, starts, kind_bytes) if _native is not None else b""
        return cls(text, starts, kind_bytes, slots)

    def positions(self, strings: pl.Series) -> np.ndarray | None:
        """Where each string is among these user agents (the first equal one), -1 for none and for a null;
        None without the extension."""
        if _native is None:
            return None
        found = _native.agent_slots(string_views(strings), self.data, self.offsets, self.kinds, self.slots)
        slots = np.frombuffer(found, np.int32)
        if strings.null_count():
            slots = np.where(strings.is_not_null().to_numpy(), slots, 0)  # a null reads as ""
        return slots - 1


@dataclass(frozen=True)
class Program:
    code: bytes
    quotes: int
    fields: tuple[str, ...]  # field of each capture, in capture order
    time_field: int  # capture index of a CLF time read natively, -1 when the time is not CLF


def available() -> bool:
    return _native is not None


@cache
def program_for(fmt: LogFormat) -> Program | None:
    """The native program of a text layout's split plan, or None when it has to stay with polars."""
    plan = fmt.plan
    if _native is None or plan is None or len(plan.values) != plan.quotes // 2:
        return None
    fields: list[str] = []
    code = bytearray()

    def capture(field: str | None) -> int:
        if field is None:
            return 0
        fields.append(field)
        return len(fields)

    for n, piece in enumerate(plan.pieces):
        steps = piece.steps
        if not steps and piece.regex != "^$":
            return None  # a plan built without steps
        for position, (kind, text, field) in enumerate(steps):
            if kind == "lit":
                code += b"".join(bytes((OP_LIT, byte, 0)) for byte in text.encode())
            elif kind == "val":
                if text not in CLASSES or not _greedy_is_safe(text, steps[position + 1 :]):
                    return None
                code += bytes((OP_VAL, CLASSES[text][0], capture(field)))
            else:
                code += bytes((OP_TRAIL, 0, 0))
        code += bytes((OP_END, 0, 0))
        if n < len(plan.values):
            code += bytes((OP_QUOTED, capture(plan.values[n]), 0, OP_END, 0, 0))
    time_field = fields.index("time") if fmt.time_kind == CLF and "time" in fields else -1
    return Program(bytes(code), plan.quotes, tuple(fields), time_field)


def _greedy_is_safe(value: str, rest: tuple[Step, ...]) -> bool:
    """Whether a greedy run of ``value`` can only stop where the regex would end it: the next step is a
    literal the value cannot contain, the end of the piece, or (for values without spaces) the trailer."""
    consumed = CLASSES[value][1]
    if value == QUICK_CLIENT:
        # The whole chain ends before a blank that no comma precedes, or at the end: a blank, the
        # trailer or the piece's end must come next (see layout.QUICK_CLIENT).
        return not rest or rest[0][0] == "trail" or (rest[0][0] == "lit" and rest[0][1] in _SPACE)
    if not rest:
        return True
    kind, text, _ = rest[0]
    if kind == "lit":
        return text not in consumed
    if kind == "trail":
        return not (consumed & _SPACE)
    return False


def split(
    frame: pl.DataFrame,
    program: Program,
    hints: Hints | None = None,
    fields: tuple[str, ...] | None = None,
    known: KnownAgents | None = None,
    loose: tuple[str, ...] = (),
) -> tuple[pl.DataFrame, pl.Series]:
    """(``line_no``, ``line``, the plan's fields (or only ``fields``), ``ts`` when the time is CLF, null
    where the native splitter did not take the line, and with ``hints``: ``_candidate``, the lines that
    passed their tests, ``_human``, those of them whose user agent is a PERSON's in ``known``, ``_other``,
    those whose user agent is an OTHER_BOT's or missing (``-`` or empty), and ``_declared``, those whose
    user agent is a DECLARED one's; which lines it took). The fields in ``loose`` keep pointing into the
    lines' data whatever their size: for a caller that reads only a few of their values (a short field is
    otherwise copied into a buffer of its own, so that polars does not compact it at each filter)."""
    out, taken, _ = _split(frame, program, hints, fields, known, loose, unsettled=False)
    return out, taken


@dataclass(frozen=True)
class Unsettled:
    """The lines of a batch the triage's native tests did not settle (``split_triaged``), with every field
    of the plan cut in the same pass: what ``split`` gives for those lines, without reading them again."""

    rows: pl.Series  # their positions in the batch, in order
    split: pl.DataFrame  # split(frame[rows], program)'s frame
    taken: pl.Series  # and which of them it took
    # those taken without a backslash and with a bare address in the client field: the typing's test of a
    # plain line but its request's (ledger.parse.typed._plain_rows)
    clean: pl.Series


def split_triaged(
    frame: pl.DataFrame,
    program: Program,
    hints: Hints,
    fields: tuple[str, ...],
    known: KnownAgents | None = None,
    loose: tuple[str, ...] = (),
) -> tuple[pl.DataFrame, Unsettled | None]:
    """``split(frame, program, hints, fields, known, loose)``'s frame, and the lines whose quiet class the
    native tests did not settle (not ``_human`` or ``_other``) with all their fields (None when the layout
    gives the triage nothing to test: ``split``'s frame then has no ``_candidate``). A second pass over
    those lines, scattered over the whole block, cost a third of the first pass over all of them."""
    out, _, unsettled = _split(frame, program, hints, fields, known, loose, unsettled=True)
    return out, unsettled


def _split(
    frame: pl.DataFrame,
    program: Program,
    hints: Hints | None,
    fields: tuple[str, ...] | None,
    known: KnownAgents | None,
    loose: tuple[str, ...],
    *,
    unsettled: bool,
) -> tuple[pl.DataFrame, pl.Series, Unsettled | None]:
    assert _native is not None
    spec = _triage_spec(program, hints, known)
    names = program.fields if fields is None else tuple(name for name in fields if name in program.fields)
    outputs = bytes(program.fields.index(name) for name in names)
    keep = sum(1 << at for at, name in enumerate(names) if name in loose)
    strings = string_views(frame["line"])
    unsettled = unsettled and spec is not None
    ok, ts, views, buffers, *rest = _native.split(
        strings, program.code, program.quotes, len(program.fields), program.time_field, spec, outputs, keep, unsettled
    )
    flags = np.frombuffer(ok, dtype=np.uint8)
    taken = (flags & 1).astype(np.bool_)
    micros = np.frombuffer(ts, dtype=np.int64)
    lines = frame[["line_no", "line"]]
    out = _split_frame(lines, program, names, taken, micros, views, buffers, strings)
    if spec is not None:
        out = put(
            out,
            pl.Series("_candidate", (flags & 2).astype(np.bool_)),
            pl.Series("_human", (flags & 4).astype(np.bool_)),
            pl.Series("_other", (flags & 8).astype(np.bool_)),
            pl.Series("_declared", (flags & 16).astype(np.bool_)),
        )
    if not unsettled:
        return out, pl.Series("_taken", taken), None
    rows_bytes, rest_views, rest_buffers, rest_clean = rest
    rows = np.frombuffer(rows_bytes, dtype=np.int32)
    lines = lines[rows] if len(rows) else lines.clear()
    rest_taken = taken[rows]
    cut = _split_frame(lines, program, program.fields, rest_taken, micros[rows], rest_views, rest_buffers, strings)
    clean = pl.Series("_clean", np.frombuffer(rest_clean, dtype=np.bool_))
    unsettled_lines = Unsettled(pl.Series("rows", rows), cut, pl.Series("_taken", rest_taken), clean)
    return out, pl.Series("_taken", taken), unsettled_lines


def _split_frame(
    lines: pl.DataFrame,
    program: Program,
    names: tuple[str, ...],
    taken: np.ndarray,
    micros: np.ndarray,
    views: list[bytearray],
    buffers: list[bytearray | None],
    strings: StringViews,
) -> pl.DataFrame:
    """``lines`` with the fields ``names`` (views over ``strings``' data or packed ``buffers``), and ``ts``
    when the time is CLF; null where not ``taken``."""
    columns = [
        arrow_series(name, _views(taken, view, strings, buffer))
        for name, view, buffer in zip(names, views, buffers, strict=True)
    ]
    if program.time_field >= 0:  # UTC microseconds; null where the line was not taken
        stamps = pl.Series("ts", micros).cast(pl.Datetime("us", "UTC"))
        missed = np.flatnonzero(~taken)
        columns.append(stamps.scatter(missed, None) if len(missed) else stamps)
    return put(lines, *columns)


def columns(frame: pl.DataFrame, sep: str, wanted: dict[str, int]) -> tuple[pl.DataFrame, pl.Series] | None:
    """Separator-split lines (W3C, CloudFront) cut natively: (``frame`` with each wanted field read from
    its column, null in the lines it did not take; which lines it took), or None when the extension is
    not built or the layout does not fit it. It takes a line without a double quote, not a directive,
    with at least the columns asked for; ledger.parse.w3c reads the others its own way."""
    if _native is None or len(sep) != 1 or not wanted or max(wanted.values()) > 255 or len(wanted) > 32:
        return None
    strings = string_views(frame["line"])
    ok, views, buffers = _native.columns(strings, ord(sep), bytes(wanted.values()))
    taken = np.frombuffer(ok, dtype=np.bool_)
    fields = [
        arrow_series(name, _views(taken, view, strings, buffer))
        for name, view, buffer in zip(wanted, views, buffers, strict=True)
    ]
    return put(frame, *fields), pl.Series("_taken", taken)


def request_parts(requests: pl.Series) -> pl.DataFrame | None:
    """Which requests are plain, ``METHOD /target HTTP/x`` (``_simple``), and for those their three parts
    (``_req_method``, ``_req_target``, ``_req_protocol``; null elsewhere), cut natively; None without the extension.
    ASCII only: a plain request with other bytes says no here, and takes the general typing."""
    if _native is None:
        return None
    strings = string_views(requests)
    ok, views = _native.requests(strings)
    simple = np.frombuffer(ok, dtype=np.bool_)
    names = ("_req_method", "_req_target", "_req_protocol")
    cut = [arrow_series(name, _views(simple, view, strings, None)) for name, view in zip(names, views, strict=True)]
    return pl.DataFrame([pl.Series("_simple", simple), *cut])


def w3c_stamps(dates: pl.Series, times: pl.Series) -> tuple[pl.Series, pl.Series] | None:
    """Which W3C dates and times are plain (``YYYY-MM-DD``, ``HH:MM:SS`` with up to six fraction digits,
    no blanks), and the naive instants they name (microseconds; 0 elsewhere); None without the
    extension."""
    if _native is None:
        return None
    ok, micros = _native.w3c_stamps(string_views(dates), string_views(times))
    return pl.Series("ok", np.frombuffer(ok, dtype=np.bool_)), pl.Series("naive", np.frombuffer(micros, dtype=np.int64))


def address_kinds(values: pl.Series) -> np.ndarray | None:
    """What ``ledger.parse.typed._address`` makes of each value, told natively: 0 the value itself, 1 null,
    2 something only its expressions tell; None without the extension."""
    if _native is None:
        return None
    return np.frombuffer(_native.address_kinds(string_views(values)), dtype=np.uint8)


def integers(values: pl.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Which values are one to eighteen decimal digits (0, with their numbers), ``-``, empty or null (1), or
    anything else (2: a sign, a blank, a non-ASCII digit, which polars reads), told natively, and the
    numbers (0 where the kind is not 0); None without the extension."""
    if _native is None:
        return None
    kinds, numbers = _native.integers(string_views(values))
    return np.frombuffer(kinds, dtype=np.uint8), np.frombuffer(numbers, dtype=np.int64)


def urls(hosts: pl.Series, paths: pl.Series) -> tuple[np.ndarray, pl.Series] | None:
    """Canonical URLs natively (``ledger.detect.classify._canonical_url`` of each host and path): which
    rows it made (1), which have none (0: no path from the root, or no host) and which it left to polars
    (2: a non-ASCII path), and the URLs (null where it made none); None without the extension."""
    if _native is None:
        return None
    host_views = string_views(hosts)
    state, views, data = _native.urls(host_views, string_views(paths))
    status = np.frombuffer(state, dtype=np.uint8).copy()
    status[(status == 1) & hosts.is_null().to_numpy()] = 0  # a null host reads as empty: no URL
    return status, arrow_series("url", _views(status == 1, views, host_views, data))


def unquoted(values: pl.Series) -> tuple[np.ndarray, pl.Series] | None:
    """URL-decoded values natively (``ledger.parse.w3c._unquote_twice`` of each): 0 for a value without
    ``%`` (or null), which stays as it is, 1 for one decoded here, 2 for one whose decoded bytes are not
    UTF-8 (left to Python, which replaces them: empty here), and the values (each distinct one decoded
    once); None without the extension."""
    if _native is None:
        return None
    strings = string_views(values)
    state, views, data = _native.unquote(strings)
    status = np.frombuffer(state, dtype=np.uint8)
    validity = pa.py_buffer(np.packbits(values.is_not_null().to_numpy(), bitorder="little"))
    buffers = [validity, pa.py_buffer(views), *strings[4], pa.py_buffer(data)]
    array = pa.StringViewArray.from_buffers(pa.string_view(), len(status), buffers)
    return status, arrow_series(values.name, array)


StringViews = tuple[pa.Buffer, pa.Buffer | None, int, int, tuple[pa.Buffer, ...]]


def string_views(strings: pl.Series) -> StringViews:
    """What the native functions read: a String column as polars holds it, an Arrow string-view array,
    without a copy: (views, validity or None, offset, length, data buffers). A null reads as ''."""
    array = strings.cast(pl.String).to_arrow(compat_level=pl.CompatLevel.newest())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.string_view():
        array = array.cast(pa.string_view())
    validity, views, *data = array.buffers()
    return views, validity, array.offset, len(array), tuple(data)


def _views(valid: np.ndarray, views: bytearray, strings: StringViews, buffer: bytearray | None) -> pa.Array:
    """A string view array from the native module's views over the lines' own data buffers (``buffer``
    None) or over a packed buffer of the field's own."""
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    data = strings[4] if buffer is None else (pa.py_buffer(buffer),)
    return pa.StringViewArray.from_buffers(pa.string_view(), len(valid), [validity, pa.py_buffer(views), *data])


def triage_fields(
    clients: pl.Series, agents: pl.Series, hints: Hints, known: KnownAgents | None
) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series] | None:
    """The triage's address and user agent tests on fields as read, natively (None without the
    extension): which clients are plain addresses (or chains of them) outside the ``hints``' ranges, and
    which user agents are a PERSON's, an OTHER_BOT's (or missing: ``-``, empty, null) or a DECLARED one's
    in ``known``."""
    if _native is None:
        return None
    flags = np.frombuffer(
        _native.triage_fields(string_views(clients), string_views(agents), _spec(hints, (-1,) * 5, known)),
        dtype=np.uint8,
    )
    return (
        pl.Series("outside", (flags & 1).astype(np.bool_)),
        pl.Series("human", (flags & 2).astype(np.bool_)),
        pl.Series("other", (flags & 4).astype(np.bool_)),
        pl.Series("declared", (flags & 8).astype(np.bool_)),
    )


TARGET_FIELDS = ("request", "path", "query", "client", "forwarded_for", "host", "referer", "user_agent")


def triage_targets(frame: pl.DataFrame, hints: Hints, known: KnownAgents | None) -> pl.DataFrame | None:
    """The triage's tests on JSON and W3C lines with their fields as read (``frame`` has ``TARGET_FIELDS``),
    natively: ``_target``, the target rows (``ledger.parse.typed.target_rows``: fields that typing leaves
    as they are; a client with a non-ASCII digit is not one here, and takes the general typing),
    ``_candidate``, those that pass the tests ``Detector.quiet`` runs on them, and ``_human``, ``_other``
    and ``_declared`` as ``split`` gives them. None without the extension, or when the ``hints`` are more
    than it tests (then polars runs the tests)."""
    if _native is None:
        return None
    columns = (string_views(frame[name]) for name in TARGET_FIELDS)
    found = _native.triage_targets(*columns, _spec(hints, (-1,) * 5, known))
    if found is None:
        return None
    flags = np.frombuffer(found, dtype=np.uint8)
    return pl.DataFrame(
        [
            pl.Series(name, (flags & bit).astype(np.bool_))
            for name, bit in (("_candidate", 1), ("_human", 2), ("_other", 4), ("_declared", 8), ("_target", 16))
        ]
    )


def _triage_spec(program: Program, hints: Hints | None, known: KnownAgents | None) -> tuple[object, ...] | None:
    if hints is None or "client" not in program.fields or "user_agent" not in program.fields:
        return None
    fields = ("client", "referer", "user_agent", "host", "forwarded_for")
    return _spec(hints, tuple(program.fields.index(name) if name in program.fields else -1 for name in fields), known)


def _spec(hints: Hints, index: tuple[int, ...], known: KnownAgents | None) -> tuple[object, ...]:
    needles = b"".join(needle.encode() + b"\0" for needle in hints.needles)
    agents = (known.data, known.offsets, known.kinds, known.slots) if known is not None else ()
    return (hints.starts, hints.ends, needles, *index, *agents)
