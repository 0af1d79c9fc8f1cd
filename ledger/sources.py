"""Reading uploads: files or stdin, compression by magic bytes, hashing, and batches of lines.

A source is read once, as a stream, in large blocks; each block is cut at its last newline and turned
into a polars String column without a Python object per line (Arrow views over the block's own buffer,
made by the native module, or newline offsets from numpy without it). Bytes that are not UTF-8 are kept
visible as ``\\xHH`` escapes, the way Apache and nginx log them, so nothing is dropped and nothing
crashes the parser.

Two SHA-256 digests are kept: of the bytes as uploaded, and of the decompressed content; the ledger
treats the same content (even recompressed or renamed) as the same upload.
"""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import lzma
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from queue import Full, Queue
from typing import IO, BinaryIO, Generic, TypeVar, cast

import numpy as np
import polars as pl
import pyarrow as pa

from ledger.errors import InputError

try:
    from ledger import _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - the extension is optional; numpy finds the newlines instead
    _native = None

# Blocks grow from FIRST_BLOCK to BLOCK_SIZE: the first batches come quickly (both cores busy sooner), the
# rest are large (each batch has a fixed cost of about 20 ms of polars calls, a quarter of a 16 MiB one).
FIRST_BLOCK = 2 * 1024 * 1024
BLOCK_SIZE = 32 * 1024 * 1024  # one block read ahead, two in the workers: well under 1 GB in all
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


@dataclass
class _HashingReader:
    """Wraps the raw byte stream: counts and hashes what is read from it."""

    raw: BinaryIO
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.digest.update(buffer[:n])
        self.size += n
        return n

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()

    @property
    def closed(self) -> bool:
        return self.raw.closed


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
    _hashing: _HashingReader | None = field(default=None, repr=False)

    @property
    def bytes_read(self) -> int:
        """Raw bytes read so far (for progress)."""
        return self._hashing.size if self._hashing is not None else self.raw_bytes

    @classmethod
    def open(cls, name: str) -> Source:
        if name == "-":
            return cls(name="<stdin>", path=None)
        path = Path(name)
        if not path.exists():
            raise InputError("no such file; check the path", path=path)
        if path.is_dir():
            raise InputError("is a directory; pass the log files inside it", path=path)
        return cls(name=str(path), path=path)

    def _raw_stream(self) -> BinaryIO:
        if self.path is None:
            return sys.stdin.buffer
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror}", path=self.path) from exc

    def batches(self, block_size: int | None = None) -> Iterator[Batch]:
        """Yields line batches; afterwards the digests, sizes and line count are set.

        Each block is read into a buffer of its own (``_Blocks``: recycled once its batch is done with),
        after the previous block's unfinished last line: no copy to join them, and no fresh pages from
        the kernel for every block (a new 32 MiB buffer is a new mapping, zeroed page by page).
        ``block_size`` fixes the size of every block (tests use small ones)."""
        hashing = _HashingReader(self._raw_stream())
        self._hashing = hashing
        content = hashlib.sha256()
        sizes = _block_sizes(block_size)
        stream: IO[bytes] | None = None
        try:
            head = hashing.raw.peek(8)[:8] if hasattr(hashing.raw, "peek") else b""
            stream, self.compression = _decompressing(hashing, head)
            carry = b""
            line_no = 1
            blocks = _Blocks()
            while True:
                wanted = len(carry) + next(sizes)
                buffer = blocks.take(wanted)
                view = memoryview(buffer)[:wanted]
                view[: len(carry)] = carry
                got = self._fill(stream, view[len(carry) :], hashing)
                if not got:
                    break
                if self.compression != "none":  # plain input: the content digest is the raw one
                    content.update(view[len(carry) : len(carry) + got])
                self.content_bytes += got
                filled = len(carry) + got
                cut = _after_last_newline(view, filled)
                carry = view[cut:filled].tobytes()
                view.release()
                if cut:
                    lines = split_lines(buffer, cut)
                    yield Batch(line_no, lines)
                    line_no += len(lines)
            if carry:
                lines = split_lines(carry + b"\n")
                yield Batch(line_no, lines)
                line_no += len(lines)
            self.lines = line_no - 1
        finally:
            if stream is not None and self.compression != "none":
                with contextlib.suppress(OSError, EOFError, ValueError):  # an error of its own is raised already
                    stream.close()  # the gzip reader's thread stops; the raw stream (stdin too) is closed below
            if self.path is not None:
                hashing.close()
        self.raw_sha256 = hashing.digest.hexdigest()
        self.content_sha256 = content.hexdigest() if self.compression != "none" else self.raw_sha256
        self.raw_bytes = hashing.size
        self.read_all = True

    def _fill(self, stream: IO[bytes], view: memoryview, hashing: _HashingReader) -> int:
        """Reads into ``view`` until it is full or the stream ends (pipes and codecs return short reads)."""
        got = 0
        while got < len(view):
            n = self._read(stream, view[got:], hashing)
            if not n:
                break
            got += n
        return got

    def _read(self, stream: IO[bytes], view: memoryview, hashing: _HashingReader) -> int:
        try:
            return stream.readinto(view)  # type: ignore[attr-defined]
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
            raise InputError(
                f"corrupt or truncated {self.compression} data near byte {hashing.size} of the file ({exc}); "
                "re-export or re-compress the log and upload it again",
                path=self.name,
            ) from exc
        except Exception as exc:  # ISA-L and zstandard raise error types of their own
            if type(exc).__name__ in ("IsalError", "ZstdError"):
                raise InputError(
                    f"corrupt {self.compression} data near byte {hashing.size} of the file ({exc}); "
                    "re-export or re-compress the log and upload it again",
                    path=self.name,
                ) from exc
            raise


