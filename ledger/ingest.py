"""Ingest: one source -> one upload, all or nothing, with every line accounted for.

read (sources) -> parse and triage (formats/parse) -> outlet resolution -> detect -> write (store),
batch by batch, so memory stays flat whatever the file size: a reader thread reads, decompresses and
hashes the next blocks, two workers parse and detect whole batches, and the calling thread writes the
results in order. Lines the detector's triage calls plain human (or undeclared bot) traffic are only
counted. Rows are committed at every whole DuckDB row group (one transaction for a whole file makes DuckDB
hold it all in memory; see RowGroupWriter), and an upload with rows committed on the way is marked in
progress until its last commit: a failure or Ctrl-C removes every row it wrote, and a killed process's
rows are removed the next time the ledger is opened. Small files are committed several at a time
(``_Group``), and reported once committed. The same content again is a no-op reported as a
duplicate; an overlap with an earlier upload is handled as the user chose (ledger.overlap).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from itertools import chain, pairwise
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from ledger.blocks import BLOCK_SIZE
from ledger.detect.classify import Detected, Detector
from ledger.errors import (
    ConfigError,
    EmptyInputError,
    FormatDetectionError,
    InputError,
    LedgerStoreError,
    binary_share,
)
from ledger.formats import SNIFF_ORDER, LogFormat, custom_layout, get_format
from ledger.frames import constant, put, rows_where
from ledger.inputs import Inputs, inputs_of
from ledger.iplist_refresh import latest_ip_lists
from ledger.outlets import DomainResolver, require_outlet
from ledger.overlap import (
    OVERLAP_CHOICES,
    OverlapError,
    Span,
    StoredWindows,
    covered_windows,
    find_overlap,
    inside_covered,
)
from ledger.parse import RAW_LIMIT, REJECT_SCHEMA, Parser, check_timezone, sniff_format, sniff_formats
from ledger.robots import compute_verdicts, has_snapshots
from ledger.sources import Batch, Prefetch, Source
from ledger.store.db import Ledger, RowGroupWriter, now
from ledger.store.kinds import with_kinds

SNIFF_LINES = 1000
WORKERS = 2  # batches parsed and detected at once
# Lines detected at once. A 32 MiB block holds about 140,000 lines, of which typically a quarter need
# detection; a block of bot traffic only is detected in slices, to bound the memory of its intermediates.
DETECT_ROWS = 50_000
# The bytes of rows a file's batches may have handed to the writing thread and not be written yet
# (``_Backlog``): past this, no further batch is parsed until the writer catches up. A batch of a typical
# log makes about 16 MB of rows, one of bot fetches only 65 MB, and then the writer is the slow side.
BACKLOG_BYTES = 96 << 20
KINDS = "fetch_kinds"  # a batch's kinds of fetches, among its rows: written at once, not held for a row group
COMPACT_AFTER = 64  # per-batch traffic counts and windows are summed up when this many pile up
# The times of an upload's AI fetches kept for the overlap check's first test (StoredWindows.may_overlap; 24
# bytes each): an upload with more is checked by the ledger's queries alone.
AI_TIMES_KEPT = 200_000
# Files under way at once (being read, parsed and detected, or written): several only while each of the
# ones under way, but the last, is read to its end and is no larger than SMALL_FILE (decompressed), so
# memory stays that of one large file plus a few small ones.
FILES_AHEAD = 3
SMALL_FILE = 16 * 1024 * 1024
# Small files read, parsed and detected together (``_Pack``): runs of files of at most PACK_FILE_BYTES on
# disk, up to PACK_FILES of them and PACK_BYTES on disk in all; their lines go in batches of about a block.
PACK_FILES = 64
PACK_FILE_BYTES = 1 << 20
PACK_BYTES = 4 << 20
# The next pack starts while this one is sniffed, parsed and detected only when this one holds at most this
# many bytes of lines (decompressed; a pack holds its files' lines, then their rows, until they are written).
PACK_AHEAD_BYTES = 32 << 20
# Uploads committed together at most (``_Group``), and the bytes of rows they may hold back for one insert
# per table at their commit.
GROUP_FILES = 32
GROUP_BYTES = 64 << 20
INGEST_DUCKDB_MEMORY = "128MB"  # DuckDB's share while ingesting; the batches in flight take the rest of 1 GB
# DuckDB's threads while ingesting: one. Its commits then run in the writing thread, alongside the parse
# workers, instead of competing with them for the cores (measured: about 5% less CPU, 4% faster).
INGEST_DUCKDB_THREADS = 1
Progress = Callable[[int, int], None]  # called with (lines done, raw bytes read) after each batch
UPLOAD_SCHEMA = pa.schema(
    [
        *((name, pa.string()) for name in ("upload_id", "source", "content_sha256", "raw_sha256")),
        ("raw_bytes", pa.int64()),
        ("content_bytes", pa.int64()),
        *((name, pa.string()) for name in ("compression", "format", "outlet")),
        *((name, pa.int64()) for name in ("lines_total", "lines_parsed", "lines_rejected", "ai_fetches")),
        ("first_ts", pa.timestamp("us", tz="UTC")),
        ("last_ts", pa.timestamp("us", tz="UTC")),
        ("registry_version", pa.string()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
        ("overlap", pa.string()),
        ("timezone", pa.string()),
        *((name, pa.int64()) for name in ("null_runs", "null_bytes", "null_cuts")),
    ]
)


@dataclass(frozen=True)
class IngestOptions:
    outlet: str | None = None
    fmt: str = "auto"  # a preset name, or auto
    log_format: str | None = None  # an Apache or nginx format string (overrides fmt)
    overlap: str = "fail"  # fail | keep | drop
    timezone: str | None = None  # the zone of times written without an offset (an IANA name or +05:00)

    def validate(self, ledger: Ledger) -> None:
        if self.outlet is not None:
            require_outlet(ledger, self.outlet)
        if self.timezone is not None:
            check_timezone(self.timezone)
        if self.log_format is None and self.fmt != "auto":
            get_format(self.fmt)
        if self.overlap not in OVERLAP_CHOICES:
            raise ConfigError(
                f"unknown overlap treatment '{self.overlap}'",
                key="--overlap",
                allowed=OVERLAP_CHOICES,
                value=self.overlap,
            )


@dataclass(frozen=True)
class IngestResult:
    upload_id: str | None  # None for a file skipped (``skipped``)
    source: str
    outlet: str | None
    format: str | None  # None for a file skipped
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
    overlap: str | None = None
    skipped: str | None = None  # why a file found in a directory or by a glob was skipped (it is empty)
    # runs of null bytes (holes a crash or a copytruncate rotation leaves) taken out of the text, their
    # bytes, and the texts before one on its line that it cut off (``ledger.blocks.Holes``)
    null_runs: int = 0
    null_bytes: int = 0
    null_cuts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Backlog:
    """The rows of a file's batches handed to the writing thread (``handed``) and not written yet
    (``written``, in the same order), in bytes. ``_processed`` has no further batch parsed while they are
    more than ``limit`` (``wait_room``). When the writer is the slow side (a log of bot fetches only, where
    every line is a row), finished batches no longer pile up ahead of it: four of them at 65 MB of rows
    each, with their parse's memory. ``close`` ends every wait: the writer stopped."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = BACKLOG_BYTES if limit is None else limit
        self.bytes = 0
        self._sizes: deque[int] = deque()
        self._closed = False
        self._changed = threading.Condition()

    def handed(self, done: _Done) -> _Done:
        size = sum(rows.nbytes for rows in done.rows.values())
        with self._changed:
            self._sizes.append(size)
            self.bytes += size
        return done

    def written(self) -> None:
        """The oldest batch handed over is written (nothing for a batch that was not: a pack's)."""
        with self._changed:
            if self._sizes:
                self.bytes -= self._sizes.popleft()
                self._changed.notify_all()

    def wait_room(self) -> None:
        with self._changed:
            while self.bytes > self.limit and not self._closed:
                self._changed.wait()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


