"""A file read early (``ledger.blocks.start_early``, started by the console script while it imports the
rest) and taken over by the ingest reads exactly what a fresh read does, or is dropped."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ledger.blocks
from ledger.blocks import start_early
from ledger.errors import InputError
from ledger.sources import Source

# about 11 MB: more than ISA-L holds decompressed ahead of its reader (three 1 MiB blocks)
LINES = [f"{i:06d} GET /news/{i % 977} " + "x" * (i % 53) for i in range(240_000)]
TEXT = ("\n".join(LINES) + "\n").encode()


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(ledger.blocks, "FIRST_BLOCK", 20_000)
    monkeypatch.setattr(ledger.blocks, "BLOCK_SIZE", 640_000)
    yield
    early, ledger.blocks._early = ledger.blocks._early, None
    if early is not None:
        early.close()


def read(path: Path) -> tuple[Source, list[str], list[int]]:
    source = Source.open(str(path))
    lines: list[str] = []
    firsts: list[int] = []
    for batch in source.batches():
        firsts.append(batch.first_line)
        lines.extend(batch.lines.to_list())
    return source, lines, firsts


def wait_until_read_ahead(limit: int) -> ledger.blocks.EarlyRead:
    early = ledger.blocks._early
    assert early is not None
    deadline = time.monotonic() + 30
    while early._bytes < limit and early._thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.005)
    return early


def others(before: set[threading.Thread]) -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread not in before and thread.is_alive()}


@pytest.mark.parametrize("codec", ["none", "gzip"])
@pytest.mark.parametrize("limit", [100_000, 10 << 20], ids=["taken over on the way", "read whole early"])
def test_blocks_read_early_and_taken_over_read_what_a_fresh_read_does(tmp_path: Path, codec: str, limit: int) -> None:
    """Taken over on the way, the rest of a gzip file is read by the thread that takes it over, after the
    early thread has ended: ISA-L's thread must not end with it (its stream would end there, as if at
    the end of the file)."""
    path = tmp_path / "access.log"
    path.write_bytes(gzip.compress(TEXT) if codec == "gzip" else TEXT)
    fresh, expected, firsts = read(path)
    before = set(threading.enumerate())
    start_early(str(path), limit=limit)
    early = wait_until_read_ahead(limit)
    assert early._queued  # blocks were read before the ingest asked for them
    source, lines, taken_firsts = read(path)
    assert ledger.blocks._early is None  # taken over
    assert lines == expected == LINES and taken_firsts == firsts
    assert (source.lines, source.compression) == (fresh.lines, codec)
    assert (source.raw_sha256, source.content_sha256) == (fresh.raw_sha256, fresh.content_sha256)
    assert source.content_sha256 == hashlib.sha256(TEXT).hexdigest()
    assert (source.raw_bytes, source.content_bytes) == (path.stat().st_size, len(TEXT))
    assert not others(before)  # the early thread and ISA-L's are gone


def test_a_file_changed_since_its_early_reading_is_read_afresh(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_bytes(TEXT)
    start_early(str(path), limit=100_000)
    wait_until_read_ahead(100_000)
    with path.open("ab") as handle:
        handle.write(b"one more line\n")
    _, lines, _ = read(path)
    assert lines == [*LINES, "one more line"]


def test_the_early_reading_of_another_file_is_dropped(tmp_path: Path) -> None:
    first, second = tmp_path / "first.log", tmp_path / "second.log.gz"
    first.write_bytes(TEXT)
    second.write_bytes(gzip.compress(b"a\nb\n"))
    before = set(threading.enumerate())
    start_early(str(first), limit=100_000)
    wait_until_read_ahead(100_000)
    _, lines, _ = read(second)
    assert lines == ["a", "b"] and ledger.blocks._early is None
    assert not others(before)
    _, lines, _ = read(first)  # read afresh
    assert lines == LINES


def test_corrupt_data_read_early_fails_in_its_turn_as_it_would_have(tmp_path: Path) -> None:
    path = tmp_path / "broken.log.gz"
    data = gzip.compress(TEXT)
    path.write_bytes(data[: len(data) // 2] + b"\x00" * 64)
    with pytest.raises(InputError) as fresh:
        read(path)
    before = set(threading.enumerate())
    start_early(str(path), limit=10 << 20)
    wait_until_read_ahead(10 << 20)
    source = Source.open(str(path))
    seen = []
    with pytest.raises(InputError) as early:
        for batch in source.batches():
            seen.extend(batch.lines.to_list())
    assert str(early.value) == str(fresh.value) and "corrupt" in str(early.value)
    assert seen and seen == LINES[: len(seen)]  # the lines before the damage came first
    assert not others(before)


def test_a_file_with_the_bytes_of_an_earlier_upload_stops_its_early_reading(tmp_path: Path) -> None:
    path = tmp_path / "access.log.gz"
    path.write_bytes(gzip.compress(TEXT))
    before = set(threading.enumerate())
    start_early(str(path), limit=100_000)
    wait_until_read_ahead(100_000)
    Source.open(str(path)).skip()
    assert ledger.blocks._early is None and not others(before)


def test_only_regular_files_are_read_early(tmp_path: Path) -> None:
    start_early(str(tmp_path))  # a directory
    start_early(str(tmp_path / "missing.log"))
    assert ledger.blocks._early is None


@pytest.mark.parametrize("archive", ["zip", "tar.gz"])
def test_an_archive_read_early_fails_in_its_turn_as_it_would_have(tmp_path: Path, archive: str) -> None:
    """The console script reads its file before the command line runs: an archive refused there (a zip,
    by its first bytes) is not read early, and one found in its first block (a tar) fails when the ingest
    takes it over; either way with the message a fresh read gives, not a traceback."""
    path = tmp_path / f"logs.{archive}"
    packed = io.BytesIO()
    if archive == "zip":
        with zipfile.ZipFile(packed, "w") as zipped:
            zipped.writestr("access.log", TEXT)
    else:
        with tarfile.open(fileobj=packed, mode="w:gz") as tar:
            member = tarfile.TarInfo("access.log")
            member.size = len(TEXT)
            tar.addfile(member, io.BytesIO(TEXT))
    path.write_bytes(packed.getvalue())
    with pytest.raises(InputError) as fresh:
        read(path)
    before = set(threading.enumerate())
    start_early(str(path), limit=100_000)
    if archive == "zip":
        assert ledger.blocks._early is None
    with pytest.raises(InputError) as early:
        read(path)
    assert str(early.value) == str(fresh.value) and f"a {archive.split('.')[0]} archive" in str(early.value)
    assert not others(before)


def mended(data: bytes) -> tuple[bytes, tuple[int, int, int]]:
    """What a log's text reads as, by the rule of ``Holes`` written line by line: a line is read from
    after its last run of null bytes that text follows; the text before such a run is cut off."""
    text, runs, cuts = [], 0, 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines):
        if number == len(lines) - 1 and not line.strip(b"\0"):
            runs += line != b""  # a run at the very end of the file: no line
            break
        pieces = re.split(b"\0+", line)
        runs += len(pieces) - 1
        kept = pieces[0]
        for piece in pieces[1:]:
            if piece.startswith(b"\r"):  # the hole ends the line (CRLF): what came before it stays
                kept += piece
            elif piece:
                cuts += kept != b""
                kept = piece
        text.append(kept + b"\n")
    return b"".join(text), (runs, data.count(0), cuts)


@pytest.fixture(params=["native", "python"])
def mend_in(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``Holes.mend`` natively (the extension's), and in Python (without the extension): the same text."""
    if request.param == "python":
        monkeypatch.setattr(ledger.blocks, "_native", None)
    else:
        assert ledger.blocks._native is not None, "ledger/_native.c is not built"
    return str(request.param)