class _Blocks:
    """The reader's block buffers, each used again once nothing refers to it any more: the lines of a
    batch are views over its block, and the block is free when every batch, column and Arrow array made
    from them is gone (each holds a reference to it). Reading into fresh memory instead makes the kernel
    map and zero every page of it again (measured: 0.3 s of CPU per 1.2 GB read)."""

    KEEP = 6  # a block being read, one waiting, two in the workers, and room for a slow release

    def __init__(self) -> None:
        self._kept: list[bytearray] = []

    def take(self, size: int) -> bytearray:
        """A free block of at least ``size`` bytes (free ones too small for it are let go)."""
        small = []
        for k in range(len(self._kept)):  # by index: a loop variable would be one more reference
            if _unused(self._kept[k]):
                if len(self._kept[k]) >= size:
                    return self._kept[k]
                small.append(k)
        for k in reversed(small):
            del self._kept[k]
        fresh = bytearray(size + (1 << 20) - size % (1 << 20))  # room for a longer carry
        if len(self._kept) < self.KEEP:
            self._kept.append(fresh)
        return fresh


def _unused(block: bytearray) -> bool:
    """Whether nothing but the caller's list refers to ``block``: every buffer export (an Arrow buffer,
    a memoryview) holds a reference to it. The count is the list's, the argument's and getrefcount's own."""
    return sys.getrefcount(block) == 3


def _block_sizes(fixed: int | None) -> Iterator[int]:
    if fixed:
        yield from repeat(fixed)
    size = FIRST_BLOCK
    while size < BLOCK_SIZE:
        yield size
        size *= 2
    yield from repeat(BLOCK_SIZE)


def _after_last_newline(view: memoryview, end: int) -> int:
    """The position after the last newline of ``view[:end]``, 0 when there is none (searched backwards a
    window at a time: a block ends a few hundred bytes after its last newline)."""
    window = 1 << 16
    stop = end
    while stop > 0:
        start = max(0, stop - window)
        found = view[start:stop].tobytes().rfind(b"\n")
        if found >= 0:
            return start + found + 1
        stop = start
        window *= 4
    return 0


def _decompressing(hashing: _HashingReader, head: bytes) -> tuple[IO[bytes], str]:
    """The decompressed stream for the raw bytes, chosen by magic bytes, never by file name."""
    raw = cast(BinaryIO, hashing)  # it implements the read() the codecs call
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return _open_codec(name, raw), name
    return raw, "none"


def _open_codec(name: str, raw: BinaryIO) -> IO[bytes]:
    if name == "gzip":
        # ISA-L, in a thread of its own (one core decompresses while the reader hashes and cuts lines); its
        # reader also takes the input 8 MiB at a time: GzipFile's small reads took twice the CPU (measured:
        # 1.0 -> 0.55 s for 1.2 GB). Concatenated members are read like gzip's.
        from isal import igzip_threaded

        return cast(IO[bytes], igzip_threaded.open(raw, "rb", threads=1))
    if name == "bzip2":
        return bz2.BZ2File(raw, "rb")
    if name == "xz":
        return lzma.LZMAFile(raw, "rb")
    import zstandard

    return cast(IO[bytes], zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=False))


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

    UTF-8 is validated by polars in one vectorised cast; only a block that holds invalid bytes takes the
    slow path, where they become ``\\xHH`` escapes (which never contain a newline, so lines stay lines):
    natively, only its bad lines are decoded again (decoding the whole block again took 40 ms, and a
    stray byte in every block made the reading thread the slowest stage).
    """
    end = len(data) if end is None else end
    try:
        return _lines_of(data, end)
    except pl.exceptions.ComputeError:  # polars' error for invalid UTF-8
        if _native is not None:
            return _lines_repaired(data, end)
        fixed = memoryview(data)[:end].tobytes().decode("utf-8", errors="backslashreplace").encode("utf-8")
        return _lines_of(fixed, len(fixed))


def _lines_repaired(data: bytes | bytearray | pa.Buffer, end: int) -> pl.Series:
    """``_lines_of`` for a block with invalid UTF-8: its bad lines (found natively) decoded again with
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
    return _lines_of(fixed, len(fixed))


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
    """A String column over ``data``'s own buffer, one value per newline-terminated line of ``data[:end]``."""
    if _native is not None:
        count, views = _native.lines(data, end)
        array = pa.BinaryViewArray.from_buffers(
            pa.binary_view(), count, [None, pa.py_buffer(views), pa.py_buffer(data)]
        )
        return arrow_series("line", array).cast(pl.String)
    buffer = np.frombuffer(data, dtype=np.uint8, count=end)
    ends = np.flatnonzero(buffer == 10)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    array = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return arrow_series("line", array).cast(pl.String).str.strip_suffix("\n").str.strip_suffix("\r")