@dataclass
class _Run:
    """What one upload accumulates while its batches go through."""

    upload_id: str
    options: IngestOptions
    detector: Detector
    resolver: DomainResolver
    covered: pl.DataFrame | None
    triage: bool = True  # let the detector's triage count plain human and other-bot lines without detection
    fmt: LogFormat | None = None
    parser: Parser | None = None
    lines: int = 0
    parsed: int = 0
    rejected: int = 0
    ai_fetches: int = 0
    fetches: int = 0
    referrals: int = 0
    totals: _Totals | None = None  # summed up once every batch is through (``_processed``)
    backlog: _Backlog = field(default_factory=_Backlog)


def ingest_paths(
    ledger: Ledger,
    names: Iterable[str],
    *,
    outlet: str | None = None,
    fmt: str = "auto",
    log_format: str | None = None,
    overlap: str = "fail",
    timezone: str | None = None,
    progress: Progress | None = None,
    each: Callable[[IngestResult], None] | None = None,
    triage: bool = True,
) -> list[IngestResult]:
    """Ingest each file (directories and globs expanded), each its own upload; ``each`` sees every result,
    once it is committed (small files are committed several at a time: ``_Group``).

    Stops at the first error (Ctrl-C included): the failing file leaves nothing behind, earlier files stay
    ingested, unless the ledger itself failed (a full disk): then the files of its group that were not
    committed yet are rolled back with it, and are not reported. With
    ``triage`` (the default), lines the detector calls plain human or undeclared bot traffic are counted
    without typing or detection; without it every line takes the full path. Both give the same ledger.
    """
    options = IngestOptions(outlet, fmt, log_format, overlap, timezone)
    options.validate(ledger)
    detector = Detector(ip_lists=latest_ip_lists(ledger))  # a refreshed registry version, else the packaged one
    results = []
    with ledger.limits(memory=INGEST_DUCKDB_MEMORY, threads=INGEST_DUCKDB_THREADS):
        for result in _uploads(ledger, inputs_of(names), options, detector, progress=progress, triage=triage):
            results.append(result)
            if each is not None:
                each(result)
        # The rows committed short of a row group are in DuckDB's write-ahead log until a checkpoint: here,
        # under the limits, not when the ledger is closed without them (a file of 2 KB rejected lines: 1.8 GB)
        ledger.execute("CHECKPOINT")
    written = [r.upload_id for r in results if not r.duplicate_upload and r.upload_id is not None]
    if written and has_snapshots(ledger):  # the new AI fetches judged by the robots.txt in force
        compute_verdicts(ledger, registry=detector.registry, uploads=written)
    return results


def _uploads(
    ledger: Ledger,
    inputs: Inputs,
    options: IngestOptions,
    detector: Detector,
    *,
    progress: Progress | None,
    triage: bool,
) -> Iterator[IngestResult]:
    """Each file's upload, in turn. Files overlap: the next one is started (read, parsed and detected in
    its threads) as soon as the last one's batches are all through, while that one's last rows are
    written and committed; with small files, each one's fixed costs (its first batch, its closing
    transaction) then keep both cores busy instead of one. Memory stays that of one file: the next
    file's batches take the place of the last one's. Not with ``--overlap drop``: the next file's lines
    are checked against the windows of the uploads before it, the last one's included."""
    resolver = DomainResolver.from_ledger(ledger)  # outlets do not change while ingesting
    stored = _Stored.read(ledger, options)
    pending = deque(inputs.names)
    ahead: deque[_Started] = deque()

    def start_next() -> bool:
        """The next file, or the next run of small files together (``_Pack``)."""
        if not pending:
            return False
        packed = _pack_names(pending, options)
        setting = _Setting(options, detector, resolver, triage, stored, group, inputs.found)
        if packed:
            ahead.extend(_Started.packed(ledger, packed, setting))
        else:
            ahead.append(_Started.of(ledger, pending.popleft(), setting))
        return True

    def start_more() -> None:
        """The next file when none is under way, and more while every file under way is a small one read
        to its end (fewer than FILES_AHEAD of them, or the files of one pack, made)."""
        while all(started.read_small() for started in ahead) and _room(ahead) and start_next():
            pass

    early = start_more if options.overlap != "drop" else None
    recorded = False  # the detector's versions, recorded with the first upload written
    group = _Group(ledger)
    start_next()
    try:
        while ahead:
            if early is not None:
                start_more()
            started = ahead.popleft()
            if early is not None and started.pack is not None:  # the next pack read while this one is made
                started.pack.wait_read()
                start_more()
            if not started.known_small():  # the uploads before a large one are reported before it starts
                yield from group.commit()
            group.begin()
            try:
                result = started.result(
                    ledger,
                    progress,
                    stored,
                    group,
                    drained=early,
                    record_registry=not recorded,
                    timezone=options.timezone,
                )
            except BaseException:
                yield from group.fail()  # the uploads before it in the group are committed and reported
                raise
            group.results.append(result)
            written = not result.duplicate_upload and result.skipped is None
            recorded = recorded or written
            if written and started.source is not None:
                stored.add(started.source, started.run.totals if started.run is not None else None)
            # --overlap drop: the next file is checked against this one's windows, read from the ledger
            if early is None or not started.read_small() or group.full():
                yield from group.commit()
            if not ahead:  # the last one did not start it (a duplicate, or --overlap drop)
                start_next()
        yield from group.commit()
    finally:
        with suppress(LedgerStoreError):  # the error under way is the one to report
            group.abort()  # an error or Ctrl-C while the group was not committed: nothing of it reported
        for started in ahead:  # an error, Ctrl-C or a caller that stopped: its threads stop
            started.close()


def _pack_names(pending: deque[str], options: IngestOptions) -> list[str]:
    """The names taken from ``pending`` to be read, parsed and detected together: a run of at least two
    small regular files (none with --overlap drop, whose files go one after the other, each checked
    against the windows of those before it); else none taken."""
    if options.overlap == "drop" or PACK_FILES < 2:
        return []
    count, size = 0, 0
    for name in pending:
        try:
            status = os.stat(name) if name != "-" else None
        except OSError:  # its reading says what is wrong, in its turn
            break
        if status is None or not stat.S_ISREG(status.st_mode) or status.st_size > PACK_FILE_BYTES:
            break
        if count == PACK_FILES or size + status.st_size > PACK_BYTES:
            break
        count, size = count + 1, size + status.st_size
    return [pending.popleft() for _ in range(count)] if count >= 2 else []


def _room(ahead: deque[_Started]) -> bool:
    """Whether another file may start: fewer than FILES_AHEAD are under way, or those under way are the
    files of one pack (``start_more`` starts more only once they are all read), made already, or with
    their formats sniffed and at most PACK_AHEAD_BYTES of lines: the next pack is made while this one is
    written, and, when sniffing makes packs the slow side, read and sniffed while this one is parsed and
    detected (300 small files: 3.9 -> 3.2 s; with a format given, the writing is the slow side, and the
    next pack would only wait, holding 100 MB more)."""
    if len(ahead) < FILES_AHEAD:
        return True
    packs = {started.pack for started in ahead if started.batches is not None}
    pack = packs.pop() if len(packs) == 1 else None
    return pack is not None and (pack.ready() or (pack.sniffed and pack.content_bytes() <= PACK_AHEAD_BYTES))


