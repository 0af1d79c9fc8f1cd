"""Reading uploads: files or stdin, as batches of lines.

A source is read once, as a stream, in large blocks (``ledger.blocks``: decompressed by magic bytes,
counted and hashed, each cut after its last newline); each block is turned into a polars String column
without a Python object per line (Arrow views over the block's own buffer, made by the native module, or
newline offsets from numpy without it). Bytes that are not UTF-8 are kept visible as ``\\xHH`` escapes,
the way Apache and nginx log them, so nothing is dropped and nothing crashes the parser.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from typing import BinaryIO, Generic, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

from ledger.blocks import STDIN_NAME, ContentBlocks, Holes, take_early
from ledger.errors import InputError

try:
    from ledger import _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - the extension is optional; numpy finds the newlines instead
    _native = None


@dataclass(frozen=True)
class Batch:
    """A run of consecutive lines: ``lines[k]`` is line number ``first_line + k`` (1-based)."""

    first_line: int
    lines: pl.Series


@dataclass
class Source:
    """One input (a path or ``-`` for stdin), read as a stream of line batches."""

    name: str
    path: Path | None
    compression: str = "none"
    raw_sha256: str = ""
    content_sha256: str = ""
    raw_bytes: int = 0
    content_bytes: int = 0
    lines: int = 0
    read_all: bool = False  # set (by the reading thread) once the source is read to its end
    envelope: Envelope | None = None  # what a container's logging wrapped the lines in, found in the first block
    holes: Holes = field(default_factory=Holes)  # runs of null bytes taken out of its text (``Holes``)
    _content: ContentBlocks | None = field(default=None, repr=False)

    @property
    def bytes_read(self) -> int:
        """Raw bytes read so far (for progress)."""
        return self._content.raw_bytes if self._content is not None else self.raw_bytes

    @property
    def content_read(self) -> int:
        """Decompressed bytes read so far."""
        return self._content.content_bytes if self._content is not None else self.content_bytes

    @classmethod
    def open(cls, name: str) -> Source:
        if name == "-":
            return cls(name=STDIN_NAME, path=None)
        path = Path(name)
        if not path.exists():
            raise InputError("no such file; check the path", path=path)
        if path.is_dir():
            raise InputError("is a directory; pass the log files inside it", path=path)
        return cls(name=str(path), path=path)

    def skip(self) -> None:
        """The source will not be read (it has the bytes of an earlier upload): an early reading of it
        (``ledger.blocks.start_early``) stops, and its blocks are let go."""
        early = take_early(self.path) if self.path is not None else None
        if early is not None:
            early.close()

    def _raw_stream(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror}", path=self.path) from exc

    def batches(self, block_size: int | None = None, *, compact: bool = False) -> Iterator[Batch]:
        """Yields line batches, one per block of the content (``ContentBlocks``: a file's blocks read
        early, by ``start_early``, are taken over); afterwards the digests, sizes and line count are set.
        ``block_size`` fixes the size of every block (tests use small ones). ``compact``: lines that fill
        less than half of their block's buffer are copied out of it, so that batches kept for a while (a
        small file's, ``ingest._Pack``) do not each keep a buffer of megabytes alive."""
        early = take_early(self.path) if self.path is not None and block_size is None else None
        if early is not None:
            content, blocks = early.content, early.blocks()
        else:
            raw = self._raw_stream()
            content = ContentBlocks(self.name, raw, close_raw=self.path is not None, block_size=block_size)
            blocks = iter(content)
        self._content, self.compression = content, content.compression
        line_no = 1
        self.envelope = None
        try:
            for buffer, end in blocks:
                if compact and end * 2 < len(buffer):
                    buffer = bytes(memoryview(buffer)[:end])
                lines = split_lines(buffer, end)
                if line_no == 1:
                    self.envelope = next((kind for kind in ENVELOPES if kind.holds(lines)), None)
                if self.envelope is not None:
                    lines = self.envelope.unwrapped(lines)
                yield Batch(line_no, lines)
                line_no += len(lines)
        finally:  # stopped early (an error, Ctrl-C, a consumer that stopped): the file is closed
            (early or content).close()
        self.lines = line_no - 1
        # with UTF-16 text, found in the first block, and the container logging's envelope around the lines
        label, kind = content.label, self.envelope.name if self.envelope is not None else None
        self.compression = label if kind is None else kind if label == "none" else f"{label}+{kind}"
        self.raw_sha256, self.content_sha256 = content.raw_sha256, content.content_sha256
        self.raw_bytes, self.content_bytes = content.raw_bytes, content.content_bytes
        self.holes = content.holes
        self.read_all = True