def read_blocks(data: bytes, block_size: int | None) -> tuple[bytes, tuple[int, int, int]]:
    raw = io.BufferedReader(io.BytesIO(data))
    content = ledger.blocks.ContentBlocks("t", raw, close_raw=True, block_size=block_size)
    text = b"".join(bytes(memoryview(buffer)[:end]) for buffer, end in content)
    return text, (content.holes.runs, content.holes.bytes, content.holes.cuts)


@pytest.mark.parametrize(
    ("data", "text", "counts"),
    [
        (b"a\nb\n", b"a\nb\n", (0, 0, 0)),
        (b"\0" * 9000 + b"x\ny\n", b"x\ny\n", (1, 9000, 0)),  # copytruncate: the server wrote on at its offset
        (b"a\nhe" + b"\0" * 4096 + b"full\nz\n", b"a\nfull\nz\n", (1, 4096, 1)),  # a crash, then a restart
        (b"a\n" + b"\0" * 30 + b"\nb\n", b"a\n\nb\n", (1, 30, 0)),  # a line of nulls: an empty line
        (b"a\nhead" + b"\0" * 30 + b"\nb\n", b"a\nhead\nb\n", (1, 30, 0)),  # the hole ends the line
        (b"a\r\nhead" + b"\0" * 30 + b"\r\nb\r\n", b"a\r\nhead\r\nb\r\n", (1, 30, 0)),  # a CRLF line too
        (b"a\nhead" + b"\0" * 40, b"a\nhead\n", (1, 40, 0)),  # the hole ends the file
        (b"a\0\0b\0\0c\n", b"c\n", (2, 4, 2)),
        (b"\0" * 10, b"", (1, 10, 0)),
    ],
)
@pytest.mark.parametrize("block_size", [None, 1, 3, 7, 4096])
def test_runs_of_null_bytes_are_taken_out_and_lines_read_from_after_them(
    data: bytes, text: bytes, counts: tuple[int, int, int], block_size: int | None, mend_in: str
) -> None:
    assert read_blocks(data, block_size) == (text, counts)
    assert mended(data) == (text, counts)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r\n", b"\0", b"\0" * 5, b"\0" * 5000, b"xyz\n"]), max_size=30),
    st.sampled_from([None, 1, 2, 5, 64]),
)
def test_runs_of_null_bytes_read_the_same_whatever_the_blocks(parts: list[bytes], block_size: int | None) -> None:
    data = b"".join(parts)
    assert read_blocks(data, block_size) == mended(data)
    with pytest.MonkeyPatch.context() as patch:  # (hypothesis runs a function-scoped fixture only once)
        patch.setattr(ledger.blocks, "_native", None)
        assert read_blocks(data, block_size) == mended(data)