class _Group:
    """Consecutive uploads written in one transaction and committed together, so that a run of small files
    does not pay, for each one, a commit (DuckDB writes its write-ahead log, and syncs it) and an insert
    into each table (a DuckDB statement costs about 1 ms whatever its rows): the rows short of a row group
    at a file's end (all of a small file's, its fetches included), its daily counts, windows and upload
    row are held back here (``hold``) and inserted once per table at the group's commit, or before a
    query that reads them (``insert_held``: the overlap check, the checks for the same bytes or content).

    A group ends before a file not known to be small (``_Started.known_small``) and after one that is
    not, at GROUP_FILES files or GROUP_BYTES held, after each file with ``--overlap drop`` (the next file
    is checked against the windows of those before it, in the ledger), and at the end of the run.

    Results are reported once their group is committed: what was reported is what the ledger holds. A
    failed upload's rows are deleted in the transaction (``undo``), and the uploads before it are committed
    (``fail``) before its error is raised; when the transaction itself failed (a ledger error), it is
    rolled back, and only the uploads the ledger kept are reported. A killed process loses the uploads of
    its open group, none of which was reported yet."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.results: list[IngestResult] = []
        self.held: dict[str, list[pa.Table]] = {}
        self.held_bytes = 0
        self.open = False
        self.broken = False  # the transaction failed: it can only be rolled back

    def begin(self) -> None:
        if not self.open:
            self.ledger.execute("BEGIN TRANSACTION")
            self.open, self.broken = True, False

    def full(self) -> bool:
        return len(self.results) >= GROUP_FILES or self.held_bytes >= GROUP_BYTES

    def hold(self, table: str, rows: pa.Table | None) -> None:
        """Rows to insert before the group's commit."""
        if rows is not None and rows.num_rows:
            self.held.setdefault(table, []).append(rows)
            self.held_bytes += rows.nbytes

    def insert_held(self, *tables: str) -> None:
        """The rows held, in: before a commit (every table), and before a query that reads them (``tables``:
        only those it reads; a statement costs about a millisecond whatever its rows)."""
        for table in tables or tuple(self.held):
            parts = self.held.pop(table, [])
            if parts:
                rows = pa.concat_tables(parts, promote_options="default")
                self.ledger.insert_arrow(table, rows)
                self.held_bytes -= sum(part.nbytes for part in parts)
        if not self.held:
            self.held_bytes = 0

    def before_commit(self, upload_id: str, source: str) -> None:
        """An upload's writer commits on the way (a file of more than a row group of fetches): the rows the
        group holds go in with that commit, and the upload is marked in progress (``Ledger.begin_upload``)."""
        self.insert_held()
        self.ledger.begin_upload(upload_id, source)

    def undo(self, upload_id: str) -> None:
        """A failed upload (or one found to repeat an earlier one) leaves nothing: its held rows dropped, its
        rows deleted, also those committed on the way (its mark with them)."""
        import pyarrow.compute as pc  # only on this path (an ingest's import of it took 30 ms)

        for table, parts in self.held.items():
            self.held[table] = [part.filter(pc.not_equal(part["upload_id"], upload_id)) for part in parts]
        try:
            self.ledger.delete_upload(upload_id)
        except Exception:  # noqa: BLE001 - the transaction failed with the upload: ``fail`` rolls it back
            self.broken = True

    def commit(self) -> Iterator[IngestResult]:
        """Commit, then report the group's results."""
        if self.open:
            self.insert_held()
            self.ledger.execute("COMMIT")
            self.open = False
        results, self.results = self.results, []
        yield from results

    def fail(self) -> Iterator[IngestResult]:
        """After an upload of the group failed (``undo``): the others committed and reported, or, when the
        transaction cannot be committed, rolled back and only the uploads the ledger kept reported."""
        if not self.broken:
            try:
                yield from self.commit()
                return
            except Exception:  # noqa: BLE001 - a ledger error: rolled back below, and the upload's error raised
                self.broken = True
        kept = self.abort()
        results, self.results = self.results, []
        yield from (result for result in results if result.upload_id in kept)

    def abort(self) -> set[str]:
        """Roll the open group back, remove the rows of an upload committed on the way (``Ledger.recover``),
        and return the ids of the group's uploads the ledger holds (committed on the way, or earlier)."""
        if not self.open:
            return set()
        self.open = False
        self.held.clear()
        self.held_bytes = 0
        with suppress(LedgerStoreError):  # DuckDB already ended it (a failed commit)
            self.ledger.execute("ROLLBACK")
        self.ledger.recover()
        ids = sorted({result.upload_id for result in self.results if result.upload_id is not None})
        if not ids:
            return set()
        found = self.ledger.rows("SELECT upload_id FROM uploads WHERE upload_id IN ?", [ids])
        return {row["upload_id"] for row in found}


@dataclass
class _Stored:
    """What the uploads in the ledger hold that each file of a run is checked against: read once per run
    (not queried for each file), then added to as the run's uploads are written.

    ``raw_sizes``: the sizes of the files, to tell which files to hash before parsing (one missed only
    costs a parse: the same content is found again at the end). ``content_sizes``: the lengths of their
    content, to tell which uploads may repeat one at their end: the same content has the same length, so
    the query for an upload's digest runs only then (1 ms of the writing thread a small file).
    ``windows`` (``--overlap fail`` only): the time they cover, to tell which uploads need the overlap
    check's queries (each outlet's read the first time it comes up)."""

    raw_sizes: set[int]
    content_sizes: set[int]
    windows: StoredWindows | None

    @classmethod
    def read(cls, ledger: Ledger, options: IngestOptions) -> _Stored:
        def distinct(column: str) -> set[int]:
            return {row[0] for row in ledger.execute(f"SELECT DISTINCT {column} FROM uploads").fetchall()}

        windows = StoredWindows(ledger) if options.overlap == "fail" else None
        return cls(distinct("raw_bytes"), distinct("content_bytes"), windows)

    def add(self, source: Source, totals: _Totals | None) -> None:
        """An upload written: its file, and its windows (``totals``)."""
        self.raw_sizes.add(source.raw_bytes)
        self.content_sizes.add(source.content_bytes)
        if self.windows is not None and totals is not None:
            self.windows.add(totals.spans)


class _Duplicate(Exception):
    def __init__(self, upload_id: str) -> None:
        super().__init__(upload_id)
        self.upload_id = upload_id


@dataclass(frozen=True)
class _Setting:
    """What starting a file needs besides the ledger and its name: the run's options and shared state."""

    options: IngestOptions
    detector: Detector
    resolver: DomainResolver
    triage: bool
    stored: _Stored
    group: _Group
    found: frozenset[str]  # the files a directory or a glob gave (``inputs_of``): skipped when empty


@dataclass
class _Started:
    """One file under way: its batches being read, parsed and detected in background threads; or the
    earlier upload with exactly its bytes; or the error that stopped it before that (raised in its turn,
    not while the file before it is still being written)."""

    source: Source | None = None
    run: _Run | None = None
    batches: Prefetch[_Done] | _PackMember | None = None
    duplicate: str | None = None
    error: Exception | None = None
    found: bool = False  # found in a directory or by a glob, not named: skipped when empty

    @classmethod
    def of(cls, ledger: Ledger, name: str, setting: _Setting) -> _Started:
        """The file started: read, parsed and detected in its own threads."""
        started = cls.opened(ledger, name, setting)
        if started.source is not None and started.run is not None:
            started.batches = Prefetch(_processed(started.source, started.run), depth=1)
        return started

    @classmethod
    def packed(cls, ledger: Ledger, names: list[str], setting: _Setting) -> list[_Started]:
        """Small files started together: read, parsed and detected in one thread (``_Pack``)."""
        started = [cls.opened(ledger, name, setting) for name in names]
        members = [file for file in started if file.run is not None]  # not a duplicate, nor an error
        if members:
            pack = _Pack([(file.source, file.run) for file in members if file.source and file.run])
            for index, file in enumerate(members):
                file.batches = _PackMember(pack, index)
        return started

    @classmethod
    def opened(cls, ledger: Ledger, name: str, setting: _Setting) -> _Started:
        """The file opened, with its run, not started yet. When an upload of exactly this file's size exists
        (``setting.stored``, the group's uploads included), the file's hash is checked first, so re-sending
        the same bytes costs one read, not a parse."""
        options = setting.options
        try:
            source = Source.open(name)
            same_bytes = _same_raw_bytes(ledger, source, setting.stored.raw_sizes, setting.group)
            if same_bytes is not None:
                source.skip()
                return cls(source, duplicate=same_bytes)
            run = _Run(
                upload_id=f"{now():%Y%m%d%H%M%S}-{secrets.token_hex(4)}",
                options=options,
                detector=setting.detector,
                resolver=setting.resolver,
                covered=covered_windows(ledger) if options.overlap == "drop" else None,
                triage=setting.triage,
            )
            return cls(source, run, found=name in setting.found)
        except Exception as exc:  # noqa: BLE001 - raised by ``result``, in this file's turn
            return cls(error=exc)

    @property
    def pack(self) -> _Pack | None:
        return self.batches.pack if isinstance(self.batches, _PackMember) else None

    def result(
        self,
        ledger: Ledger,
        progress: Progress | None,
        stored: _Stored,
        group: _Group,
        drained: Callable[[], None] | None,
        *,
        record_registry: bool = True,
        timezone: str | None = None,
    ) -> IngestResult:
        """The file's upload written (``drained`` is called once its batches are all through, before its
        last rows are committed), or the duplicate it is, or its skipping (an empty file that a directory or
        a glob gave: ``found``). ``stored``: what the uploads in the ledger hold;
        ``record_registry``: the detector's versions are not in the ledger yet (``_finish``); ``timezone``:
        the run's --timezone, which a duplicate must have been read in too."""
        if self.error is not None:
            raise self.error
        assert self.source is not None
        try:
            if self.duplicate is not None:
                return _duplicate_of(ledger, self.source, self.duplicate, timezone)
            assert self.run is not None and self.batches is not None
            return _written(
                ledger,
                self.source,
                self.run,
                self.batches,
                progress,
                stored,
                group,
                drained,
                record_registry=record_registry,
                small=self.known_small(),
            )
        except _Duplicate as duplicate:  # the same content found at the end
            return _duplicate_of(ledger, self.source, duplicate.upload_id, timezone)
        except EmptyInputError as empty:
            if not self.found:
                raise
            return _skipped(self.source, self.run, f"{empty.what}, nothing to ingest")
        finally:
            self.close()

    def read_small(self) -> bool:
        """Whether this file is read to its end and no larger than SMALL_FILE (a duplicate or an error:
        nothing left to read)."""
        source = self.source
        return source is None or self.batches is None or (source.read_all and source.content_bytes <= SMALL_FILE)

    def known_small(self) -> bool:
        """Whether this file is known to be small: read to its end and no larger than SMALL_FILE, or, while
        it is being read, no more than SMALL_FILE // 8 bytes on disk (compressed, some MB of lines)."""
        if self.read_small():
            return True
        path = self.source.path if self.source is not None else None
        try:
            return path is not None and path.stat().st_size <= SMALL_FILE // 8
        except OSError:  # gone since it was opened: its reading says so, in its turn
            return False

    def close(self) -> None:
        if self.run is not None:
            self.run.backlog.close()  # a batch waiting for room stops waiting: the writer is gone
        if self.batches is not None:
            self.batches.close()