@dataclass(frozen=True)
class Envelope:
    """What a container's logging wraps each of its lines in. A source whose first lines are mostly
    such records (``holds``) is read as the lines they hold (``unwrapped``); a line that is no record
    stays as it is, for the format to judge (and reject with its own text)."""

    name: str  # how the upload's text was read, after its codec (``Source.compression``)
    said: str  # what the lines were read out of, for people
    head: str  # a regex a record's line starts with
    key: str | None = None  # the key of the line in a JSON record; None: the record is a prefix of the line

    def holds(self, lines: pl.Series) -> bool:
        """Whether most of the first 1,000 of ``lines`` (a source's first) that are not blank are records
        (looked for only when one of the first ten is: a small file's 1,000 lines took 0.25 ms an envelope)."""
        first = [line for line in lines.head(100).to_list() if line.strip()][:10]
        if not any(re.match(self.head, line) for line in first):
            return False
        sample = lines.head(1000)
        sample = sample.filter(sample.str.strip_chars() != "")
        return sample.len() > 0 and int(sample.str.contains(self.head).sum()) * 2 > sample.len()

    def unwrapped(self, lines: pl.Series) -> pl.Series:
        if self.key is not None:
            # the line in the record, its JSON escapes read (Docker writes \\u0026 for &), without its newline
            inner = lines.str.json_path_match(f"$.{self.key}").str.strip_suffix("\n").str.strip_suffix("\r")
            return inner.zip_with(inner.is_not_null(), lines).alias(lines.name)
        return lines.str.replace(self.head, "")  # a prefix: the line after it


# Docker's json-file logging driver (the files under /var/lib/docker/containers), the line first:
# {"log":"...\n","stream":"stdout","time":"..."}
DOCKER_JSON = Envelope("docker-json", "Docker's json-file records", r'^\{"log":"', key="log")
# The container runtime's (CRI) files, Kubernetes' /var/log/pods: "<time> stdout F <line>" (F: a full
# line; P: a part of one longer than 16 KB, which the format then rejects part by part)
CRI = Envelope(
    "cri",
    "the container runtime's prefixed lines",
    r"^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d) (?:stdout|stderr) [FP] ",
)
ENVELOPES = (DOCKER_JSON, CRI)


_END = object()


T = TypeVar("T")


