"""Reading sources: compression by magic bytes, line splitting, encodings, hashes, corrupt archives."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger.blocks
import ledger.sources
from ledger.errors import InputError
from ledger.sources import Source, arrow_series, split_lines

zstd = ledger.blocks.zstd_module()

TEXT = b"first line\nsecond line\r\n\nfourth, no newline at the end"
LINES = ["first line", "second line", "", "fourth, no newline at the end"]


def read_all(path: Path, block_size: int = 1 << 20) -> tuple[Source, list[str], list[int]]:
    source = Source.open(str(path))
    lines: list[str] = []
    firsts: list[int] = []
    for batch in source.batches(block_size=block_size):
        firsts.append(batch.first_line)
        lines.extend(batch.lines.to_list())
    return source, lines, firsts


@pytest.mark.parametrize(
    ("name", "compress", "expected"),
    [
        ("plain.log", lambda b: b, "none"),
        ("looks-plain.txt", gzip.compress, "gzip"),
        ("two-members.log", lambda b: gzip.compress(b[:20]) + gzip.compress(b[20:]), "gzip"),
        ("archive.gz", bz2.compress, "bzip2"),
        ("no-suffix", lzma.compress, "xz"),
        ("two-streams.bz2", lambda b: bz2.compress(b[:20]) + bz2.compress(b[20:]), "bzip2"),
        ("two-streams.xz", lambda b: lzma.compress(b[:20]) + lzma.compress(b[20:]), "xz"),
        ("misnamed.bz2", zstd.compress, "zstd"),
        ("two-frames.zst", lambda b: zstd.compress(b[:20]) + zstd.compress(b[20:]), "zstd"),
    ],
)
def test_compression_is_chosen_by_magic_bytes(tmp_path: Path, name: str, compress, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(compress(TEXT))
    source, lines, _ = read_all(path)
    assert source.compression == expected
    assert lines == LINES
    assert source.lines == 4
    assert source.content_sha256 == hashlib.sha256(TEXT).hexdigest()
    assert source.raw_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert source.raw_bytes == path.stat().st_size


def test_small_blocks_keep_line_numbers_and_lines_whole(tmp_path: Path) -> None:
    path = tmp_path / "many.log"
    expected = [f"line {i} " + "x" * (i % 17) for i in range(1, 1001)]
    path.write_text("\n".join(expected) + "\n")
    _, lines, firsts = read_all(path, block_size=97)
    assert lines == expected
    assert firsts[0] == 1 and firsts == sorted(firsts)


def test_non_utf8_bytes_become_visible_escapes() -> None:
    lines = split_lines(b"caf\xe9 \xff\xfe ok\nnext\n")
    assert lines.to_list() == ["caf\\xe9 \\xff\\xfe ok", "next"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=20), st.binary(max_size=5))
def test_native_and_numpy_line_splitting_agree(lines: list[bytes], tail: bytes) -> None:
    # CR LF endings, lone CRs, empty lines, invalid UTF-8, and a tail after the last newline (not a line)
    data = b"".join(line + (b"\r\n" if n % 3 == 0 else b"\n") for n, line in enumerate(lines)) + tail
    end = len(data) - len(tail)
    native = split_lines(data, end).to_list()
    saved, ledger.sources._native = ledger.sources._native, None
    try:
        assert split_lines(data, end).to_list() == native
    finally:
        ledger.sources._native = saved
    assert len(native) == len(lines)


def test_the_native_line_splitter_is_built() -> None:
    assert ledger.sources._native is not None, "ledger/_native.c is not built: run `make` with gcc"


def test_empty_file_has_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    source, lines, _ = read_all(path)
    assert lines == [] and source.lines == 0


CODECS = {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress, "zstd": zstd.compress}


UNITS = {"gzip": "member", "bzip2": "stream", "xz": "stream", "zstd": "frame"}


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize(
    "after",
    [b"GARBAGE\n", b"\0" * 3 + b"BZh", b"\x1f\x8b\x08\0" * 8],
    ids=["text", "nulls-then-junk", "another-codec"],
)
def test_bytes_after_the_last_stream_that_start_no_other_are_an_error(tmp_path: Path, codec: str, after: bytes) -> None:
    """What follows a complete stream is another stream of the same codec or null padding: anything else is
    a damaged archive (a concatenation whose next part is broken), not the end of the log. BZ2File and
    LZMAFile took it for the end, and dropped it with whatever came after. The message says where it
    starts, to the byte (the reader had read ahead of it: read again, ``ledger.damage``)."""
    path = tmp_path / "tail.log"
    packed = CODECS[codec](TEXT * 500)
    path.write_bytes(packed + after)
    size, unit = len(packed) + len(after), UNITS[codec]
    if after.startswith(b"\x1f\x8b") and codec == "gzip":  # a gzip header: the next member, then damaged
        said = rf"the member that starts at byte {len(packed):,} fails to decode at byte [\d,]+ of {size:,}"
    elif after.startswith(b"\0") and codec == "bzip2":  # "BZh" after the padding: the next stream, cut short
        said = rf"the file ends at byte {size:,} inside the stream that starts at byte {len(packed) + 3:,}"
    elif after.startswith(b"\0") and codec == "xz":
        said = rf"bytes {len(packed):,} to {size:,} .*\(3 null bytes after a stream, not a multiple of four"
    else:
        at = len(packed) + (3 if after.startswith(b"\0") and codec != "zstd" else 0)  # zstd has no padding
        said = rf"bytes {at:,} to {size:,} \(the file's end\) follow the last {codec} {unit} and are not {codec} data"
    with pytest.raises(InputError, match=rf"tail\.log: .*{said}"):
        read_all(path)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("nulls", [4, 1024])
def test_null_padding_after_the_last_stream_is_allowed(tmp_path: Path, codec: str, nulls: int) -> None:
    """As gzip and bzip2 ignore null bytes at the end of a file and the xz format allows them between and
    after streams (in fours), so does the reader; zstd's format has no padding, and its tool refuses it."""
    path = tmp_path / "padded.log"
    packed = CODECS[codec](TEXT + b"\n")
    path.write_bytes(packed + b"\0" * nulls + (packed if codec == "xz" else b""))
    if codec == "zstd":
        with pytest.raises(InputError, match=rf"bytes {len(packed):,} to {len(packed) + nulls:,} .* are not zstd data"):
            read_all(path)
        return
    _, lines, _ = read_all(path)
    assert lines == LINES * (2 if codec == "xz" else 1)