def _skipped(source: Source, run: _Run | None, reason: str) -> IngestResult:
    """The result for a file found in a directory or by a glob that had nothing to ingest."""
    return IngestResult(
        upload_id=None,
        source=source.name,
        outlet=run.options.outlet if run is not None else None,
        format=None,
        lines=0,
        parsed=0,
        rejected=0,
        ai_fetches=0,
        duplicate_upload=False,
        compression=source.compression,
        skipped=reason,
    )


def _duplicate_of(ledger: Ledger, source: Source, upload_id: str, timezone: str | None) -> IngestResult:
    """The result for ``source``, which is the earlier upload ``upload_id`` again; a ConfigError when
    ``timezone`` (--timezone) is not the zone that upload's times were read in."""
    row = ledger.rows("SELECT * FROM uploads WHERE upload_id = ?", [upload_id])[0]
    if row["timezone"] != timezone:
        then = f"in {row['timezone']}" if row["timezone"] else "as UTC"
        given = f"in {timezone}" if timezone else "as UTC"
        raise ConfigError(
            f"{source.name}: the same content is upload {upload_id}, whose times were read {then}; read {given} "
            "they would differ, and content is ingested once (the ledger keeps that upload as it is)",
            key="--timezone",
        )
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
        overlap=row["overlap"],
    )


def _written(
    ledger: Ledger,
    source: Source,
    run: _Run,
    batches: Iterable[_Done],
    progress: Progress | None,
    stored: _Stored,
    group: _Group,
    drained: Callable[[], None] | None,
    *,
    record_registry: bool,
    small: bool = False,
) -> IngestResult:
    """One upload, all or nothing, in the transaction of its ``_Group``, committed on the way at every whole
    DuckDB row group of a table (``RowGroupWriter``: one transaction for a whole file would make DuckDB hold
    it all in RAM, and commits of part of a row group write the rows twice). The upload is marked in
    progress with the first rows committed on the way, so that a killed process's rows are found and
    removed when the ledger is next opened; a file that fits in one transaction (most rotated files) needs
    no mark. The rows the writer holds at the end go to the group, which inserts them at its commit: every
    row of a ``small`` file (its writer has no lead), so that a run of small files makes one insert per
    table and group."""
    writer = RowGroupWriter(
        ledger, before_commit=lambda: group.before_commit(run.upload_id, source.name), lead=not small
    )
    try:
        for done in batches:
            _write(writer, run, done)
            if progress is not None:
                progress(run.lines, source.bytes_read)
        if drained is not None:
            drained()
        for table, rows in writer.take().items():
            group.hold(table, rows)
        if run.fmt is None:
            raise EmptyInputError(source.name, source.holes.bytes)
        if source.content_bytes in stored.content_sizes:
            group.insert_held("uploads")  # the upload rows of the group's files
            sql = "SELECT upload_id FROM uploads WHERE content_sha256 = ?"
            existing = ledger.rows(sql, [source.content_sha256])
            if existing:
                raise _Duplicate(existing[0]["upload_id"])
        _finish(ledger, run, source, group, record_registry=record_registry, stored=stored.windows)
        if writer.committed:
            ledger.end_upload(run.upload_id)
    except BaseException:
        group.undo(run.upload_id)
        raise
    options = run.options
    assert run.totals is not None  # the batches were all through
    return IngestResult(
        upload_id=run.upload_id,
        source=source.name,
        outlet=options.outlet or run.totals.outlets,
        format=run.fmt.name,
        lines=run.lines,
        parsed=run.parsed,
        rejected=run.rejected,
        ai_fetches=run.ai_fetches,
        duplicate_upload=False,
        fetches=run.fetches,
        referrals=run.referrals,
        compression=source.compression,
        first_ts=run.totals.first_ts,
        last_ts=run.totals.last_ts,
        overlap=None if options.overlap == "fail" else options.overlap,
        null_runs=source.holes.runs,
        null_bytes=source.holes.bytes,
        null_cuts=source.holes.cuts,
    )


def _same_raw_bytes(ledger: Ledger, source: Source, sizes: set[int], group: _Group) -> str | None:
    if source.path is None or source.path.stat().st_size not in sizes:
        return None
    digest = hashlib.sha256()
    with source.path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    group.insert_held("uploads")  # the upload rows of the group's files
    found = ledger.rows("SELECT upload_id FROM uploads WHERE raw_sha256 = ?", [digest.hexdigest()])
    return found[0]["upload_id"] if found else None


def choose_format(name: str, batch: Batch, options: IngestOptions) -> LogFormat:
    """The format of a source: the user's format string or preset, or the best sniffed preset; a
    FormatDetectionError when it parses none of the first SNIFF_LINES lines."""
    chosen, matched = _format_of(name, batch, options, check=True)
    if matched == 0:
        raise _no_match(name, batch, options)
    return chosen


def _format_of(
    name: str,
    batch: Batch,
    options: IngestOptions,
    *,
    check: bool,
    sniffed: tuple[str | None, int] | None = None,
) -> tuple[LogFormat, int | None]:
    """The format, and how many of the first SNIFF_LINES lines it parses. A format the user gave is only
    tried on them with ``check`` (None: not counted; ingest counts them in the first batch's parse instead
    of parsing them twice); a sniffed one always is (``sniffed``: what sniffing them gave already)."""
    if options.log_format is not None:
        chosen = custom_layout(options.log_format)
        matched = Parser(chosen).count(batch.lines.head(SNIFF_LINES), batch.first_line) if check else None
    elif options.fmt != "auto" and not check:
        chosen, matched = get_format(options.fmt), None
    else:
        best, matched = sniffed or sniff_format(batch.lines.head(SNIFF_LINES), _candidates(options))
        chosen = get_format(best) if best else get_format(_candidates(options)[0])
    if options.timezone is not None:
        if chosen.zoned:
            raise ConfigError(
                f"{name}: the times of the '{chosen.name}' format carry their own offset; --timezone is for "
                "times written without one (haproxy, or a --log-format time without %z)",
                key="--timezone",
            )
        chosen = replace(chosen, timezone=options.timezone)
    if matched != 0 and options.outlet is None and not chosen.has_host:
        raise ConfigError(
            f"{name}: format '{chosen.name}' carries no host, so the outlet cannot be read from the lines; "
            "pass --outlet SLUG"
        )
    return chosen, matched


