"""Where a compressed file is damaged, and how: found again once its reading failed.

The reader (``ledger.blocks``) decompresses ahead in large reads (ISA-L takes 8 MiB at a time), so when a
codec fails, the bytes it had read say only roughly where. For a file on disk, ``locate`` reads it once more
from the start with a decompressor of the same format, member by member (gzip's members, bzip2's and xz's
streams, zstd's frames), a chunk at a time, and names the damage: the file ends inside a member (it was cut
short), a member fails to decode at a byte, or bytes after the last member start no other one. Only the
failure path pays for this read.
"""

from __future__ import annotations

import bz2
import importlib
import lzma
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 64 * 1024  # read and fed at a time; a failing chunk is then fed again a byte at a time
OUTPUT = 1 << 20  # decompressed bytes made per call at most (they are dropped)

UNITS = {"gzip": "member", "bzip2": "stream", "xz": "stream", "zstd": "frame"}
_MAGIC = {"gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00", "zstd": b"\x28\xb5\x2f\xfd"}
_PADDED = {"gzip", "bzip2", "xz"}  # null bytes after a member are padding (xz: in fours); zstd has none


@dataclass(frozen=True)
class Damage:
    """What is wrong with a compressed file: ``kind`` is ``truncated`` (it ends inside the member that starts
    at ``start``), ``corrupt`` (that member fails to decode at byte ``at``) or ``trailing`` (bytes from
    ``at`` on follow the last member and start no other one); ``size``: the file's."""

    codec: str
    kind: str
    start: int
    at: int
    size: int
    detail: str = ""

    def message(self) -> str:
        unit = UNITS[self.codec]
        if self.kind == "truncated":
            return (
                f"truncated {self.codec} data: the file ends at byte {self.size:,} inside the {unit} that starts at "
                f"byte {self.start:,}, cut short (an interrupted copy, download or upload); copy it again whole "
                "and upload it again"
            )
        if self.kind == "corrupt" and "check" in self.detail.lower():  # found at the member's end
            return (
                f"corrupt {self.codec} data: the {unit} from byte {self.start:,} to byte {self.at:,} fails its "
                f"checksum ({self.detail}): some of its data is damaged; re-export or re-compress the log from "
                "the server's copy and upload it again"
            )
        if self.kind == "corrupt":
            return (
                f"corrupt {self.codec} data: the {unit} that starts at byte {self.start:,} fails to decode at byte "
                f"{self.at:,} of {self.size:,} ({self.detail}); re-export or re-compress the log from the "
                "server's copy and upload it again"
            )
        return (
            f"bytes {self.at:,} to {self.size:,} (the file's end) follow the last {self.codec} {unit} and are not "
            f"{self.codec} data ({self.detail}): a damaged part, or text appended to the compressed file; remove "
            "them (or decompress the file and append them as text) and upload it again"
        )


def locate(path: Path, codec: str) -> Damage | None:
    """The damage in the compressed file ``path``, read again from its start; None when none is found
    (the file is whole, or changed since it was read)."""
    make = _decompressor(codec)
    size = path.stat().st_size
    with path.open("rb") as handle:
        data, offset = handle.read(CHUNK), 0  # the bytes not fed yet, from the file's byte ``offset``
        decompressor, start = None, 0
        while True:
            if decompressor is None:  # between members: padding, then the next one, or the end
                data, offset, damage = _next_member(handle, data, offset, codec, size)
                if damage is not None or not data:
                    return damage
                decompressor, start = make(), offset
            try:
                _feed(decompressor, data)
            except Exception:  # noqa: BLE001 - each codec raises errors of its own
                return _corrupt(path, codec, start, offset, size)
            if decompressor.eof:  # the member ends in this chunk: what follows starts the next one
                rest = decompressor.unused_data
                offset, data, decompressor = offset + len(data) - len(rest), rest, None
                continue
            offset += len(data)
            data = handle.read(CHUNK)
            if not data:
                return Damage(codec, "truncated", start, size, size)


def _next_member(handle: Any, data: bytes, offset: int, codec: str, size: int) -> tuple[bytes, int, Damage | None]:
    """Past the null padding after a member (where the codec has it), to the next member's first byte:
    (its bytes, its offset, None); (b"", size, None) at the end of the file; or the trailing damage."""
    nulls = 0
    while True:
        if len(data) < 8:
            more = handle.read(CHUNK)
            data += more
            if not more and not data:
                if nulls % 4 and codec == "xz":
                    detail = f"{nulls} null bytes after a stream, not a multiple of four: not xz stream padding"
                    return b"", size, Damage(codec, "trailing", offset - nulls, offset - nulls, size, detail)
                return b"", size, None
            if more:
                continue
        if codec in _PADDED and data[:1] == b"\0":
            kept = data.lstrip(b"\0")
            nulls += len(data) - len(kept)
            offset += len(data) - len(kept)
            data = kept
            continue
        if codec == "xz" and nulls % 4:
            detail = f"{nulls} null bytes after a stream, not a multiple of four: not xz stream padding"
            return data, offset, Damage(codec, "trailing", offset - nulls, offset - nulls, size, detail)
        if data.startswith(_MAGIC[codec]):
            return data, offset, None
        return data, offset, Damage(codec, "trailing", offset, offset, size, f"they start {data[:16]!r}")


def _corrupt(path: Path, codec: str, start: int, chunk: int, size: int) -> Damage:
    """The member from ``start`` fails in the chunk read from ``chunk``: fed again, up to that chunk, then
    a byte at a time, the byte where its decompressor fails."""
    decompressor = _decompressor(codec)()
    with path.open("rb") as handle:
        handle.seek(start)
        at = start
        while at < chunk:
            data = handle.read(min(CHUNK, chunk - at))
            _feed(decompressor, data)
            at += len(data)
        for byte in handle.read(2 * CHUNK):  # the chunk that failed, with what padding checks joined to it
            try:
                _feed(decompressor, bytes((byte,)))
            except Exception as exc:  # noqa: BLE001 - each codec raises errors of its own
                return Damage(codec, "corrupt", start, at, size, str(exc) or type(exc).__name__)
            at += 1
    return Damage(codec, "corrupt", start, chunk, size, "it fails only when read on from there")  # pragma: no cover


def _feed(decompressor: Any, data: bytes) -> None:
    """All of ``data`` through the decompressor (its output dropped), or up to its member's end."""
    if hasattr(decompressor, "unconsumed_tail"):  # zlib's kind: what it did not take comes back
        while data and not decompressor.eof:
            decompressor.decompress(data, OUTPUT)
            data = decompressor.unconsumed_tail
        return
    decompressor.decompress(data, OUTPUT)  # bz2's, lzma's and zstd's kind: kept inside, taken on below
    while not decompressor.eof and not decompressor.needs_input:
        decompressor.decompress(b"", OUTPUT)


def _decompressor(codec: str) -> Callable[[], Any]:
    if codec == "gzip":  # ISA-L's, as the reader's (zlib's takes three times as long)
        try:
            from isal import isal_zlib
        except ImportError:  # pragma: no cover - a dependency; zlib reads the same
            return lambda: zlib.decompressobj(wbits=31)
        return lambda: isal_zlib.decompressobj(wbits=31)
    if codec == "bzip2":
        return bz2.BZ2Decompressor
    if codec == "xz":
        return lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ)
    module = importlib.import_module("compression.zstd" if sys.version_info >= (3, 14) else "backports.zstd")
    return module.ZstdDecompressor
