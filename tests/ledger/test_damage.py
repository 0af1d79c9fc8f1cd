"""Where a compressed file is damaged (``ledger.damage.locate``): the file read again after its reading
failed, each kind of damage named with its bytes."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from isal import isal_zlib

from ledger.blocks import zstd_module
from ledger.damage import Damage, locate

TEXT = b"".join(
    b'203.0.113.%d - - [01/Oct/2026:00:00:%02d +0000] "GET /n/%d HTTP/1.1" 200 5\n' % (k % 250, k % 60, k)
    for k in range(4000)
)
CODECS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": lambda data: zstd_module().compress(data),
}


def written(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "damaged.log"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("members", [1, 3])
def test_a_whole_archive_has_no_damage(tmp_path: Path, codec: str, members: int) -> None:
    assert locate(written(tmp_path, CODECS[codec](TEXT) * members), codec) is None


@pytest.mark.parametrize("codec", CODECS)
def test_an_archive_cut_in_its_second_member_is_truncated_there(tmp_path: Path, codec: str) -> None:
    packed = CODECS[codec](TEXT)
    data = packed + packed[: len(packed) // 3]
    assert locate(written(tmp_path, data), codec) == Damage(codec, "truncated", len(packed), len(data), len(data))


@pytest.mark.parametrize("codec", CODECS)
def test_bytes_after_the_last_member_are_trailing_from_their_first_byte(tmp_path: Path, codec: str) -> None:
    packed = CODECS[codec](TEXT)
    data = packed * 2 + b"GET /appended HTTP/1.1\n"
    damage = locate(written(tmp_path, data), codec)
    assert damage == Damage(
        codec, "trailing", 2 * len(packed), 2 * len(packed), len(data), "they start b'GET /appended HT'"
    )
    assert damage.message().startswith(f"bytes {2 * len(packed):,} to {len(data):,} (the file's end) follow the last")


@pytest.mark.parametrize("codec", ["gzip", "bzip2", "xz"])
def test_a_member_that_fails_to_decode_is_found_at_the_byte_its_decoder_stops(tmp_path: Path, codec: str) -> None:
    """The byte named is the first one a fresh decoder of the member refuses: everything before it decodes,
    and with it, it fails."""
    packed = CODECS[codec](TEXT)
    damaged = bytearray(packed * 2)
    middle = len(packed) + len(packed) // 2
    damaged[middle : middle + 64] = random.Random(5).randbytes(64)
    damage = locate(written(tmp_path, bytes(damaged)), codec)
    assert damage is not None and damage.kind == "corrupt" and damage.start == len(packed)
    assert middle <= damage.at < len(damaged)
    member = bytes(damaged[damage.start :])
    decoder = _decoder(codec)
    for k in range(0, damage.at - damage.start, 4096):  # in pieces: the bytes before it decode
        decoder.decompress(member[k : min(k + 4096, damage.at - damage.start)])
    with pytest.raises((OSError, EOFError, ValueError, zlib.error, lzma.LZMAError, isal_zlib.error)):
        decoder.decompress(member[damage.at - damage.start : damage.at - damage.start + 1])
    unit = "member" if codec == "gzip" else "stream"
    said = (  # a deflate stream may decode the damage as other text, which only the checksum at its end tells
        f"the {unit} from byte {len(packed):,} to byte {damage.at:,} fails its checksum"
        if "checksum" in damage.detail
        else f"the {unit} that starts at byte {len(packed):,} fails to decode at byte {damage.at:,}"
    )
    assert said in damage.message()


def test_a_gzip_member_that_fails_its_checksum_is_said_to_be_damaged_as_a_whole(tmp_path: Path) -> None:
    """A changed byte can decode as other text: only the member's checksum, at its end, tells."""
    packed = bytearray(gzip.compress(TEXT))
    packed[-8] ^= 0x01  # the CRC32 of the member's text
    damage = locate(written(tmp_path, bytes(packed)), "gzip")
    assert damage is not None and (damage.kind, damage.start) == ("corrupt", 0)
    assert len(packed) - 8 <= damage.at < len(packed)
    assert f"the member from byte 0 to byte {damage.at:,} fails its checksum" in damage.message()


def test_a_file_changed_back_to_whole_since_is_not_damaged(tmp_path: Path) -> None:
    """Read again, a file made whole since (re-uploaded in place) has nothing to name: the reader's own
    message is then given."""
    assert locate(written(tmp_path, gzip.compress(TEXT) + b"\0" * 10), "gzip") is None


def _decoder(codec: str):  # type: ignore[no-untyped-def]
    if codec == "gzip":  # ISA-L's, as the reader's and ``locate``'s (zlib's may stop at another byte)
        return isal_zlib.decompressobj(wbits=31)
    if codec == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor(lzma.FORMAT_XZ)