def test_a_binary_file_with_millions_of_short_runs_is_mended_at_once() -> None:
    """A shared library uploaded by mistake: millions of runs of a few null bytes among binary ones. Both
    ways mend it the same; natively it takes a tenth of a second (in Python, 8 s for 69 MB: the time the
    ingest took to find it was no log)."""
    pieces = [
        bytes([1 + k % 250]) * (1 + k % 7) + b"\0" * (1 + k % 5) + (b"\n" if k % 97 == 0 else b"")
        for k in range(300_000)
    ]
    data = b"".join(pieces)
    native, python = ledger.blocks.Holes(), ledger.blocks.Holes()
    native_buffer, python_buffer = bytearray(data), bytearray(data)
    native_end = native.mend(native_buffer, 0, len(data))
    python_end = python.mend_here(python_buffer, 0, len(data))
    assert native_buffer[:native_end] == python_buffer[:python_end]
    assert native == python and native.runs == 300_000 and native.cuts > 290_000


@pytest.mark.parametrize(("start", "filled"), [(-1, 4), (3, 2), (0, 9)])
def test_the_native_mend_refuses_bounds_outside_its_buffer(start: int, filled: int) -> None:
    assert ledger.blocks._native is not None
    with pytest.raises(ValueError, match="outside the buffer"):
        ledger.blocks._native.mend(bytearray(8), start, filled, False)


def test_a_hole_of_gigabytes_is_read_past_in_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mend_in: str
) -> None:
    """A copytruncate's hole is as large as the log was: taken out as it is read, it never makes a line
    in memory (a sparse file: no disk either)."""
    line = b'1.2.3.4 - - [01/Oct/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"'
    path = tmp_path / "access.log"
    with path.open("wb") as handle:
        handle.truncate(1 << 30)
        handle.seek(1 << 30)
        handle.write(line + b"\n")
    sizes: list[int] = []
    take = ledger.blocks.Blocks.take
    monkeypatch.setattr(ledger.blocks.Blocks, "take", lambda self, size: sizes.append(size) or take(self, size))
    source, lines, _ = read(path)
    assert lines == [line.decode()]
    assert (source.holes.runs, source.holes.bytes, source.holes.cuts) == (1, 1 << 30, 0)
    assert source.content_bytes == (1 << 30) + len(line) + 1
    assert len(sizes) > 1000 and max(sizes) <= ledger.blocks.BLOCK_SIZE  # read a block at a time, none larger