def _candidates(options: IngestOptions) -> tuple[str, ...]:
    if options.log_format is not None:
        return ("custom",)
    return SNIFF_ORDER if options.fmt == "auto" else (options.fmt,)


def _no_match(name: str, batch: Batch, options: IngestOptions) -> InputError:
    """No line of the first SNIFF_LINES of ``batch`` (a source's first) parses: the formats tried, and the
    first line that is not blank; or, when they are all blank, that."""
    sample = batch.lines.head(SNIFF_LINES).to_list()
    first = next((i for i, line in enumerate(sample) if line.strip()), None)
    if first is None and len(sample) < SNIFF_LINES:
        return InputError(f"its {len(sample):,} lines are all blank; nothing to ingest", path=name)
    if first is None:
        return InputError(
            f"its first {SNIFF_LINES:,} lines are all blank, so its format cannot be told from them; "
            "remove the blank lines at its start and upload it again",
            path=name,
        )
    given = "--log-format" if options.log_format is not None else "--format" if options.fmt != "auto" else None
    binary = binary_share(sample)
    return FormatDetectionError(name, _candidates(options), batch.first_line + first, sample[first], given, binary)


@dataclass(frozen=True)
class _Done:
    """One batch through parsing, outlet resolution and detection: what is left is writing it."""

    first_line: int
    lines: int
    parsed: int  # parsed lines kept (detected or quiet)
    rows: dict[str, pa.Table]  # fetches, referrals and rejects, tagged with the upload
    ai_fetches: int
    traffic: list[pl.DataFrame]
    windows: list[pl.DataFrame]
    head_parsed: int = 0  # of a source's first batch: how many of its first ``head`` lines parse
    ai_times: pl.DataFrame | None = None  # outlet and time (microseconds) of each AI fetch


@dataclass
class _Totals:
    """An upload's daily counts per outlet and class, and its time window per outlet, summed up from its
    batches in the thread that runs ``_processed``, not in the writing thread: with small files that
    thread is the bottleneck, and these polars calls took a tenth of its time per file."""

    upload_id: str
    traffic: list[pl.DataFrame] = field(default_factory=list)
    windows: list[pl.DataFrame] = field(default_factory=list)
    daily: pa.Table | None = None  # traffic_daily rows
    window: pa.Table | None = None  # upload_windows rows
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    outlets: str | None = None  # the outlets seen, comma-separated
    spans: list[Span] = field(default_factory=list)  # each outlet's window, in microseconds
    # the times of the AI fetches per outlet (sorted microseconds), None when there were too many to keep
    ai_times: list[pl.DataFrame] | None = field(default_factory=list)
    ai_kept: int = 0
    times: dict[str, np.ndarray] | None = None

    def add(self, done: _Done) -> _Done:
        self.traffic += done.traffic
        self.windows += done.windows
        if self.ai_times is not None and done.ai_times is not None and done.ai_times.height:
            self.ai_times.append(done.ai_times)
            self.ai_kept += done.ai_times.height
            if self.ai_kept > AI_TIMES_KEPT:  # too many to keep: the queries will tell
                self.ai_times = None
        if len(self.traffic) > COMPACT_AFTER:  # a long upload keeps a few small frames, not thousands
            self.traffic = [_daily(self.traffic)]
        if len(self.windows) > COMPACT_AFTER:
            self.windows = [_window(self.windows)]
        return done

    def sum_up(self) -> _Totals:
        _sum_up([self])
        return self


def _sum_up(uploads: list[_Totals]) -> None:
    """``_Totals.sum_up`` of several uploads at once (the files of a pack): each polars call costs about
    0.1 ms whatever its rows, and summing up one small file took a dozen (300 files: 0.4 s of the pack's
    thread). The uploads' frames are tagged with their position (``_k``), counted together, and the
    result cut back into each upload's rows."""
    ids = pl.Series("upload_id", [totals.upload_id for totals in uploads], dtype=pl.String)

    def tagged(frames: list[tuple[int, pl.DataFrame]]) -> pl.DataFrame:
        return pl.concat([put(frame, constant("_k", k, frame.height, pl.Int32)) for k, frame in frames])

    def cut(frame: pl.DataFrame) -> Iterator[tuple[int, int, int]]:
        """(upload, first row, end row) of each upload's rows in ``frame``, sorted by ``_k``."""
        keys = frame["_k"].to_numpy()
        present = np.unique(keys)
        yield from zip(
            present.tolist(),
            np.searchsorted(keys, present).tolist(),
            np.searchsorted(keys, present, side="right").tolist(),
            strict=True,
        )

    traffic = [(k, frame) for k, totals in enumerate(uploads) for frame in totals.traffic]
    if traffic:
        daily = tagged(traffic).group_by("_k", "outlet", "day", "class").agg(pl.col("requests").sum()).sort("_k")
        table = put(daily, ids.gather(daily["_k"])).to_arrow()
        for k, start, end in cut(daily):
            uploads[k].daily = table.slice(start, end - start).drop_columns(["_k"])
    windows = [(k, frame) for k, totals in enumerate(uploads) for frame in totals.windows]
    if windows:
        window = (
            tagged(windows)
            .group_by("_k", "outlet")
            .agg(pl.col("first_ts").min(), pl.col("last_ts").max(), pl.col("lines").sum().cast(pl.Int64))
            .sort("_k", "outlet")
        )
        table = put(window, ids.gather(window["_k"])).to_arrow()
        spans = window.select("outlet", pl.col("first_ts").dt.epoch("us"), pl.col("last_ts").dt.epoch("us")).rows()
        ends = window.group_by("_k").agg(pl.col("first_ts").min(), pl.col("last_ts").max()).sort("_k")
        first_ts, last_ts = ends["first_ts"].to_list(), ends["last_ts"].to_list()
        for at, (k, start, end) in enumerate(cut(window)):
            totals = uploads[k]
            totals.window = table.slice(start, end - start).drop_columns(["_k"])
            totals.first_ts, totals.last_ts = first_ts[at], last_ts[at]
            totals.spans = spans[start:end]
            totals.outlets = ",".join(sorted(outlet for outlet, _, _ in totals.spans)) or None
    for totals in uploads:  # the AI fetches' times, for those that kept them (not too many)
        if totals.ai_times is not None:
            totals.times = {}
    times = [(k, frame) for k, totals in enumerate(uploads) if totals.ai_times for frame in totals.ai_times]
    if times:
        for (k, outlet), part in tagged(times).partition_by("_k", "outlet", as_dict=True).items():
            uploads[k].times[outlet] = np.sort(part["ts"].to_numpy())
    for totals in uploads:
        totals.ai_times, totals.traffic, totals.windows = None, [], []


def _processed(source: Source, run: _Run) -> Iterator[_Done]:
    """Batches parsed and detected, in order. Run through ``Prefetch``, this is a pipeline: reading and
    decompressing (a thread), parsing and detection (``WORKERS`` batches at once: most polars string
    operations use one core per call), and (in the caller) writing; polars, DuckDB and the codecs release
    the GIL, so the stages overlap on several cores. W3C parsers carry ``#Fields`` from batch to batch:
    each batch gets the state at its start (``Parser.fork``), so they too are parsed in parallel. A format
    the user gave is checked on the first batch's own parse: it fails the source when none of its first
    SNIFF_LINES lines parse. The last thing it does is sum up the upload's ``_Totals`` (``run.totals``)."""
    reader = Prefetch(source.batches(), depth=1)
    totals = _Totals(run.upload_id)
    try:
        first = next(reader, None)
        if first is None:
            run.totals = totals.sum_up()
            return
        matched = _formatted(source, run, first)
        assert run.parser is not None  # set with the format
        head = SNIFF_LINES if matched is None else 0  # counted in the first batch's parse
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="royalty-parse") as pool:
            waiting: deque[Future[_Done]] = deque()
            for batch in chain([first], reader):
                run.backlog.wait_room()
                waiting.append(pool.submit(_process, run, run.parser.fork(batch.lines), batch, head))
                head = 0
                if len(waiting) >= WORKERS:
                    yield run.backlog.handed(
                        totals.add(_checked(waiting.popleft().result(), source, first, run, matched))
                    )
            while waiting:
                yield run.backlog.handed(totals.add(_checked(waiting.popleft().result(), source, first, run, matched)))
        run.totals = totals.sum_up()
    finally:
        reader.close()


