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
import hashlib
import lzma
import sys
import threading
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from typing import IO, BinaryIO, TypeVar, cast

import numpy as np
import polars as pl
import pyarrow as pa

from ledger.errors import InputError

try:
    from ledger import _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - the extension is optional; numpy finds the newlines instead
    _native = None

BLOCK_SIZE = 16 * 1024 * 1024  # with two blocks read ahead, ~10 blocks of working memory stay well under 1 GB
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

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

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
        """Yields line batches; afterwards the digests, sizes and line count are set."""
        block_size = block_size or BLOCK_SIZE
        hashing = _HashingReader(self._raw_stream())
        self._hashing = hashing
        content = hashlib.sha256()
        try:
            head = hashing.raw.peek(8)[:8] if hasattr(hashing.raw, "peek") else b""
            stream, self.compression = _decompressing(hashing, head)
            carry = b""
            line_no = 1
            while True:
                block = self._read(stream, block_size, hashing)
                if not block:
                    break
                if self.compression != "none":  # plain input: the content digest is the raw one
                    content.update(block)
                self.content_bytes += len(block)
                data = carry + block
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
                if cut:
                    lines = split_lines(data, cut)
                    yield Batch(line_no, lines)
                    line_no += len(lines)
            if carry:
                lines = split_lines(carry + b"\n")
                yield Batch(line_no, lines)
                line_no += len(lines)
            self.lines = line_no - 1
        finally:
            if self.path is not None:
                hashing.close()
        self.raw_sha256 = hashing.digest.hexdigest()
        self.content_sha256 = content.hexdigest() if self.compression != "none" else self.raw_sha256
        self.raw_bytes = hashing.size

    def _read(self, stream: IO[bytes], size: int, hashing: _HashingReader) -> bytes:
        try:
            return stream.read(size)
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
            raise InputError(
                f"corrupt or truncated {self.compression} data near byte {hashing.size} of the file ({exc}); "
                "re-export or re-compress the log and upload it again",
                path=self.name,
            ) from exc
        except Exception as exc:  # zstandard raises its own ZstdError type
            if type(exc).__name__ == "ZstdError":
                raise InputError(
                    f"corrupt zstd data near byte {hashing.size} of the file ({exc})", path=self.name
                ) from exc
            raise


def _decompressing(hashing: _HashingReader, head: bytes) -> tuple[IO[bytes], str]:
    """The decompressed stream for the raw bytes, chosen by magic bytes, never by file name."""
    raw = cast(BinaryIO, hashing)  # it implements the read() the codecs call
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return _open_codec(name, raw), name
    return raw, "none"


def _open_codec(name: str, raw: BinaryIO) -> IO[bytes]:
    if name == "gzip":
        from isal import igzip

        return cast(IO[bytes], igzip.GzipFile(fileobj=raw, mode="rb"))
    if name == "bzip2":
        return bz2.BZ2File(raw, "rb")
    if name == "xz":
        return lzma.LZMAFile(raw, "rb")
    import zstandard

    return cast(IO[bytes], zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True))


_END = object()


T = TypeVar("T")


def prefetch(batches: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """Read (and decompress, and split) the next blocks in a background thread while the caller works.

    Errors in the reader are raised in the caller; when the caller stops early (an error, Ctrl-C), the
    reader is told to stop and is not waited for beyond the block it is reading.
    """
    queue: Queue[object] = Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def work() -> None:
        try:
            for batch in batches:
                if not offer(batch):
                    break
            else:
                offer(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            offer(exc)
        finally:
            batches.close()  # type: ignore[attr-defined]  # closes the file when the consumer stopped early

    thread = threading.Thread(target=work, name="royalty-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]  # items are T or the sentinels handled above
    finally:
        stop.set()
        thread.join(timeout=5)


def split_lines(data: bytes, end: int | None = None) -> pl.Series:
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
        fixed = data[:end].decode("utf-8", errors="backslashreplace").encode("utf-8")
        return _lines_of(fixed, len(fixed))


def _lines_repaired(data: bytes, end: int) -> pl.Series:
    """``_lines_of`` for a block with invalid UTF-8: its bad lines (found natively) decoded again with
    ``\\xHH`` escapes, the rest as they are."""
    spans = np.frombuffer(_native.invalid_utf8(data, end), dtype=np.int64).reshape(-1, 2).tolist()
    pieces, at = [], 0
    for start, length in spans:
        pieces += [data[at:start], data[start : start + length].decode("utf-8", errors="backslashreplace").encode()]
        at = start + length
    pieces.append(data[at:end])
    fixed = b"".join(pieces)
    return _lines_of(fixed, len(fixed))


def _lines_of(data: bytes, end: int) -> pl.Series:
    """A String column over ``data``'s own buffer, one value per newline-terminated line of ``data[:end]``."""
    if _native is not None:
        count, views = _native.lines(data, end)
        array = pa.BinaryViewArray.from_buffers(
            pa.binary_view(), count, [None, pa.py_buffer(views), pa.py_buffer(data)]
        )
        return pl.Series("line", array).cast(pl.String)
    buffer = np.frombuffer(data, dtype=np.uint8, count=end)
    ends = np.flatnonzero(buffer == 10)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    array = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return pl.Series("line", array).cast(pl.String).str.strip_suffix("\n").str.strip_suffix("\r")