def test_xz_padding_is_a_multiple_of_four_null_bytes(tmp_path: Path) -> None:
    path = tmp_path / "padded.xz"
    path.write_bytes(lzma.compress(TEXT) + b"\0" * 6)
    with pytest.raises(InputError, match="6 null bytes after a stream, not a multiple of four"):
        read_all(path)


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("cut", [40, "half"])
@pytest.mark.parametrize("members", [1, 3])
def test_a_truncated_archive_fails_with_byte_offset(tmp_path: Path, codec: str, cut: int | str, members: int) -> None:
    """An archive cut short (at its end, or halfway through, as a copy that stopped) is an error, not a
    shorter log: zstandard's stream reader ended a cut frame silently. The message says the file's end and
    where the member it cuts starts."""
    packed = CODECS[codec](TEXT * 5000)
    path = tmp_path / "cut.log"
    last = packed[: len(packed) // 2] if cut == "half" else packed[:-cut]
    path.write_bytes(packed * (members - 1) + last)
    start, size = len(packed) * (members - 1), len(packed) * (members - 1) + len(last)
    said = (
        rf"cut\.log: truncated {codec} data: the file ends at byte {size:,} inside the {UNITS[codec]} that starts "
        rf"at byte {start:,}, cut short"
    )
    with pytest.raises(InputError, match=said):
        read_all(path)


def test_a_damaged_archive_read_from_standard_input_says_how_far_it_was_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Standard input cannot be read again: the message says where the reading had got to."""
    packed = gzip.compress(TEXT * 5000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(packed[:-40]))))
    with pytest.raises(InputError, match=rf"<stdin>: corrupt or truncated gzip data near byte {len(packed) - 40}\b"):
        for _ in Source.open("-").batches():
            pass


def _tar(compress=lambda b: b):  # type: ignore[no-untyped-def]
    def make(text: bytes) -> bytes:
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w") as tar:
            for name in ("access.log", "access.log.1"):
                member = tarfile.TarInfo(name)
                member.size = len(text)
                tar.addfile(member, io.BytesIO(text))
        return compress(packed.getvalue())

    return make


def _zip(text: bytes) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("access.log", text)
    return packed.getvalue()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_zip, "a zip archive, not a log: unpack it (unzip {path} -d DIR)"),
        (lambda text: b"PK\x05\x06" + b"\0" * 18, "a zip archive"),
        (lambda text: b"7z\xbc\xaf\x27\x1c" + text, "a 7z archive, not a log: unpack it (7z x {path} -oDIR)"),
        (lambda text: b"Rar!\x1a\x07\x01\x00" + text, "a rar archive"),
        (_tar(), "a tar archive, not a log: unpack it (tar -xf {path} -C DIR)"),
        (_tar(gzip.compress), "a tar archive, gzip-compressed, not a log"),
        (_tar(lzma.compress), "a tar archive, xz-compressed, not a log"),
        (_tar(zstd.compress), "a tar archive, zstd-compressed, not a log"),
    ],
    ids=["zip", "empty-zip", "7z", "rar", "tar", "tar.gz", "tar.xz", "tar.zst"],
)
def test_an_archive_of_files_is_refused_with_the_command_that_unpacks_it(tmp_path: Path, make, said: str) -> None:  # type: ignore[no-untyped-def]
    """An archive is not a log: read as one, its headers were glued to its files' first lines (rejected,
    with the requests they held) and its files made one upload. Each file of it is an upload of its own."""
    path = tmp_path / "logs"
    path.write_bytes(make(TEXT))
    with pytest.raises(InputError, match=re.escape(f"{path}: " + said.format(path=path))):
        read_all(path)


def test_a_log_whose_first_line_has_a_tar_magic_where_a_header_has_it_is_a_log(tmp_path: Path) -> None:
    """A tar header is told by its checksum too, not by its magic alone (here an octal number where a header
    has its checksum, but not the sum of the bytes)."""
    line = b"x" * 148 + b"01234567" + b"x" * (257 - 156) + b"ustar" + b"y" * 300
    path = tmp_path / "odd.log"
    path.write_bytes(line + b"\n" + TEXT)
    _, lines, _ = read_all(path)
    assert lines == [line.decode(), *LINES]


def test_an_archive_on_stdin_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeStdin:
        buffer = io.BufferedReader(io.BytesIO(_tar(gzip.compress)(TEXT)))  # type: ignore[arg-type]

    monkeypatch.setattr(sys, "stdin", FakeStdin)
    said = "<stdin>: a tar archive, gzip-compressed, not a log: unpack it (saved as FILE: tar -xf FILE -C DIR)"
    with pytest.raises(InputError, match=re.escape(said)):
        for _ in Source.open("-").batches():
            pass


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("codec", ["none", "gzip"])
@pytest.mark.parametrize("marked", [True, False], ids=["byte-order mark", "no mark"])
def test_utf16_text_is_read_as_utf8(tmp_path: Path, encoding: str, codec: str, marked: bool) -> None:
    """Windows PowerShell writes files as UTF-16 with a byte-order mark: such a log was refused ("no known
    log format matches line 1 ('\\xff\\xfe9\\x002...')"). It is read as the same text in UTF-8, whose
    digest is the content's: the same log in UTF-8 is the same content. Without the mark (rare), the order
    is told by which of each two bytes is null in the text's first 4 KB (a log's text is mostly ASCII);
    read as bytes, each of its null bytes would be a hole (``Holes``), and each line one character."""
    text = ("\n".join(f"line {k} ü ✓ " + "x" * (k % 97) for k in range(20_000)) + "\n").encode()
    mark = b"\xff\xfe" if encoding.endswith("le") else b"\xfe\xff"
    data = (mark if marked else b"") + text.decode().encode(encoding)
    path = tmp_path / "windows.log"
    path.write_bytes(gzip.compress(data) if codec == "gzip" else data)
    source, lines, _ = read_all(path, block_size=50_000)  # the first block and the others
    assert lines == text.decode().splitlines()
    assert source.compression == ("utf-16" if codec == "none" else "gzip+utf-16")
    assert source.content_sha256 == hashlib.sha256(text).hexdigest()
    assert source.raw_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert source.content_bytes == len(text)
    assert source.holes.runs == 0


def docker_record(line: str, stream: str = "stdout") -> str:
    """A line as Docker's json-file driver writes it (Go's JSON: <, > and & escaped as \\u003c ...)."""
    text = json.dumps(line + "\n", ensure_ascii=False)
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(char, escape)
    return f'{{"log":{text},"stream":"{stream}","time":"2026-10-01T10:00:00.123456789Z"}}'


@pytest.mark.parametrize("codec", ["none", "gzip"])
def test_docker_json_file_records_are_read_as_the_lines_they_hold(tmp_path: Path, codec: str) -> None:
    """/var/lib/docker/containers/*/*-json.log: each line a JSON record whose "log" is the container's line.
    The lines are read out of them (escapes read, the newline that ends each taken off); a line that is no
    record stays as it is, for the format to reject with its text; the digest is the file's own."""
    line = '203.0.113.{} - - [01/Oct/2026:10:00:00 +0000] "GET /a?b=1&c=<{}> HTTP/1.1" 200 5 "-" "Қ \\x16"'
    lines = [line.format(k % 250, k) for k in range(3000)]
    records = [docker_record(line, "stdout" if k % 7 else "stderr") for k, line in enumerate(lines)]
    records[5] = "a line no record"
    records[6] = '{"stream":"stdout"}'  # a record without its line
    text = ("\n".join(records) + "\n").encode()
    path = tmp_path / "0123abcd-json.log"
    path.write_bytes(gzip.compress(text) if codec == "gzip" else text)
    source, read, firsts = read_all(path, block_size=50_000)
    assert len(firsts) > 3  # in several blocks, each read out
    assert read == [*lines[:5], "a line no record", '{"stream":"stdout"}', *lines[7:]]
    assert source.compression == ("docker-json" if codec == "none" else "gzip+docker-json")
    assert source.content_sha256 == hashlib.sha256(text).hexdigest()
    assert source.lines == 3000


def test_docker_records_after_blank_lines_are_still_told(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    path.write_text("\n" * 40 + "".join(docker_record(f"line {k}") + "\n" for k in range(20)))
    source, read, _ = read_all(path)
    assert read == [""] * 40 + [f"line {k}" for k in range(20)] and source.compression == "docker-json"


@pytest.mark.parametrize(
    "first",
    [
        '{"level":"info","ts":1759312800.5,"logger":"http.log.access","msg":"handled request"}',  # Caddy
        '{"remote_addr":"203.0.113.9","log":"x"}',  # nginx JSON with a "log" key that is not first
        '203.0.113.9 - - [01/Oct/2026:10:00:00 +0000] "GET /{\\"log\\":\\"a\\"} HTTP/1.1" 200 5',
    ],
)
def test_lines_that_are_not_docker_records_are_read_as_they_are(tmp_path: Path, first: str) -> None:
    path = tmp_path / "app.log"
    path.write_text((first + "\n") * 10 + docker_record("one record among others") + "\n")
    source, read, _ = read_all(path)
    assert read == [first] * 10 + [docker_record("one record among others")]
    assert source.compression == "none"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\0" * 5000,  # a copytruncate's hole
        b"\0" * 3000 + b"1.2.3.4 - - x\n" * 100,
        '1.2.3.4 - - [01/Oct/2026] "GET / HTTP/1.1" 200 5 "Қазақ"\n'.encode() * 50,
        bytes(range(256)) * 20,  # binary: a null in 256 bytes
        "a\n".encode("utf-16-le")[:2],  # too short to tell
    ],
)
def test_utf16_without_a_mark_is_told_only_from_text_that_is_it(head: bytes) -> None:
    assert ledger.blocks.utf16_codec(head) is None
    text = '1.2.3.4 - - [01/Oct/2026] "GET /қала HTTP/1.1" 200 5\n' * 100
    assert ledger.blocks.utf16_codec(text.encode("utf-16-le")) == "utf-16-le"
    assert ledger.blocks.utf16_codec(text.encode("utf-16-be")) == "utf-16-be"


def test_utf16_bytes_that_are_no_character_are_escaped(tmp_path: Path) -> None:
    """A lone surrogate and an odd last byte become escapes of their bytes, as bytes that are not UTF-8 do."""
    path = tmp_path / "odd.log"
    path.write_bytes(b"\xff\xfe" + "a b\n".encode("utf-16-le") + b"\x00\xd8" + "c\n".encode("utf-16-le") + b"d")
    _, lines, _ = read_all(path)
    assert lines == ["a b", "\\x00\\xd8c", "\\x64"]


def test_missing_file_and_directory_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file; check the path"):
        Source.open(str(tmp_path / "nope.log"))
    with pytest.raises(InputError, match="is a directory; pass the log files inside it"):
        Source.open(str(tmp_path))


def test_stdin_is_read_as_a_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeStdin:
        buffer = io.BufferedReader(io.BytesIO(gzip.compress(TEXT)))  # type: ignore[arg-type]

    monkeypatch.setattr(sys, "stdin", FakeStdin)
    source = Source.open("-")
    lines = [line for batch in source.batches() for line in batch.lines.to_list()]
    assert source.name == "<stdin>" and source.compression == "gzip" and lines == LINES


class _Trickle(io.RawIOBase):
    """A pipe that hands out at most ``step`` bytes per read, as pipes and some codecs do."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.at, self.step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        chunk = self.data[self.at : self.at + min(self.step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self.at += len(chunk)
        return len(chunk)


@pytest.mark.parametrize("codec", ["none", "gzip", "zstd"])
def test_short_reads_fill_whole_blocks(monkeypatch: pytest.MonkeyPatch, codec: str) -> None:
    """A stream that returns a few bytes per read still gives whole blocks (not one batch per read),
    the same lines, and the digests of all of it."""
    expected = [f"line {i} " + "x" * (i % 23) for i in range(1, 3001)]
    text = ("\n".join(expected) + "\n").encode()
    if codec == "none":  # the raw pipe itself: nothing between it and the reader
        stream: io.RawIOBase | io.BufferedReader = _Trickle(text, 7)
        data = text
    else:  # a compressed pipe: what the codec reads is buffered, what it gives may be short
        data = gzip.compress(text) if codec == "gzip" else zstd.compress(text)
        stream = io.BufferedReader(_Trickle(data, 7), buffer_size=16)

    class FakeStdin:
        buffer = stream

    monkeypatch.setattr(sys, "stdin", FakeStdin)
    source = Source.open("-")
    batches = list(source.batches(block_size=20_000))
    assert [line for batch in batches for line in batch.lines.to_list()] == expected
    assert len(batches) == -(-len(text) // 20_000)  # every block full but the last
    assert source.compression == codec
    assert source.raw_sha256 == hashlib.sha256(data).hexdigest() and source.raw_bytes == len(data)


def test_blocks_grow_to_the_block_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first blocks are small (work for both cores sooner), then BLOCK_SIZE each; a line longer than
    a block stays whole."""
    monkeypatch.setattr(ledger.blocks, "FIRST_BLOCK", 1_000)
    monkeypatch.setattr(ledger.blocks, "BLOCK_SIZE", 8_000)
    expected = [f"{i:05d} " + "y" * 93 for i in range(600)]
    expected[300] = "z" * 20_000  # across several blocks
    path = tmp_path / "grow.log"
    path.write_text("\n".join(expected) + "\n")
    source = Source.open(str(path))
    batches = list(source.batches())
    assert [line for batch in batches for line in batch.lines.to_list()] == expected
    sizes = [batch.lines.len() for batch in batches]
    assert sizes[:5] == [10, 20, 40, 80, 80]  # 1,000, 2,000, 4,000, 8,000 bytes of 100-byte lines
    assert source.lines == 600


def test_a_block_is_cut_at_its_last_newline_however_far_back(tmp_path: Path) -> None:
    """The last newline is searched backwards a window at a time: one far from the block's end is found,
    so the lines before a very long one come in the first batch."""
    expected = ["short"] * 10 + ["z" * 400_000, "after"]
    path = tmp_path / "far.log"
    path.write_text("\n".join(expected) + "\n")
    batches = list(Source.open(str(path)).batches(block_size=300_000))
    assert batches[0].lines.to_list() == ["short"] * 10
    assert [line for batch in batches for line in batch.lines.to_list()] == expected


@pytest.mark.parametrize("compress", [False, True])
def test_a_last_line_without_its_newline_comes_in_the_same_batch_as_the_lines_before_it(
    tmp_path: Path, compress: bool
) -> None:
    """A small file's format is told from its first batch: a W3C header and one request whose newline
    is missing made a batch of the header alone (no request in it: "no known log format matches")."""
    text = b"#Fields: c-ip date cs-uri-stem sc-status time\n1.2.3.4 2015-12-07 /a 200 10:37:05"
    path = tmp_path / ("last.log.gz" if compress else "last.log")
    path.write_bytes(gzip.compress(text) if compress else text)
    batches = list(Source.open(str(path)).batches())
    assert [batch.lines.to_list() for batch in batches] == [text.decode().split("\n")]
    # a bigger file ends its last block with that line too, after the lines of its earlier blocks
    lines = [f"line {k:04d}" for k in range(400)]
    path.write_bytes(b"\n".join(line.encode() for line in lines))  # no newline after the last one
    batches = list(Source.open(str(path)).batches(block_size=1000))
    assert [line for batch in batches for line in batch.lines.to_list()] == lines
    assert batches[-1].lines.to_list()[-1] == "line 0399" and batches[-1].lines.len() > 1


# Sequences at the edges of well-formed UTF-8: overlong forms, surrogates, the last code point and past
# it, truncated and stray continuation bytes.
EDGES = [
    b"\xc0\x80",
    b"\xc1\xbf",
    b"\xc2\x80",
    b"\xe0\x9f\xbf",
    b"\xe0\xa0\x80",
    b"\xed\x9f\xbf",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
]
EDGES += [b"\xee\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80"]
EDGES += [b"\xf5\x80\x80\x80", b"\xe2\x82", b"\x80", b"\xff", "é€😀".encode(), b"plain ascii text"]


def is_utf8(text: bytes) -> bool:
    """What Python's strict decoder says, which the native checks follow."""
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.one_of(st.sampled_from(EDGES), st.binary(max_size=12)), max_size=6), max_size=12))
def test_the_native_utf8_check_agrees_with_python(lines: list[list[bytes]]) -> None:
    from ledger import _native  # type: ignore[attr-defined]

    texts = [b"".join(parts).replace(b"\n", b"").replace(b"\r", b"") for parts in lines]
    data = b"".join(text + (b"\r\n" if n % 2 else b"\n") for n, text in enumerate(texts))
    spans = np.frombuffer(_native.invalid_utf8(data, len(data)), dtype=np.int64).reshape(-1, 2).tolist()
    found = [data[start : start + length] for start, length in spans]
    assert found == [text for text in texts if not is_utf8(text)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 70),  # ASCII first: a byte that is not ASCII falls anywhere in a 64-byte piece
            st.lists(st.one_of(st.sampled_from(EDGES), st.binary(max_size=12)), max_size=4),
            st.integers(0, 70),
        ),
        max_size=12,
    )
)
def test_the_lines_are_taken_as_text_only_when_every_one_is_utf8(lines: list[tuple[int, list[bytes], int]]) -> None:
    from ledger import _native  # type: ignore[attr-defined]

    middles = [b"".join(parts).replace(b"\n", b"").replace(b"\r", b"") for _, parts, _ in lines]
    texts = [b"a" * before + middle + b"z" * after for (before, _, after), middle in zip(lines, middles, strict=True)]
    data = b"".join(text + (b"\r\n" if n % 2 else b"\n") for n, text in enumerate(texts)) + b"tail \xff"
    count, _, utf8 = _native.lines(data, len(data) - 6)  # the tail after the last newline is not a line
    assert count == len(texts)
    assert utf8 == all(is_utf8(text) for text in texts)
    assert split_lines(data, len(data) - 6).to_list() == [
        text.decode("utf-8", errors="backslashreplace") for text in texts
    ]


def test_a_block_is_used_again_only_when_nothing_refers_to_it() -> None:
    """The reader's blocks are recycled (fresh memory costs page faults), but never while a batch's
    lines, a column cut from them or a buffer view still read it; free blocks too small are let go."""
    blocks = ledger.blocks.Blocks()
    first = blocks.take(1_000)
    first[:6] = b"a\nbb\nc"
    lines = split_lines(first, 5)
    user = lines.str.slice(0, 2)  # derived columns keep the block too
    view = memoryview(first)
    del first
    held = [blocks.take(1_000)]
    assert lines.to_list() == ["a", "bb"]
    del lines
    held.append(blocks.take(1_000))
    del user
    held.append(blocks.take(1_000))
    view.release()
    again = blocks.take(1_000)
    assert again is blocks._kept[0]  # the first block, now free
    assert len({id(block) for block in [*held, again]}) == 4
    del again, held
    bigger = blocks.take(5_000_000)  # the free small ones are dropped, not kept beside it
    assert [len(block) for block in blocks._kept] == [len(bigger)] and len(bigger) >= 5_000_000


@pytest.mark.parametrize("stop", ["early", "at the end", "on corrupt data"])
def test_the_gzip_readers_thread_stops_with_the_source(tmp_path: Path, stop: str) -> None:
    """gzip is decompressed in a thread of its own: it ends when the source is read, abandoned (an error
    or Ctrl-C elsewhere) or fails, and leaves no thread behind."""
    import threading

    path = tmp_path / "big.log.gz"
    data = gzip.compress((TEXT + b"\n") * 200_000)
    path.write_bytes(data if stop != "on corrupt data" else data[: len(data) // 2] + b"\x00" * 64)
    before = set(threading.enumerate())
    batches = Source.open(str(path)).batches(block_size=64 * 1024)
    if stop == "early":
        next(batches)
        assert set(threading.enumerate()) - before  # the decompressing thread runs
        batches.close()
    elif stop == "at the end":
        assert sum(batch.lines.len() for batch in batches) == 800_000
    else:
        with pytest.raises(InputError, match=r"corrupt gzip data: the member that starts at byte 0 fails .* at byte"):
            for _ in batches:
                pass
    assert not set(threading.enumerate()) - before  # stopped and joined by the source, not left to end


@pytest.mark.parametrize(
    "array",
    [
        pa.array(["a short one", None, "a value longer than twelve bytes", ""], type=pa.string_view()),
        pa.array(["x" * 40, None, "y"], type=pa.large_string()),
        pa.array([b"GET / HTTP/1.1", None, b""], type=pa.binary_view()),
        pa.array([3, None, -1], type=pa.int64()),
    ],
)
def test_arrow_series_reads_what_polars_own_conversion_reads(array: pa.Array) -> None:
    made = arrow_series("field", array)
    expected = pl.Series("field", array)
    assert made.name == "field"
    assert made.dtype == expected.dtype
    assert made.to_list() == expected.to_list()


def test_reading_lines_and_known_agents_does_not_import_pyarrow_compute() -> None:
    """Polars' own conversion of a pyarrow array, or a pyarrow cast, imports pyarrow.compute: 23 ms on the
    way to an ingest's first batch."""
    code = (
        "import sys, polars as pl\n"
        "from ledger.sources import split_lines\n"
        "from ledger.parse.native import KnownAgents\n"
        'lines = split_lines(b\'1.2.3.4 - - [x] "GET / HTTP/1.1" 200 5 "-" "curl/8"\\n\')\n'
        "KnownAgents.of(pl.Series(['Mozilla/5.0', None]))\n"
        "assert 'pyarrow.compute' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
