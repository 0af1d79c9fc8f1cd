"""Vectorised parsing of batches of log lines into typed columns, and the rejects with their reasons.

Every line of a batch comes out exactly once: in ``parsed``, in ``quiet`` or in ``rejects`` (line number,
reason, the raw line truncated). ``quiet`` lines are well-formed lines that a ``Triage`` (the detector)
says need no detection: they are only counted (as people's or other bots' traffic), so they are not
typed. ``parser_for(fmt)`` gives a parser for one upload (W3C parsers carry their ``#Fields`` from batch
to batch); ``parse_batch`` is the one-shot form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl

from ledger.formats import PRESETS, SNIFF_ORDER, LogFormat
from ledger.frames import constant, put, rows_where
from ledger.parse import native
from ledger.parse.jsonl import JsonParser
from ledger.parse.native import Hints, KnownAgents
from ledger.parse.text import TextParser
from ledger.parse.typed import (
    PARSED_SCHEMA,
    QUIET_SCHEMA,
    RAW_LIMIT,
    REASON_EMPTY,
    REASON_TIME,
    REASON_TIME_RANGE,
    REJECT_SCHEMA,
    check_timezone,
    held,
    parse_time,
    path_with_query,
    quiet_rows,
    reasons,
    rejects_of,
    target_rows,
    typed,
    with_missing,
)
from ledger.parse.w3c import W3cParser

__all__ = [
    "PARSED_SCHEMA",
    "QUIET_SCHEMA",
    "RAW_LIMIT",
    "REASON_EMPTY",
    "REASON_TIME",
    "REASON_TIME_RANGE",
    "REJECT_SCHEMA",
    "ParsedBatch",
    "Parser",
    "Triage",
    "check_timezone",
    "parse_batch",
    "parser_for",
    "sniff_format",
]


REST_ROWS = 50_000  # lines the triage did not settle, parsed at once


@dataclass(frozen=True)
class ParsedBatch:
    parsed: pl.DataFrame
    rejects: pl.DataFrame
    quiet: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUIET_SCHEMA))

    @property
    def lines(self) -> int:
        return self.parsed.height + self.quiet.height + self.rejects.height


class Triage(Protocol):
    def quiet(self, raw: pl.DataFrame) -> pl.Series:
        """For well-formed lines of a text layout, with their fields as logged: the traffic class of those
        that need no detection (a String, null for the others). ``raw`` may carry ``_candidate``: the lines
        that passed the ``split_hints`` tests while split (or, JSON and W3C, ``native.triage_targets``), and
        ``_human``, ``_other`` and ``_declared``: those of them with one of the ``known_agents`` user agents
        of each kind (``_other``: or none)."""
        ...

    def split_hints(self) -> Hints:
        """What the native splitter can test for ``quiet`` while it cuts the lines."""
        ...

    def known_agents(self) -> KnownAgents | None:
        """User agents known to be people's or other bots' (classified before), which the native splitter
        looks up."""
        ...


class _Raw(Protocol):
    def raw(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.Expr]: ...


class Parser:
    """Parses the batches of one upload in the given format."""

    def __init__(self, fmt: LogFormat, *, use_native: bool = True) -> None:
        self.fmt = fmt
        self._raw: _Raw = (
            JsonParser(fmt)
            if fmt.kind == "json"
            else W3cParser(fmt)
            if fmt.kind == "w3c"
            else TextParser(fmt, use_native=use_native)
        )

    def fork(self, lines: pl.Series) -> Parser:
        """A parser for the batch ``lines``, so that batches can be parsed in parallel: this parser itself
        when it is stateless; for W3C, one with the state at the start of ``lines`` (this one moves on)."""
        if not isinstance(self._raw, W3cParser):
            return self
        forked = Parser(self.fmt)
        forked._raw = self._raw.fork(lines)
        return forked

    def parse(self, lines: pl.Series, first_line: int, triage: Triage | None = None) -> ParsedBatch:
        line_no = pl.Series("line_no", np.arange(first_line, first_line + lines.len(), dtype=np.int64))
        frame = pl.DataFrame([line_no, lines.alias("line")])
        if triage is not None and isinstance(self._raw, TextParser) and self._raw.program is not None:
            return self._quiet_first(frame, self._raw.program, triage)
        return self._parse(frame, triage)

    def count(self, lines: pl.Series, first_line: int = 1) -> int:
        """How many of ``lines`` parse: ``parse(lines, first_line).parsed``'s height, without typing their
        fields or building the rejects' reasons (format sniffing tries every preset on a file's first
        lines: with the typing, 17 ms a preset for 1,000 combined lines)."""
        return int(self.parses(lines, first_line).sum())

    def parses(self, lines: pl.Series, first_line: int = 1) -> np.ndarray:
        """Whether each of ``lines`` parses (``count``, line by line)."""
        line_no = pl.Series("line_no", np.arange(first_line, first_line + lines.len(), dtype=np.int64))
        frame = pl.DataFrame([line_no, lines.alias("line")])
        if isinstance(self._raw, TextParser):
            ok = self._raw.parses(frame)
            if ok is not None:
                return ok
        raw, matched = self._raw.raw(frame)
        raw = with_missing(raw)
        time = pl.col("ts") if "ts" in raw.columns else parse_time(self.fmt)
        return raw.select((matched.fill_null(False) & held(time).fill_null(False)).alias("ok"))["ok"].to_numpy()

    def _quiet_first(self, frame: pl.DataFrame, program: native.Program, triage: Triage) -> ParsedBatch:
        """Text layouts the native splitter runs: a first pass reads only what the triage needs (the user
        agent, the host, the time, and the splitter's own tests), so the quiet majority is never cut into
        all its fields; the other lines then take the full way."""
        hints, known = triage.split_hints(), triage.known_agents()
        # the user agents are read only where the splitter did not know them: left over the lines' data
        fields = ("user_agent", "host")
        first, unsettled = native.split_triaged(frame, program, hints, fields, known, loose=("user_agent",))
        if unsettled is None:  # a layout without an address or a user agent: no triage
            return self._parse(frame, triage)
        quiet = triage.quiet(first)
        # the lines left (a part of those the native tests did not settle) come cut already
        left = quiet.is_null().gather(unsettled.rows)
        rest, taken = rows_where(put(unsettled.split, unsettled.clean), left), unsettled.taken.filter(left)
        if rest.height != quiet.null_count():  # pragma: no cover - an invariant, not a branch
            raise AssertionError("a line the triage settled natively was left for the full path")

        def parse_slice(at: int) -> ParsedBatch:
            rows = rest.slice(at, REST_ROWS)
            return self._parse(rows[["line_no", "line"]], None, (rows, taken.slice(at, REST_ROWS)))

        # in slices: a block of bot traffic only would hold every line's intermediate columns at once
        parts = [parse_slice(at) for at in range(0, rest.height, REST_ROWS) or range(1)]
        if "host" not in first.columns:
            first = put(first, constant("host", None, first.height))
        return ParsedBatch(
            pl.concat([part.parsed for part in parts]),
            pl.concat([part.rejects for part in parts]),
            quiet_rows(first, quiet),
        )

    def _parse(
        self, frame: pl.DataFrame, triage: Triage | None, cut: tuple[pl.DataFrame, pl.Series] | None = None
    ) -> ParsedBatch:
        """``cut``: ``frame`` split natively already (text layouts: ``native.split``'s frame and taken lines)."""
        if cut is not None:
            assert isinstance(self._raw, TextParser)  # the only one split natively
            raw, matched = self._raw.raw(frame, cut)
        else:
            raw, matched = self._raw.raw(frame)
        raw = with_missing(raw)
        if "_why" not in raw.columns:
            raw = put(raw, constant("_why", None, raw.height))
        if "ts" not in raw.columns:  # else the native splitter read the times
            raw = raw.with_columns(parse_time(self.fmt).alias("ts"))
        # The reasons are strings: built for the bad lines only (a when/then computes every branch for all).
        # A blank line is one of them: no layout matches it with a time (its reason says it is empty).
        matched = matched.fill_null(False)
        marks = raw.select(matched.alias("_matched"), (~matched | ~held(pl.col("ts")).fill_null(False)).alias("_bad"))
        raw = put(raw, *marks.get_columns())
        bad_rows = marks["_bad"]
        rejects = (
            rejects_of(self._with_reasons(rows_where(raw, bad_rows)))
            if bad_rows.any()
            else pl.DataFrame(schema=REJECT_SCHEMA)
        )
        if triage is not None and self.fmt.kind != "text":  # JSON and W3C: decide on the lines whose fields
            # need no typing, every test natively in one pass, as the splitter does (the polars tests and
            # their inputs took about 38 ms of a CloudFront block); on all the lines, the bad ones left out
            # of its answer: a filter of every column of the good lines took 9 ms, and only the lines left
            # for typing are filtered
            tested = native.triage_targets(raw, triage.split_hints(), triage.known_agents())
            if tested is not None:
                ok = ~raw["_bad"]
                tested = tested.select(pl.all() & pl.lit(ok))
                quiet = triage.quiet(raw.select("user_agent").hstack(tested))
                rest = raw.with_columns(tested["_target"]).filter(ok & quiet.is_null())  # with the target rows
                return ParsedBatch(typed(rest, self.fmt), rejects, quiet_rows(raw, quiet))
        good = rows_where(raw, ~bad_rows) if bad_rows.any() else raw
        if triage is None or good.height == 0:
            return ParsedBatch(typed(good, self.fmt), rejects)
        if self.fmt.kind != "text":  # without the extension: the same tests as polars expressions
            fields = good.select(
                path_with_query().fill_null("").alias("line"),  # what is searched for utm_source and escapes
                "client",
                "forwarded_for",
                "host",
                "user_agent",
                "referer",
            )
            eligible = good.select(target_rows().fill_null(False)).to_series()
            quiet = pl.select(pl.when(pl.lit(eligible)).then(pl.lit(triage.quiet(fields)))).to_series()
        else:  # fields as logged are fields as parsed: decide before typing
            quiet = triage.quiet(good)
        return ParsedBatch(typed(good.filter(quiet.is_null()), self.fmt), rejects, quiet_rows(good, quiet))

    def _with_reasons(self, bad: pl.DataFrame) -> pl.DataFrame:
        generic = reasons(self.fmt, pl.col("_matched"))
        specific = pl.when(pl.col("line").str.strip_chars() == "").then(None).otherwise(pl.col("_why"))
        return bad.with_columns(
            pl.when(~pl.col("_matched")).then(pl.coalesce(specific, generic)).otherwise(generic).alias("reason")
        )


def parser_for(fmt: LogFormat) -> Parser:
    return Parser(fmt)


def parse_batch(lines: pl.Series, first_line: int, fmt: LogFormat) -> ParsedBatch:
    """Parse one batch on its own (W3C state does not carry over)."""
    return Parser(fmt).parse(lines, first_line)


SNIFF_TOLERANCE = 0.5  # a richer format wins if it parses at least half of what the best one parses


def sniff_format(lines: pl.Series, candidates: tuple[str, ...] = SNIFF_ORDER) -> tuple[str | None, int]:
    """The format that parses the most of ``lines``, and how many it parsed.

    Candidates are tried in order (richer layouts first: vhost_combined before combined before common);
    the first whose parsed count is within SNIFF_TOLERANCE of the best wins, so a combined log with a few
    truncated lines is not read as common (which would drop its user agents).
    """
    return sniff_formats([lines], candidates)[0]


def sniff_formats(samples: list[pl.Series], candidates: tuple[str, ...] = SNIFF_ORDER) -> list[tuple[str | None, int]]:
    """``sniff_format`` of each of ``samples`` (the first lines of several files), each preset's pattern
    tried, and its lines counted, once over all the samples it may parse (64 small files: 13 polars
    calls for a pattern, not 64 of a few hundred microseconds each). W3C presets, whose directives carry
    from line to line, count each file's lines on their own."""
    samples = [sample.filter(sample.str.strip_chars() != "") for sample in samples]
    sizes = np.array([sample.len() for sample in samples], dtype=np.int64)
    counts: list[dict[str, int]] = [{} for _ in samples]
    sniffing = sizes > 0  # the files no preset has parsed every line of yet
    every = pl.concat(samples) if len(samples) > 1 else samples[0]
    file_of = np.repeat(np.arange(len(samples)), sizes)
    for name in candidates:
        if not sniffing.any():
            break
        fmt = PRESETS[name]
        hits = every.str.contains(fmt.sniff).fill_null(False).to_numpy()
        tried = np.flatnonzero((np.bincount(file_of[hits], minlength=len(samples)) > 0) & sniffing)
        if not len(tried):
            continue
        if fmt.kind == "w3c" or len(tried) == 1:
            parsed = [Parser(fmt).count(samples[k]) for k in tried]
        else:
            lines = np.isin(file_of, tried)
            ok = Parser(fmt).parses(pl.concat([samples[k] for k in tried]))
            parsed = np.bincount(file_of[lines][ok], minlength=len(samples))[tried].tolist()
        for k, n in zip(tried.tolist(), parsed, strict=True):
            counts[k][name] = int(n)
            sniffing[k] = not _settled(counts[k], candidates, int(sizes[k]))
    return [_chosen(found, candidates) for found in counts]


def _settled(counts: dict[str, int], candidates: tuple[str, ...], size: int) -> bool:
    """Whether the candidates tried so far (``counts``, in order) already decide ``_chosen``'s answer
    whatever the later ones parse: the one it picks now parses at least SNIFF_TOLERANCE of all ``size``
    lines, so it stays within the tolerance of any best, and every candidate before it stays below the
    tolerance of the best so far, which can only grow (a combined log with a few bad lines is settled by
    combined: common, last, is not tried)."""
    chosen, parsed = _chosen(counts, candidates)
    return chosen is not None and parsed >= SNIFF_TOLERANCE * size


def _chosen(counts: dict[str, int], candidates: tuple[str, ...]) -> tuple[str | None, int]:
    best = max(counts.values(), default=0)
    if best == 0:
        return None, 0
    chosen = next(name for name in candidates if counts.get(name, 0) >= SNIFF_TOLERANCE * best)
    return chosen, counts[chosen]