def _formatted(source: Source, run: _Run, first: Batch, sniffed: tuple[str | None, int] | None = None) -> int | None:
    """The source's format and parser set on ``run``, from its first batch (``sniffed``: what sniffing it
    gave already), and how many of its first lines parse (``_format_of``); fails when none does."""
    run.fmt, matched = _format_of(source.name, first, run.options, check=False, sniffed=sniffed)
    if matched == 0:
        raise _no_match(source.name, first, run.options)
    run.parser = Parser(run.fmt)
    return matched


def _checked(done: _Done, source: Source, first: Batch, run: _Run, matched: int | None) -> _Done:
    """``done``, unless it is the first batch of a format not checked before (``matched`` None) and none of
    its first SNIFF_LINES lines parse."""
    if matched is None and done.first_line == first.first_line and done.head_parsed == 0:
        raise _no_match(source.name, first, run.options)
    return done


@dataclass(frozen=True)
class _Read:
    """A small file read whole, its format found: its lines wait for its pack's next batch."""

    source: Source
    run: _Run
    first: Batch  # its first batch as read, on which its format was found
    lines: pl.Series
    matched: int | None  # as ``_format_of`` says: None for a format given and not checked yet


class _Pack:
    """Small files read, parsed and detected together, in a thread of their own (``Prefetch``). A batch of
    a 2,000-line file costs about 15 ms of polars calls whatever its size, most of its parse and detection,
    and those calls hold the GIL: one small file after another, the two cores were a third idle. Here the
    files of one format share batches of about a block (W3C files, whose ``#Fields`` carry from line to
    line, go alone), and each file's rows, counts and windows are then split off as its own upload's, written
    in its turn like any other file's (``_PackMember``)."""

    def __init__(self, files: list[tuple[Source, _Run]]) -> None:
        self.files = files
        self._made: list[_Done | Exception | _Alone | None] | None = None
        self._failed: BaseException | None = None
        self._open = len(files)
        self._read = threading.Event()  # set once every file is read (or the reading stopped)
        self._work = Prefetch(self._outcomes(), depth=1)

    def ready(self) -> bool:
        """Whether every file of the pack is read, parsed and detected."""
        return self._made is not None or self._work.ready()

    @property
    def sniffed(self) -> bool:
        """Whether the formats of the pack's files are sniffed (none given)."""
        options = self.files[0][1].options
        return options.fmt == "auto" and options.log_format is None

    def wait_read(self) -> None:
        """Until every file of the pack is read (its sniffing, parse and detection may still run)."""
        self._read.wait()

    def content_bytes(self) -> int:
        """The bytes of lines of the pack's files read so far (decompressed)."""
        return sum(source.content_read for source, _ in self.files)

    def outcome(self, index: int) -> _Done | Exception | _Alone | None:
        """File ``index``'s one batch through (None for an empty file), or the error that stopped it."""
        if self._failed is not None:
            raise self._failed
        if self._made is None:
            try:
                self._made = next(self._work)
            except StopIteration:  # closed already: not for a file still to be written
                self._failed = RuntimeError("the pack was closed before its files were made")
                raise self._failed from None
            except BaseException as exc:
                self._failed = exc
                raise
        return self._made[index]

    def release(self) -> None:
        """One file of the pack done with (written, or let go): once all are, its thread is stopped."""
        self._open -= 1
        if self._open == 0:
            self._work.close()
            self._made = None

    def _outcomes(self) -> Iterator[list[_Done | Exception | _Alone | None]]:
        made: list[_Done | Exception | _Alone | None] = [None] * len(self.files)
        held: list[tuple[int, list[Batch]]] = []
        size = 0
        try:
            for index, (source, run) in enumerate(self.files):
                read = _read_batches(source, run)
                if isinstance(read, list):  # else empty, an error, or to be read again alone
                    held.append((index, read))
                    size += source.content_bytes
                    if size >= BLOCK_SIZE:
                        self._make(held, made)
                        held, size = [], 0
                else:
                    made[index] = read
        finally:
            self._read.set()
        self._make(held, made)
        yield made

    def _make(self, held: list[tuple[int, list[Batch]]], made: list[_Done | Exception | _Alone | None]) -> None:
        """The files ``held`` (read) with their formats found, parsed and detected, into ``made``."""
        if not held:
            return
        options = self.files[held[0][0]][1].options
        sniffed: list[tuple[str | None, int] | None] = [None] * len(held)
        if options.fmt == "auto" and options.log_format is None:  # each file's own, sniffed together
            firsts = [batches[0].lines.head(SNIFF_LINES) for _, batches in held]
            sniffed = list(sniff_formats(firsts, _candidates(options)))
        found = []
        for (index, batches), sniff in zip(held, sniffed, strict=True):
            source, run = self.files[index]
            read = _found(source, run, batches, sniff)
            if isinstance(read, _Read):
                found.append((index, read))
            else:
                made[index] = read
        _made_together(found, made)


class _PackMember:
    """The batches of a file in a ``_Pack``: its one batch, or its error, once the pack is made."""

    def __init__(self, pack: _Pack, index: int) -> None:
        self.pack, self.index = pack, index
        self._closed = False

    def __iter__(self) -> Iterator[_Done]:
        outcome = self.pack.outcome(self.index)
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, _Alone):  # read again from its start, in its own threads, as a large file is
            source, run = self.pack.files[self.index]
            with Prefetch(_processed(source, run), depth=1) as batches:
                yield from batches
        elif outcome is not None:
            yield outcome

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.pack.release()


class _Alone:
    """The outcome of a packed file whose content is more than SMALL_FILE (a few MB compressed up to a
    hundred times): it is read again, in its turn, the way a large file is (``_PackMember``)."""


def _read_batches(source: Source, run: _Run) -> list[Batch] | Exception | _Alone | None:
    """A small file's batches, read to its end; None when it is empty (its run summed up: its writing
    says so), ``_Alone`` when it is larger than SMALL_FILE decompressed, or the error that stops it
    (raised in its turn)."""
    batches = []
    try:
        reading = source.batches(compact=True)
        for batch in reading:
            batches.append(batch)
            if source.content_read > SMALL_FILE:  # not held whole: read again, block by block
                reading.close()  # type: ignore[attr-defined]
                return _Alone()
    except Exception as exc:  # noqa: BLE001 - raised by ``_PackMember``, in the file's turn
        return exc
    if not batches:
        run.totals = _Totals(run.upload_id).sum_up()
        return None
    return batches


def _found(
    source: Source, run: _Run, batches: list[Batch], sniffed: tuple[str | None, int] | None
) -> _Read | Exception:
    """A file read whole, with its format (``_processed``'s first steps; ``sniffed``: its sniffing's
    result, when done with other files'), or the error that stops it."""
    first = batches[0]
    try:
        matched = _formatted(source, run, first, sniffed)
    except Exception as exc:  # noqa: BLE001 - raised by ``_PackMember``, in the file's turn
        return exc
    lines = pl.concat([batch.lines for batch in batches], rechunk=True) if len(batches) > 1 else first.lines
    return _Read(source, run, first, lines, matched)


def _made_together(held: list[tuple[int, _Read]], made: list[_Done | Exception | _Alone | None]) -> None:
    """The files ``held`` parsed and detected, those of one format in one batch, into ``made``."""
    groups: list[list[tuple[int, _Read]]] = []
    for index, read in held:
        fmt = read.run.fmt
        assert fmt is not None
        same = None if fmt.kind == "w3c" else next((g for g in groups if g[0][1].run.fmt == fmt), None)
        if same is None:
            groups.append([(index, read)])
        else:
            same.append((index, read))
    for group in groups:
        members, start = [], 1
        for _, read in group:
            head = SNIFF_LINES if read.matched is None else 0
            members.append(_Member(read.run, start, read.lines.len(), offset=start - 1, head=head))
            start += read.lines.len()
        reads = [read for _, read in group]
        lines = pl.concat([read.lines for read in reads], rechunk=True) if len(reads) > 1 else reads[0].lines
        run = reads[0].run
        assert run.fmt is not None
        dones = _process_files(run, Parser(run.fmt), Batch(1, lines), members)
        summed: list[_Totals] = []
        for (index, read), done in zip(group, dones, strict=True):
            try:
                _checked(done, read.source, read.first, read.run, read.matched)
            except FormatDetectionError as exc:  # a format given, none of its first lines parse
                made[index] = exc
                continue
            totals = _Totals(read.run.upload_id)
            totals.add(done)
            read.run.totals = totals
            summed.append(totals)
            made[index] = done
        _sum_up(summed)  # the group's uploads at once


