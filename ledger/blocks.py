"""An input's content as blocks of whole lines: decompressed (by magic bytes), counted and hashed.

This module imports nothing heavy (no numpy, polars, pyarrow or DuckDB): the command line starts reading
the file it was given here (``start_early``) while it imports the rest, and ``ledger.sources`` takes the
blocks read so far over (``take_early``) and reads on from where they stop.

Two SHA-256 digests are kept: of the bytes as uploaded, and of the decompressed content; the ledger
treats the same content (even recompressed or renamed) as the same upload.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import hashlib
import importlib
import io
import lzma
import os
import sys
import threading
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from types import ModuleType
from typing import IO, Any, BinaryIO, cast

from ledger.errors import InputError

try:  # the native helpers (ledger/_native.c), a plain C module: nothing heavy
    from ledger import _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - built by pip; without it, the same in Python
    _native = None

# Blocks grow from FIRST_BLOCK to BLOCK_SIZE: the first batches come quickly (both cores busy sooner), the
# rest are large (each batch has a fixed cost of about 20 ms of polars calls, a quarter of a 16 MiB one).
FIRST_BLOCK = 2 * 1024 * 1024
BLOCK_SIZE = 32 * 1024 * 1024  # one block read ahead, two in the workers: well under 1 GB in all
# What a file's early reading (``start_early``) reads ahead of the ingest at most: the first six blocks
# (2, 4, 8, 16, 32 and 32 MiB). The workers have not started yet; once they take the blocks over, the
# reading goes on one block ahead of them.
EARLY_BYTES = 96 * 1024 * 1024
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)

STDIN_NAME = "<stdin>"  # the name of a log read from standard input (``-``)
# Archives of several files, which are not logs: each of their files would be an upload of its own
_ARCHIVES = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty one
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
)
_UNPACK = {
    "zip": "unzip {name} -d DIR",
    "7z": "7z x {name} -oDIR",
    "rar": "unrar x {name} DIR/",
    "tar": "tar -xf {name} -C DIR",
}


def _archive_error(name: str, archive: str, compression: str = "none") -> InputError:
    """A file that is an archive of files: a clear error (its bytes read as log lines were its headers' junk
    glued to its files' first lines), with the command that unpacks it."""
    packed = "" if compression == "none" else f", {compression}-compressed"
    unpack = _UNPACK[archive].format(name=name if name != STDIN_NAME else "FILE")
    if name == STDIN_NAME:
        unpack = f"saved as FILE: {unpack}"
    return InputError(
        f"a {archive} archive{packed}, not a log: unpack it ({unpack}) and ingest DIR, where each of its files "
        "is an upload of its own",
        path=name,
    )


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def utf16_codec(head: bytes) -> str | None:
    """The codec of UTF-16 text by its first bytes: ``utf-16`` with a byte-order mark; without one (rare:
    a tool that writes UTF-16 and no mark), ``utf-16-le`` or ``-be`` when its text is mostly ASCII, as a
    log's is: the high byte of three characters in four or more is null, and next to no low byte is. None
    for anything else (UTF-8, a hole of null bytes, binary)."""
    if head[:2] in _UTF16_BOMS:
        return "utf-16"
    head = head[: min(len(head), 4096) & ~1]
    if len(head) < 32:
        return None
    even, odd = head[0::2].count(0) / (len(head) // 2), head[1::2].count(0) / (len(head) // 2)
    if odd >= 0.75 and even <= 0.05:
        return "utf-16-le"
    if even >= 0.75 and odd <= 0.05:
        return "utf-16-be"
    return None


class _Utf16(io.RawIOBase):
    """UTF-16 text (as Windows PowerShell writes a file: a byte-order mark first) as UTF-8, which the
    parsers read; two bytes that are no character (an odd last byte, a lone surrogate) become ``\\xHH``
    escapes, as bytes that are not UTF-8 do in UTF-8 logs. ``head``: the first bytes, already read;
    ``codec``: ``utf-16`` (the mark tells the order), ``utf-16-le`` or ``utf-16-be`` (``utf16_codec``)."""

    def __init__(self, stream: IO[bytes], head: bytes, codec: str = "utf-16") -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(codec)(errors="backslashreplace")
        self._out = memoryview(self._decoder.decode(head).encode())
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        while not self._out and not self._ended:
            data = self._stream.read(1 << 20)
            self._ended = not data
            self._out = memoryview(self._decoder.decode(data, final=self._ended).encode())
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


def _is_tar(block: memoryview) -> bool:
    """Whether ``block`` starts with a POSIX or GNU tar header: its magic, and its checksum right (the sum of
    its 512 bytes, the checksum's own eight counted as spaces), so a log line cannot be taken for one."""
    header = bytes(block[:512])
    if len(header) < 512 or header[257:262] != b"ustar":
        return False
    try:
        stored = int(header[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(header[:148]) + 8 * ord(" ") + sum(header[156:])


Block = tuple[bytearray | bytes, int]  # a buffer and where its whole lines end: ``buffer[:end]``


_ZEROS = bytes(4 << 20)


@dataclass
class Holes:
    """Runs of null bytes in a log's text, and what was done with them (``mend``).

    No access log writes a null byte (nginx and Apache escape binary as ``\\xHH``, JSON as ``\\u0000``): a run
    of them is a hole in the file. A crash leaves one where the blocks the file had grown into were never
    written (its last lines before the crash, newlines included), and a ``copytruncate`` rotation at the
    start of the file (the server writes on at its old offset, and the bytes before it read as nulls,
    however many gigabytes they are). What follows the hole on its line is the first line written after
    it, so the line is read from there; the text before the hole on that line (the start of a line the
    hole cut off) is dropped and counted in ``cuts``. A hole that ends its line, or the file, leaves the
    text before it (a line of only nulls is then an empty line, rejected as such). The runs are taken out
    as the blocks are read, so a hole of any size costs no memory; the digests are of the bytes as they
    came."""

    runs: int = 0
    bytes: int = 0
    cuts: int = 0
    _open: bool = False  # the last read ended inside a run: where it ends decides what stays before it

    def mend(self, buffer: bytearray, start: int, filled: int) -> int:
        """Take the runs out of ``buffer[start:filled]`` (``buffer[:start]``, the line begun before it, has
        none), in place; the new end of the text. One pass: the text kept is moved down once, behind
        ``kept`` (a file with a null byte on every line costs no more than one with a single hole).
        Natively when the extension is built: a binary file read as a log has millions of short runs,
        4 us each here (a 69 MB shared library took 8 s to be found no log; natively, 0.1 s)."""
        if _native is None:
            return self.mend_here(buffer, start, filled)
        kept, runs, nulls, cuts, self._open = _native.mend(buffer, start, filled, self._open)
        self.runs += runs
        self.bytes += nulls
        self.cuts += cuts
        return int(kept)

    def mend_here(self, buffer: bytearray, start: int, filled: int) -> int:
        """``mend`` in Python (the extension's ``mend`` does the same, and the tests check it does)."""
        kept = read = start
        if self._open:  # the last read ended in a run: this one may go on with it
            end = self._run_end(buffer, start, filled)
            self.bytes += end - start
            if end == filled:
                return start
            self._open, kept, read = False, self._after_run(buffer, end, start), end
        while (at := buffer.find(b"\0", read, filled)) >= 0:
            kept = _move(buffer, read, at, kept)
            self.runs += 1
            end = self._run_end(buffer, at, filled)
            self.bytes += end - at
            if end == filled:
                self._open = True
                return kept
            kept, read = self._after_run(buffer, end, kept), end
        return _move(buffer, read, filled, kept)

    def _after_run(self, buffer: bytearray, end: int, kept: int) -> int:
        """Where the text kept ends once a run ending at ``end`` is out: text after it on its line was
        written after the hole, and what the line had before it (kept up to ``kept``) is cut off; the hole
        ends the line when a newline follows it (``\\n`` or ``\\r\\n``)."""
        if buffer[end] in (0x0A, 0x0D):
            return kept
        line = buffer.rfind(b"\n", 0, kept) + 1
        self.cuts += line < kept
        return line

    @staticmethod
    def _run_end(buffer: bytearray, at: int, filled: int) -> int:
        """The position after the run of null bytes at ``at`` (or ``filled``): compared a chunk at a time,
        growing (a crash's hole is a few kilobytes; a copytruncate's can be gigabytes)."""
        size = 64
        while at < filled:
            chunk = memoryview(buffer)[at : min(filled, at + size)].tobytes()
            if chunk != _ZEROS[: len(chunk)]:
                return at + len(chunk) - len(chunk.lstrip(b"\0"))
            at += len(chunk)
            size = min(size * 4, len(_ZEROS))
        return filled


def _move(buffer: bytearray, start: int, end: int, to: int) -> int:
    """``buffer[start:end]`` moved down to ``to`` (``to <= start``; the buffer keeps its size, as its views
    require); the end of the text moved."""
    if to != start:
        buffer[to : to + end - start] = buffer[start:end]
    return to + end - start


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


class ContentBlocks:
    """One input's content, read once as a stream, as blocks that end after a line's newline (the last
    one after the unfinished last line, if any, with a newline added). Once it is read to its end,
    the digests and sizes are set; ``raw_bytes`` counts the raw bytes read so far on the way (progress).

    Each block is read into a buffer of its own (``Blocks``: recycled once nothing refers to it any more),
    after the previous block's unfinished last line: no copy to join them, and no fresh pages from the
    kernel for every block (a new 32 MiB buffer is a new mapping, zeroed page by page). ``block_size``
    fixes the size of every block (tests use small ones). ``close_raw``: close ``raw`` when done (not
    stdin)."""

    def __init__(self, name: str, raw: BinaryIO, *, close_raw: bool, block_size: int | None = None) -> None:
        self.name = name
        self.compression = "none"
        self.utf16 = False  # the content is UTF-16 text (by its byte-order mark), read as UTF-8 (``_Utf16``)
        self.raw_sha256 = ""
        self.content_sha256 = ""
        self.content_bytes = 0
        self.read_all = False
        self.holes = Holes()
        self._hashing = _HashingReader(raw)
        self._close_raw = close_raw
        self._closed = False
        self._block_size = block_size
        self._stream: IO[bytes] | None = None
        # The codec is opened here, in the thread that makes this object: ISA-L's decompressing thread
        # stops when the thread that opened it has ended, and its stream then ends as if at the end of the
        # file. So an early reading (``EarlyRead``) opens it in the main thread, which outlives the threads
        # that read the blocks.
        try:
            head = raw.peek(8)[:8] if hasattr(raw, "peek") else b""
            for magic, archive in _ARCHIVES:
                if head.startswith(magic):
                    raise _archive_error(name, archive)
            self._stream, self.compression = _decompressing(self._hashing, head)
        except BaseException:
            self._close_streams()
            raise
        self._blocks = self._read()

    @property
    def raw_bytes(self) -> int:
        return self._hashing.size

    @property
    def label(self) -> str:
        """How the bytes as uploaded became the text read: the codec, and UTF-16 when it was that."""
        if not self.utf16:
            return self.compression
        return "utf-16" if self.compression == "none" else f"{self.compression}+utf-16"

    def __iter__(self) -> Iterator[Block]:
        return self._blocks

    def __next__(self) -> Block:
        return next(self._blocks)

    def close(self) -> None:
        """Stop reading (the file and a decompressing thread are closed); nothing if read to the end."""
        self._blocks.close()
        self._close_streams()

    def _close_streams(self) -> None:
        if self._closed:
            return
        self._closed = True
        stream = getattr(self, "_stream", None)
        if stream is not None and self.compression != "none":
            with contextlib.suppress(OSError, EOFError, ValueError):  # an error of its own is raised already
                stream.close()  # the gzip reader's thread stops; the raw stream (stdin too) is closed below
        if self._close_raw:
            self._hashing.close()
        self._stream = None  # its buffers let go: a source read to its end is kept until it is written

    def _read(self) -> Generator[Block, None, None]:
        hashing = self._hashing
        content = hashlib.sha256()
        sizes = _block_sizes(self._block_size)
        stream = self._stream
        assert stream is not None  # opened in __init__, closed only by this generator or ``close``
        try:
            carry = b""
            blocks = Blocks()
            while True:
                wanted = len(carry) + next(sizes)
                buffer = blocks.take(wanted)
                view = memoryview(buffer)[:wanted]
                view[: len(carry)] = carry
                got = self._fill(stream, view[len(carry) :])
                if not got:
                    break
                if not self.content_bytes and _is_tar(view[:got]):
                    raise _archive_error(self.name, "tar", self.compression)
                codec = None if self.content_bytes or self.utf16 else utf16_codec(bytes(view[: min(got, 4096)]))
                if codec is not None:
                    # read again through the recoding, from these first bytes on
                    stream, self.utf16 = cast(IO[bytes], _Utf16(stream, bytes(view[:got]), codec)), True
                    got = self._fill(stream, view[len(carry) :])
                    if not got:
                        break
                if self.compression != "none" or self.utf16:  # plain input: the content digest is the raw one
                    content.update(view[len(carry) : len(carry) + got])
                self.content_bytes += got
                filled = self.holes.mend(buffer, len(carry), len(carry) + got)
                if got < wanted - len(carry) and filled and view[filled - 1] != 0x0A:
                    # the stream ended in this block, inside a line: that line ends the block (with the
                    # newline it lacks) rather than coming alone after it, so that a small file's first
                    # batch, which its format is told from, holds all of its lines
                    view.release()
                    buffer[filled] = 0x0A  # the read ended short of the buffer's end: there is room for it
                    carry = b""
                    yield buffer, filled + 1
                    break
                cut = _after_last_newline(view, filled)
                carry = view[cut:filled].tobytes()
                view.release()
                if cut:
                    yield buffer, cut
            if carry:
                yield carry + b"\n", len(carry) + 1
        finally:
            self._close_streams()
        self.raw_sha256 = hashing.digest.hexdigest()
        self.content_sha256 = content.hexdigest() if self.compression != "none" or self.utf16 else self.raw_sha256
        self.read_all = True

    def _fill(self, stream: IO[bytes], view: memoryview) -> int:
        """Reads into ``view`` until it is full or the stream ends (pipes and codecs return short reads)."""
        got = 0
        while got < len(view):
            n = self._read_into(stream, view[got:])
            if not n:
                break
            got += n
        return got

    def _read_into(self, stream: IO[bytes], view: memoryview) -> int:
        try:
            return stream.readinto(view)  # type: ignore[attr-defined]
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
            raise self._damaged(f"corrupt or truncated {self.compression} data", exc) from exc
        except Exception as exc:  # ISA-L and zstd raise error types of their own
            if type(exc).__name__ in ("IsalError", "ZstdError"):
                raise self._damaged(f"corrupt {self.compression} data", exc) from exc
            raise

    def _damaged(self, what: str, exc: BaseException) -> InputError:
        """The codec failed: for a file, where and how it is damaged, found by reading it again
        (``ledger.damage``); else (standard input, or nothing found again) where the reading had got to."""
        path = Path(self.name)
        if self.compression != "none" and self.name != STDIN_NAME and path.is_file():
            from ledger.damage import locate  # only on this path

            with contextlib.suppress(Exception):  # the reader's own error is then the one to give
                damage = locate(path, self.compression)
                if damage is not None:
                    return InputError(damage.message(), path=self.name)
        return InputError(
            f"{what} near byte {self.raw_bytes} of the file ({exc}); re-export or re-compress the log and upload "
            "it again",
            path=self.name,
        )


class Blocks:
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
        return cast(IO[bytes], _Streams(raw, bz2.BZ2Decompressor, xz=False))
    if name == "xz":
        return cast(IO[bytes], _Streams(raw, lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ), xz=True))
    # as gzip's, bz2's and lzma's readers do, this one fails on a frame cut short: zstandard's stream reader
    # ended there silently, and a truncated .zst was ingested as a shorter log
    return cast(IO[bytes], zstd_module().ZstdFile(raw, "rb"))


def zstd_module() -> ModuleType:
    """The standard library's zstd (PEP 784), or its backport before Python 3.14."""
    return importlib.import_module("compression.zstd" if sys.version_info >= (3, 14) else "backports.zstd")


class _Streams(io.RawIOBase):
    """A bzip2 or xz file of one or more streams, decompressed as the standard library's BZ2File and
    LZMAFile do, but strict where they are lenient: bytes after a stream that do not start another stream
    are an error, not the silent end of the file (a concatenated archive whose second stream was damaged
    lost it and everything after it without a word). Null bytes after a stream are padding, as ``gzip``
    and ``bzip2`` ignore them at the end of a file and the xz format allows them (``xz``: a multiple of
    four); LZMAFile failed on an xz file's padding."""

    CHUNK = 1 << 20

    def __init__(self, raw: BinaryIO, new: Callable[[], Any], *, xz: bool) -> None:
        self._raw, self._new, self._xz = raw, new, xz
        self._decompressor = new()
        self._input = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        while len(view):
            if self._decompressor.eof:
                rest = self._after_stream()
                if not rest:
                    return 0
                self._decompressor, self._input = self._new(), rest
            if self._decompressor.needs_input and not self._input:
                self._input = self._raw.read(self.CHUNK)
                if not self._input:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            out = self._decompressor.decompress(self._input, max_length=len(view))
            self._input = b""  # what the decompressor did not use yet, it keeps
            if out:
                view[: len(out)] = out
                return len(out)
        return 0

    def _after_stream(self) -> bytes:
        """The bytes after the stream just ended, up to the next one's first (none: the end of the file)."""
        rest, zeros = self._decompressor.unused_data, 0
        while True:
            if not rest:
                rest = self._raw.read(self.CHUNK)
                if not rest:
                    break
            kept = rest.lstrip(b"\0")
            zeros, rest = zeros + len(rest) - len(kept), kept
            if rest:
                break
        if zeros % 4 and self._xz:
            raise lzma.LZMAError(f"{zeros} null bytes after a stream, not a multiple of four: not xz stream padding")
        return rest


FileKey = tuple[int, int, int, int]  # device, inode, size and modification time of an open file


def _key(status: os.stat_result) -> FileKey:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


class EarlyRead:
    """A file's first blocks read in a thread of their own, up to ``limit`` bytes of them, until the
    ingest takes them over (``take_early``): while the command line imports the rest of the program
    (a quarter of a second with one core busy), the other core decompresses and hashes the file. The
    thread runs at the lowest priority, so that it takes only the core the imports leave (at the same
    priority, the reading thread and ISA-L's took the imports from 0.74 to 1.26 s in one run). ISA-L's own thread
    keeps the normal priority: it goes on decompressing for the rest of the file, and a thread's
    priority cannot be raised again without privileges."""

    def __init__(self, path: Path, limit: int = EARLY_BYTES) -> None:
        handle = path.open("rb")
        self.path = path
        self.key = _key(os.fstat(handle.fileno()))
        self.content = ContentBlocks(str(path), handle, close_raw=True)
        self._limit = limit
        self._queued: deque[Block] = deque()
        self._bytes = 0
        self._taken = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="royalty-early", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        _lower_priority(threading.get_native_id())
        try:
            for block in self.content:
                with self._changed:
                    self._queued.append(block)
                    self._bytes += len(block[0])
                    self._changed.notify_all()
                    while self._bytes >= self._limit and not self._taken:
                        self._changed.wait()
                    if self._taken:
                        return
        except BaseException as exc:  # noqa: BLE001 - raised where the blocks are read, in their turn
            self._error = exc
        finally:
            with self._changed:
                self._taken = True  # nothing more comes from this thread
                self._changed.notify_all()

    def blocks(self) -> Iterator[Block]:
        """Every block of the file: those read so far, then the rest, read by the caller."""
        with self._changed:
            self._taken = True
            self._changed.notify_all()
        self._thread.join()
        while self._queued:
            yield self._queued.popleft()
        if self._error is not None:
            raise self._error
        yield from self.content

    def close(self) -> None:
        """Stop reading, and close the file."""
        with self._changed:
            self._taken = True
            self._changed.notify_all()
        self._thread.join()
        self._queued.clear()
        self.content.close()


def _lower_priority(thread_id: int) -> None:
    """The lowest scheduling priority for one thread (Linux: nice 19 applies to the thread alone)."""
    with contextlib.suppress(OSError, AttributeError):  # not on every platform
        os.setpriority(os.PRIO_PROCESS, thread_id, 19)


_early: EarlyRead | None = None
_early_lock = threading.Lock()


def start_early(path: str, limit: int = EARLY_BYTES) -> None:
    """Start reading ``path`` ahead of the ingest that will read it, up to ``limit`` bytes of blocks
    (nothing if it is not a regular file or cannot be opened: the ingest reports that itself). Called
    from the main thread: the file's codec is opened in the calling thread, which must outlive the
    reading (see ``ContentBlocks``)."""
    global _early
    with _early_lock:
        if _early is not None:
            return
        file = Path(path)
        with contextlib.suppress(OSError, InputError):  # an archive, say
            if file.is_file():
                _early = EarlyRead(file, limit)


def take_early(path: Path) -> EarlyRead | None:
    """The early reading of ``path``, if one was started for this very file (same device, inode, size and
    modification time); an early reading of another file, or of this one since changed, is dropped."""
    global _early
    with _early_lock:
        early, _early = _early, None
    if early is None:
        return None
    try:
        same = _key(path.stat()) == early.key
    except OSError:
        same = False
    if same:
        return early
    early.close()
    return None