class Prefetch(Generic[T]):
    """The items of ``items`` made in a background thread, up to ``depth`` of them ahead of the caller,
    from the moment it is created (``ingest`` starts the next file this way while the last one is being
    written). Errors in the thread are raised in the caller; ``close`` (or leaving a ``with`` block) tells
    the thread to stop, and waits for it no longer than the item it is making."""

    def __init__(self, items: Iterator[T], depth: int = 2) -> None:
        self._items = items
        self._queue: Queue[object] = Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._work, name="royalty-reader", daemon=True)
        self._thread.start()

    def _offer(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def _work(self) -> None:
        try:
            for item in self._items:
                if not self._offer(item):
                    break
            else:
                self._offer(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            self._offer(exc)
        finally:
            self._items.close()  # type: ignore[attr-defined]  # closes the file when the consumer stopped early

    def __iter__(self) -> Prefetch[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._done = True
            raise item
        return item  # type: ignore[return-value]  # items are T or the sentinels handled above

    def ready(self) -> bool:
        """Whether the next item (or the end, or an error) is made already: ``next`` would not wait."""
        return self._done or not self._queue.empty()

    def close(self) -> None:
        self._done = True
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> Prefetch[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split_lines(data: bytes | bytearray | pa.Buffer, end: int | None = None) -> pl.Series:
    """The newline-terminated bytes ``data[:end]`` -> one String value per line (without ``\\n`` or a
    trailing ``\\r``).

    UTF-8 is validated natively with the line cutting (only lines with a byte that is not ASCII are
    checked), or without the extension by polars in one vectorised cast; only a block that holds invalid
    bytes takes the slow path, where they become ``\\xHH`` escapes (which never contain a newline, so
    lines stay lines): natively, only its bad lines are decoded again (decoding the whole block again
    took 40 ms, and a stray byte in every block made the reading thread the slowest stage).
    """
    end = len(data) if end is None else end
    if _native is not None:
        lines = _native_lines(data, end)
        return lines if lines is not None else _lines_repaired(data, end)
    try:
        return _lines_of(data, end)
    except pl.exceptions.ComputeError:  # polars' error for invalid UTF-8
        fixed = memoryview(data)[:end].tobytes().decode("utf-8", errors="backslashreplace").encode("utf-8")
        return _lines_of(fixed, len(fixed))


def _native_lines(data: bytes | bytearray | pa.Buffer, end: int) -> pl.Series | None:
    """A String column over ``data``'s own buffer, one value per newline-terminated line of ``data[:end]``,
    cut natively; None when a line is not UTF-8 (the native check says so: a polars cast would only fail)."""
    count, views, utf8 = _native.lines(data, end)
    if not utf8:
        return None
    buffers = [None, pa.py_buffer(views), pa.py_buffer(data)]
    return arrow_series("line", pa.Array.from_buffers(pa.string_view(), count, buffers))


def _lines_repaired(data: bytes | bytearray | pa.Buffer, end: int) -> pl.Series:
    """``_native_lines`` for a block with invalid UTF-8: its bad lines (found natively) decoded again with
    ``\\xHH`` escapes, the rest as they are."""
    spans = np.frombuffer(_native.invalid_utf8(data, end), dtype=np.int64).reshape(-1, 2).tolist()
    pieces: list[bytes | memoryview] = []
    at, view = 0, memoryview(data)
    for start, length in spans:
        bad = view[start : start + length].tobytes()
        pieces += [view[at:start], bad.decode("utf-8", errors="backslashreplace").encode()]
        at = start + length
    pieces.append(view[at:end])
    fixed = b"".join(pieces)
    lines = _native_lines(fixed, len(fixed))
    if lines is None:  # pragma: no cover - an invariant: escapes are ASCII, and the other lines were UTF-8
        raise AssertionError("a line was still not UTF-8 after its bad bytes were escaped")
    return lines


class _ArrowArray:
    """An Arrow array seen only through the Arrow C data interface."""

    __slots__ = ("array",)

    def __init__(self, array: pa.Array) -> None:
        self.array = array

    def __arrow_c_array__(self, requested_schema: object = None) -> tuple[object, object]:
        return self.array.__arrow_c_array__(requested_schema)


def arrow_series(name: str, array: pa.Array) -> pl.Series:
    """``pl.Series(name, array)`` for an Arrow array, without a copy, through the Arrow C data interface:
    polars' own conversion of a pyarrow array first imports ``pyarrow.compute`` (23 ms, on the way to an
    ingest's first batch) for what only concerns chunked dictionary arrays."""
    return pl.Series(name, _ArrowArray(array)).alias(name)


def _lines_of(data: bytes | bytearray | pa.Buffer, end: int) -> pl.Series:
    """``_native_lines`` without the extension: cut with numpy, UTF-8 checked by polars' cast (its
    ComputeError for a line that is not)."""
    buffer = np.frombuffer(data, dtype=np.uint8, count=end)
    ends = np.flatnonzero(buffer == 10)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    array = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return arrow_series("line", array).cast(pl.String).str.strip_suffix("\n").str.strip_suffix("\r")