def _process(run: _Run, parser: Parser, batch: Batch, head: int = 0) -> _Done:
    """Parse, outlets and detection of one batch (in a worker thread: it only reads ``run``); ``head``:
    how many of its first lines to count the parsed ones of (``_Done.head_parsed``)."""
    return _process_files(run, parser, batch, [_Member(run, batch.first_line, batch.lines.len(), head=head)])[0]


@dataclass(frozen=True)
class _Member:
    """One file's lines in a batch: ``lines`` of them from the batch's line number ``start``, which are the
    file's own numbers plus ``offset`` (a batch of several small files numbers their lines one after the
    other: ``_Pack``); ``head``: how many of its first lines to count the parsed ones of."""

    run: _Run
    start: int
    lines: int
    offset: int = 0
    head: int = 0


def _process_files(run: _Run, parser: Parser, batch: Batch, members: list[_Member]) -> list[_Done]:
    """``_process`` of a batch that holds the lines of one or more files (``members``, in line order: their
    runs differ only in their uploads), each file's rows, counts and windows its own."""
    result = parser.parse(batch.lines, batch.first_line, triage=run.detector if run.triage else None)
    parsed, moved = _with_outlets(run, result.parsed, batch)
    starts = np.array([member.start for member in members] + [batch.first_line + batch.lines.len()])
    by: tuple[str, ...] = ()
    if len(members) > 1:  # the traffic counted per file too
        at = np.searchsorted(starts, parsed["line_no"].to_numpy(), side="right") - 1
        parsed, by = put(parsed, pl.Series("_file", at, dtype=pl.Int32)), ("_file",)
    detected = _detected(run, parsed, by)
    traffic_of = _per_file(detected.traffic, by, len(members))
    outlet = run.options.outlet
    # Lines the triage let through uninspected (people's and other bots' traffic), counted per outlet,
    # day and class.
    by_host = outlet is None and run.covered is None  # each line's outlet from its host
    quiet, moved_quiet = (result.quiet, None) if by_host else _with_outlets(run, result.quiet, batch)
    extra = [frame for frame in (moved, moved_quiet) if frame is not None and frame.height]
    rejects = pl.concat([result.rejects, *extra]) if extra else result.rejects
    pieces = zip(
        members,
        *(_slices(frame, starts) for frame in (parsed, quiet, detected.fetches, detected.referrals, rejects)),
        strict=True,
    )
    done = []
    for k, (member, parsed_m, quiet_m, fetches, referrals, rejects_m) in enumerate(pieces):
        traffic = [traffic_of[k]] if traffic_of[k].height or len(members) == 1 else []
        windows = [_windows(parsed_m, outlet)] if parsed_m.height else []
        if by_host:
            counts, moved_m = _quiet_by_host(run, quiet_m, batch)
            counted = int(counts["requests"].sum() or 0)
            if counts.height:
                traffic.append(counts.group_by("outlet", "day", "class").agg(pl.col("requests").sum()))
                windows.append(
                    counts.group_by("outlet").agg(
                        pl.col("first_ts").min(), pl.col("last_ts").max(), pl.col("requests").sum().alias("lines")
                    )
                )
            rejects_m = pl.concat([rejects_m, moved_m]) if moved_m.height else rejects_m
        else:
            counted = quiet_m.height
            if quiet_m.height:
                traffic.append(_daily_counts(quiet_m, outlet))
                windows.append(_windows(quiet_m, outlet))
        if not rejects_m["line_no"].is_sorted():
            rejects_m = rejects_m.sort("line_no")
        head_parsed = 0
        if member.head:  # the lines as parsed, before any moved to the rejects (no outlet)
            end = member.start + min(member.head, member.lines)  # not into the next file's lines
            lines = (result.parsed["line_no"], result.quiet["line_no"])
            head_parsed = sum(int(((line_no >= member.start) & (line_no < end)).sum()) for line_no in lines)
        # Compact Arrow strings, made here rather than in the writing thread: polars' views would keep the
        # batch's whole block of lines alive until written, and rows waiting for a whole row group longer
        # (measured: 1.98 GB peak RSS instead of 730 MB on 5M lines)
        fetch_rows, kinds = with_kinds(fetches)  # the kinds' values once each, the rows with their numbers
        rows = {KINDS: kinds.to_arrow()}  # first: written before the rows that name them (``_write``)
        rows |= {
            table: _tagged(frame, member)
            for table, frame in (("fetch_rows", fetch_rows), ("referrals", referrals), ("rejects", rejects_m))
        }
        done.append(
            _Done(
                member.start - member.offset,
                member.lines,
                parsed_m.height + counted,
                rows,
                int(fetches["ai"].sum() or 0),
                traffic,
                windows,
                head_parsed,
                # for the overlap check's first test (StoredWindows.may_overlap), which only --overlap fail runs
                _ai_times(fetches) if run.options.overlap == "fail" else None,
            )
        )
    return done


def _slices(frame: pl.DataFrame, starts: np.ndarray) -> list[pl.DataFrame]:
    """``frame``'s rows per file: those whose ``line_no`` is from ``starts[k]`` up to ``starts[k + 1]``."""
    if len(starts) == 2:
        return [frame]
    if not frame["line_no"].is_sorted():
        frame = frame.sort("line_no")
    bounds = np.searchsorted(frame["line_no"].to_numpy(), starts)
    return [frame.slice(int(a), int(b - a)) for a, b in pairwise(bounds)]


def _per_file(traffic: pl.DataFrame, by: tuple[str, ...], files: int) -> list[pl.DataFrame]:
    """The traffic counts of each file (``by``: the column that tells them apart, or none for one file)."""
    if not by:
        return [traffic]
    parts = traffic.partition_by(by, as_dict=True, include_key=False)
    empty = traffic.clear().drop(by)
    return [parts.get((k,), empty) for k in range(files)]


def _tagged(frame: pl.DataFrame, member: _Member) -> pa.Table:
    """Rows of one file's upload, with its own line numbers."""
    if member.offset:
        frame = frame.with_columns(pl.col("line_no") - member.offset)
    return put(frame, constant("upload_id", member.run.upload_id, frame.height)).to_arrow()


def _ai_times(fetches: pl.DataFrame) -> pl.DataFrame:
    """The outlet and time (microseconds) of each AI fetch."""
    return rows_where(pl.DataFrame([fetches["outlet"], fetches["ts"].cast(pl.Int64)]), fetches["ai"])


def _detected(run: _Run, parsed: pl.DataFrame, by: tuple[str, ...] = ()) -> Detected:
    """Detection of a batch's parsed lines, DETECT_ROWS at a time: a block of bot traffic only would hold
    all its lines' intermediate columns at once (a typical block has a quarter of that); ``by``: columns
    the traffic is counted by too."""
    if parsed.height <= DETECT_ROWS:
        return run.detector.detect(parsed, run.resolver.primary, by)
    parts = [run.detector.detect(rows, run.resolver.primary, by) for rows in parsed.iter_slices(DETECT_ROWS)]
    return Detected(
        pl.concat([part.fetches for part in parts]),
        pl.concat([part.referrals for part in parts]),
        pl.concat([part.traffic for part in parts]),
    )


def _daily_counts(quiet: pl.DataFrame, outlet: str | None) -> pl.DataFrame:
    """Quiet lines counted per outlet, UTC day and class. Those of one outlet (``outlet``, as --outlet
    gives it) are counted by small integer keys, day and class, as a bincount: a group_by hashes every
    line's strings (a block's 110,000 quiet lines: 1.7-2.2 -> 0.75 ms)."""
    if outlet is not None:
        human = (quiet["class"] == "human").to_numpy()
        if (human | (quiet["class"] == "other_bot").to_numpy()).all():  # else a class this does not know
            days = quiet["ts"].dt.epoch("d").to_numpy()
            first = int(days.min())
            counts = np.bincount((days - first) * 2 + human)
            keys = np.flatnonzero(counts)
            return pl.DataFrame(
                {
                    "outlet": pl.Series([outlet] * len(keys), dtype=pl.String),
                    "day": pl.Series(keys // 2 + first, dtype=pl.Int32).cast(pl.Date),
                    "class": pl.Series(np.where(keys % 2 == 1, "human", "other_bot"), dtype=pl.String),
                    "requests": pl.Series(counts[keys], dtype=pl.Int64),
                }
            )
    return quiet.group_by("outlet", pl.col("ts").dt.date().alias("day"), "class").agg(
        pl.len().cast(pl.Int64).alias("requests")
    )


def _windows(counted: pl.DataFrame, outlet: str | None = None) -> pl.DataFrame:
    """Each outlet's first and last time and its lines; ``outlet``: the one outlet of every row (as
    --outlet gives it), whose window is read from the times alone, without a group_by."""
    if outlet is not None and counted.height:
        stamps = counted["ts"].cast(pl.Int64)
        return pl.DataFrame(
            [
                pl.Series("outlet", [outlet], dtype=pl.String),
                pl.Series("first_ts", [stamps.min()], dtype=pl.Int64).cast(counted["ts"].dtype),
                pl.Series("last_ts", [stamps.max()], dtype=pl.Int64).cast(counted["ts"].dtype),
                pl.Series("lines", [counted.height], dtype=pl.Int64),
            ]
        )
    return counted.group_by("outlet").agg(
        pl.col("ts").min().alias("first_ts"),
        pl.col("ts").max().alias("last_ts"),
        pl.len().cast(pl.Int64).alias("lines"),
    )


def _quiet_by_host(run: _Run, quiet: pl.DataFrame, batch: Batch) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Quiet lines counted per host, UTC day and class first, then the few hosts resolved to outlets
    (instead of a join per line): (``outlet``, ``day``, ``class``, ``requests``, ``first_ts``, ``last_ts``
    per host, day and class of a known outlet; the rejects of the lines whose host is no outlet's, as
    ``_with_outlets`` makes them)."""
    counts = quiet.group_by("host", pl.col("ts").dt.date().alias("day"), "class").agg(
        pl.len().cast(pl.Int64).alias("requests"),
        pl.col("ts").min().alias("first_ts"),
        pl.col("ts").max().alias("last_ts"),
    )
    counts = counts.with_columns(run.resolver.resolve(counts["host"]).alias("outlet"))
    unknown = counts.filter(pl.col("outlet").is_null())["host"]
    rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    if unknown.len():
        # a null host is no outlet's either (ingest asks for --outlet when a layout has no host)
        out = quiet.filter(pl.col("host").is_null() | pl.col("host").is_in(unknown.drop_nulls().unique().implode()))
        rejects = _rejects(out.select("line_no", _host_reason().alias("reason")), batch)
    return counts.filter(pl.col("outlet").is_not_null()), rejects


def _host_reason() -> pl.Expr:
    return (
        pl.lit("host '")
        + pl.col("host").fill_null("-")
        + pl.lit(
            "' is not a domain of any outlet; add it with 'royalty outlets add SLUG --domain HOST' or pass --outlet"
        )
    )


def _rejects(out: pl.DataFrame, batch: Batch) -> pl.DataFrame:
    """Rejects (``line_no``, ``reason``) with their lines as read."""
    raw = batch.lines.gather((out["line_no"] - batch.first_line).cast(pl.UInt32))
    return out.with_columns(raw.str.slice(0, RAW_LIMIT).alias("raw")).cast(REJECT_SCHEMA)  # type: ignore[arg-type]


def _write(writer: RowGroupWriter, run: _Run, done: _Done) -> None:
    for table, rows in done.rows.items():
        if table == KINDS:  # before the rows that name them, in their transaction or an earlier one
            writer.ledger.insert_kinds(rows)
        else:
            writer.add(table, rows)
    run.lines += done.lines
    run.parsed += done.parsed
    run.rejected += done.rows["rejects"].num_rows
    run.fetches += done.rows["fetch_rows"].num_rows
    run.ai_fetches += done.ai_fetches
    run.referrals += done.rows["referrals"].num_rows
    run.backlog.written()
    if run.parsed + run.rejected != run.lines:  # pragma: no cover - an invariant, not a branch
        raise AssertionError(f"line accounting broke at line {done.first_line}")


def _with_outlets(run: _Run, parsed: pl.DataFrame, batch: Batch) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each line's outlet, and the lines without one (or inside a covered window, with --overlap drop),
    which become rejects with the reason: (kept lines, their rejects)."""
    if run.options.outlet is not None:
        parsed = put(parsed, constant("outlet", run.options.outlet, parsed.height))
        if run.covered is None:  # every line is the outlet's: nothing to move (two filters of every row spared)
            return parsed, pl.DataFrame(schema=REJECT_SCHEMA)
    else:
        parsed = parsed.with_columns(run.resolver.resolve(parsed["host"]).alias("outlet"))
    reason = _host_reason()
    if run.covered is not None:
        parsed = parsed.with_columns(inside_covered(parsed, run.covered).alias("_covered"))
        reason = (
            pl.when(pl.col("outlet").is_null())
            .then(reason)
            .otherwise(
                pl.lit("inside a window already covered by upload ") + pl.col("_covered") + pl.lit(" (--overlap drop)")
            )
        )
        moved = pl.col("outlet").is_null() | pl.col("_covered").is_not_null()
    else:
        moved = pl.col("outlet").is_null()
    out = parsed.filter(moved)
    rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    if out.height:
        rejects = _rejects(out.select("line_no", reason.alias("reason")), batch)
    return parsed.filter(~moved).drop("_covered", strict=False), rejects


def _daily(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(frames).group_by("outlet", "day", "class").agg(pl.col("requests").sum())


def _window(frames: list[pl.DataFrame]) -> pl.DataFrame:
    return (
        pl.concat(frames)
        .group_by("outlet")
        .agg(pl.col("first_ts").min(), pl.col("last_ts").max(), pl.col("lines").sum().cast(pl.Int64))
    )


def _finish(
    ledger: Ledger,
    run: _Run,
    source: Source,
    group: _Group,
    *,
    record_registry: bool = True,
    stored: StoredWindows | None = None,
) -> None:
    """The upload's daily counts, windows and row (held by the ``group``; the detector's versions, unless
    already recorded, written at once: the row refers to them), then the overlap check its choice asks
    for: its queries only when it may overlap one of the uploads ``stored`` (None: not known, the queries
    tell)."""
    assert run.fmt is not None and run.totals is not None
    totals = run.totals
    group.hold("traffic_daily", totals.daily)
    group.hold("upload_windows", totals.window)
    detector = run.detector
    if record_registry:
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
    row = {
        "upload_id": run.upload_id,
        "source": source.name,
        "content_sha256": source.content_sha256,
        "raw_sha256": source.raw_sha256,
        "raw_bytes": source.raw_bytes,
        "content_bytes": source.content_bytes,
        "compression": source.compression,
        "format": run.fmt.name,
        "outlet": run.options.outlet,
        "lines_total": run.lines,
        "lines_parsed": run.parsed,
        "lines_rejected": run.rejected,
        "ai_fetches": run.ai_fetches,
        "first_ts": totals.first_ts,
        "last_ts": totals.last_ts,
        "registry_version": detector.version,
        "ingested_at": now(),
        "overlap": None if run.options.overlap == "fail" else run.options.overlap,
        "timezone": run.fmt.timezone,
        "null_runs": source.holes.runs,
        "null_bytes": source.holes.bytes,
        "null_cuts": source.holes.cuts,
    }
    group.hold("uploads", pa.Table.from_pylist([row], schema=UPLOAD_SCHEMA))
    if run.options.overlap == "fail" and (
        stored is None or stored.may_overlap(totals.spans, totals.times, run.upload_id)
    ):
        group.insert_held("fetch_rows", "upload_windows")  # the queries read this upload's and the group's others'
        found = find_overlap(ledger, run.upload_id, windows_meet=stored is not None)
        if found is not None:
            raise OverlapError(source.name, found)
