"""Rotated and re-exported logs: overlapping uploads are refused, kept or trimmed, as the user chooses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import ingest as ingest_module
from ledger.errors import ConfigError
from ledger.ingest import ingest_paths
from ledger.overlap import OverlapError, StoredWindows, find_overlap
from ledger.store.db import Ledger
from tests.conftest import add_outlet

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.1; +https://openai.com/gptbot"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def lines(
    hours: range, agent: str = GPTBOT, ip: str = "198.51.100.7", day: str = "01/Oct/2026", size: str = "100"
) -> list[str]:
    return [
        f'{ip} - - [{day}:{h:02d}:{m:02d}:00 +0000] "GET /news/{h}-{m} HTTP/1.1" 200 {size} "-" "{agent}"'
        for h in hours
        for m in (0, 30)
    ]


def write(path: Path, rows: list[str]) -> str:
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.fixture
def first(ledger: Ledger, tmp_path: Path) -> Ledger:
    add_outlet(ledger, "dala", "dala.kz")
    ingest_paths(
        ledger,
        [write(tmp_path / "access.log.1", lines(range(0, 12)) + lines(range(0, 12), CHROME, "203.0.113.1"))],
        outlet="dala",
    )
    return ledger


def counts(ledger: Ledger) -> tuple[int, int, int]:
    row = ledger.rows(
        "SELECT (SELECT count(*) FROM uploads) u, (SELECT count(*) FROM fetches) f,"
        " (SELECT sum(requests) FROM traffic_daily) t"
    )[0]
    return row["u"], row["f"], row["t"]


def test_a_rotated_log_repeating_lines_is_refused_by_default(first: Ledger, tmp_path: Path) -> None:
    before = counts(first)
    rotated = write(tmp_path / "access.log", lines(range(10, 16)))  # 10:00-11:30 were in the first file
    with pytest.raises(OverlapError, match=r"overlaps upload \S+ for outlet 'dala' .* 4 of its 4 AI fetches there"):
        ingest_paths(first, [rotated], outlet="dala")
    assert counts(first) == before


def test_drop_rejects_the_lines_inside_covered_windows_and_keeps_the_rest(first: Ledger, tmp_path: Path) -> None:
    rotated = write(tmp_path / "access.log", lines(range(10, 16)))
    [result] = ingest_paths(first, [rotated], outlet="dala", overlap="drop")
    assert (result.lines, result.parsed, result.rejected, result.overlap) == (12, 8, 4, "drop")
    reasons = first.rows("SELECT DISTINCT reason FROM rejects WHERE upload_id = ?", [result.upload_id])
    assert len(reasons) == 1 and reasons[0]["reason"].startswith("inside a window already covered by upload ")
    assert first.rows("SELECT count(*) AS n FROM fetches")[0]["n"] == 24 + 8


def test_keep_ingests_everything_and_records_it(first: Ledger, tmp_path: Path) -> None:
    rotated = write(tmp_path / "access.log", lines(range(10, 16)))
    [result] = ingest_paths(first, [rotated], outlet="dala", overlap="keep")
    assert (result.parsed, result.overlap) == (12, "keep")
    assert first.rows("SELECT overlap FROM uploads WHERE upload_id = ?", [result.upload_id]) == [{"overlap": "keep"}]


def test_another_server_with_the_same_window_is_not_an_overlap(first: Ledger, tmp_path: Path) -> None:
    other = write(tmp_path / "web2.log", lines(range(0, 12), ip="198.51.100.99"))  # same times, other requests
    [result] = ingest_paths(first, [other], outlet="dala")
    assert result.parsed == 24 and result.overlap is None


def test_unknown_overlap_treatment_is_a_config_error(first: Ledger, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"--overlap: unknown overlap treatment 'skip'.*\(allowed: fail, keep, drop\)"
    ):
        ingest_paths(first, [write(tmp_path / "x.log", lines(range(1)))], outlet="dala", overlap="skip")


def test_requests_without_an_address_are_compared_as_logged(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "dala", "dala.kz")
    ingest_paths(ledger, [write(tmp_path / "access.log.1", lines(range(0, 12), ip="-", size="-"))], outlet="dala")
    rotated = write(tmp_path / "access.log", lines(range(10, 16), ip="-", size="-"))  # no address: null both sides
    with pytest.raises(OverlapError, match=r"4 of its 4 AI fetches there"):
        ingest_paths(ledger, [rotated], outlet="dala")


def test_a_request_logged_twice_before_is_found_again_once(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "dala", "dala.kz")
    twice = lines(range(10, 11))[:1] * 2  # 10:00, logged twice (two real requests)
    later = lines(range(11, 12))[:1]  # 11:00: the earlier file's window covers 10:30 too
    ingest_paths(ledger, [write(tmp_path / "access.log.1", twice + later)], outlet="dala")
    rotated = write(tmp_path / "access.log", lines(range(10, 11)))  # 10:00 again, and 10:30
    with pytest.raises(OverlapError, match=r"1 of its 2 AI fetches there"):
        ingest_paths(ledger, [rotated], outlet="dala")


def test_the_check_reads_the_fetches_of_the_shared_windows_not_the_whole_ledger(first: Ledger, tmp_path: Path) -> None:
    """A ledger grows to millions of fetches: checking an upload must not read (and hash) all of them."""
    september = [line for day in range(1, 11) for line in lines(range(0, 24), day=f"{day:02d}/Sep/2026")]
    ingest_paths(first, [write(tmp_path / "september.log", september)], outlet="dala")  # 480 AI fetches
    rotated = write(tmp_path / "access.log", lines(range(10, 16)))
    [result] = ingest_paths(first, [rotated], outlet="dala", overlap="keep")
    profile = tmp_path / "profile.json"
    first.execute("PRAGMA enable_profiling = 'json'")
    first.execute(f"PRAGMA profiling_output = '{profile}'")
    try:
        found = find_overlap(first, result.upload_id)  # its last query, overlap_check, is profiled
    finally:
        first.execute("PRAGMA disable_profiling")
    assert found is not None and (found.repeated, found.compared) == (4, 4)
    read = rows_read(json.loads(profile.read_text()), "fetch_rows")  # the table behind the fetches view
    assert read, "no scan of fetch_rows in the profile: DuckDB's profile format changed; update rows_read"
    assert sum(read) <= 12 + 4  # the new upload's 12 AI fetches, and the earlier ones in the shared window


def rows_read(node: Any, table: str) -> list[int]:
    """The rows each scan of ``table`` gave out, in a DuckDB JSON profile (after its filters)."""
    found = []
    if isinstance(node, dict):
        info = node.get("extra_info") or {}
        if "TABLE_SCAN" in (node.get("type"), node.get("operator_type")) and str(info.get("Table", "")).endswith(
            f".{table}"
        ):
            found.append(int(node.get("operator_cardinality", node.get("intermediate_rows", 0))))
        for value in node.values():
            found += rows_read(value, table)
    elif isinstance(node, list):
        for value in node:
            found += rows_read(value, table)
    return found


def test_a_rotated_log_later_in_the_same_run_is_refused_too(ledger: Ledger, tmp_path: Path) -> None:
    """The windows of the uploads written earlier in a run count as much as those in the ledger before it."""
    add_outlet(ledger, "dala", "dala.kz")
    older = write(tmp_path / "access.log.1", lines(range(0, 12)))
    rotated = write(tmp_path / "access.log", lines(range(10, 16)))  # 10:00-11:30 again
    with pytest.raises(OverlapError, match=r"4 of its 4 AI fetches there"):
        ingest_paths(ledger, [older, rotated], outlet="dala")
    assert counts(ledger)[0] == 1  # the first file stays ingested


def test_a_rotated_log_of_several_outlets_is_refused_for_the_one_it_repeats(ledger: Ledger, tmp_path: Path) -> None:
    """Each line's outlet from its host, the small files read together: the second file repeats the first
    one's lines of its second outlet only (kursiv), and its other outlet's window is new."""
    add_outlet(ledger, "dala", "dala.kz")
    add_outlet(ledger, "kursiv", "kursiv.kz")

    def hosted(host: str, rows: list[str]) -> list[str]:
        return [f"{host} {row}" for row in rows]

    older = hosted("dala.kz", lines(range(0, 12))) + hosted("kursiv.kz", lines(range(0, 12), day="05/Oct/2026"))
    rotated = hosted("dala.kz", lines(range(0, 6), day="10/Oct/2026")) + hosted(
        "kursiv.kz", lines(range(10, 16), day="05/Oct/2026")
    )
    names = [write(tmp_path / "access.log.1", older), write(tmp_path / "access.log", rotated)]
    with pytest.raises(OverlapError, match=r"for outlet 'kursiv' .* 4 of its 4 AI fetches there"):
        ingest_paths(ledger, names)
    assert counts(ledger)[0] == 1  # the first file stays ingested


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The overlap checks an ingest runs the queries of (``windows_meet`` of each)."""
    calls: list[bool] = []
    real = ingest_module.find_overlap

    def spy(store: Ledger, upload_id: str, *, windows_meet: bool = False) -> Any:
        calls.append(windows_meet)
        return real(store, upload_id, windows_meet=windows_meet)

    monkeypatch.setattr(ingest_module, "find_overlap", spy)
    return calls


def test_uploads_whose_windows_meet_no_earlier_one_skip_the_overlap_queries(
    first: Ledger, tmp_path: Path, checked: list[bool]
) -> None:
    """The first file covers 1 October 00:00-11:30; the check's queries run only for the files whose
    windows meet a stored one (the ledger's, or those written earlier in the same run)."""
    later = write(tmp_path / "afternoon.log", lines(range(12, 18)))  # 12:00-17:30: after the first file
    evening = write(tmp_path / "evening.log", lines(range(17, 24), ip="198.51.100.99"))  # meets the afternoon
    other_day = write(tmp_path / "next.log", lines(range(0, 6), day="02/Oct/2026"))
    results = ingest_paths(first, [later, evening, other_day], outlet="dala")
    assert [r.overlap for r in results] == [None, None, None]
    assert checked == [True]  # the evening's, with its window test already done


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 60), st.integers(0, 8))),
    st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 70), st.integers(0, 8)), min_size=1),
)
def test_stored_windows_meet_a_window_or_hold_an_instant_exactly_when_one_of_them_does(
    stored: list[tuple[str, int, int]], probes: list[tuple[str, int, int]]
) -> None:
    windows = StoredWindows()
    spans = [(outlet, first, first + length) for outlet, first, length in stored]
    for span in spans:
        windows.add([span])
    for outlet, first, length in probes:
        last = first + length
        expected = any(o == outlet and start <= last and first <= end for o, start, end in spans)
        assert windows.meets([(outlet, first, last)], "new") == expected
    for outlet, first, length in probes:  # the same windows' hold of single instants
        moments = np.array(sorted({first, first + length}), dtype=np.int64)
        expected = any(o == outlet and start <= t <= end for o, start, end in spans for t in moments)
        assert windows.hold_any({outlet: moments}, "new") == expected
    for outlet in windows.starts:  # sorted, disjoint spans
        starts, ends = windows.starts[outlet], windows.ends[outlet]
        assert all(s <= e for s, e in zip(starts, ends, strict=True))
        assert all(e < s for e, s in zip(ends, starts[1:], strict=False))


def test_windows_meeting_where_the_new_upload_has_no_ai_fetch_skip_the_overlap_queries(
    ledger: Ledger, tmp_path: Path, checked: list[bool]
) -> None:
    """Rotated files often share a second: the check compares the new upload's AI fetches inside the
    shared window, so when it has none there, its queries are skipped; with one there, they run."""
    add_outlet(ledger, "dala", "dala.kz")
    person = lines(range(18, 19), CHROME, "203.0.113.1")[:1]  # a person's request at 18:00
    earlier = write(tmp_path / "access.log.2", lines(range(12, 18)) + person)  # 12:00-18:00
    ingest_paths(ledger, [earlier], outlet="dala")
    later = write(tmp_path / "access.log.1", person + lines(range(18, 20))[1:])  # 18:00, AI from 18:30
    [result] = ingest_paths(ledger, [later], outlet="dala")
    assert checked == [] and result.overlap is None
    bot_too = write(tmp_path / "access.log", lines(range(19, 20), ip="198.51.100.99")[1:] + lines(range(20, 21)))
    ingest_paths(ledger, [bot_too], outlet="dala")  # 19:30, an AI fetch in the window of the one before
    assert checked == [True]
    assert ledger.rows("SELECT count(*) AS n FROM uploads")[0]["n"] == 3


def test_stored_windows_leave_out_the_upload_being_checked_whichever_outlet_is_read_first(ledger: Ledger) -> None:
    """An outlet's windows are read when it first comes up, by ``meets`` or by ``hold_any``: either way
    without the windows of the upload being checked (written, not committed), or they would hold its own
    AI fetches."""
    ledger.execute(
        "INSERT INTO upload_windows VALUES ('u1', 'a', make_timestamptz(0), make_timestamptz(100), 1),"
        " ('u2', 'a', make_timestamptz(100), make_timestamptz(200), 1),"
        " ('u2', 'b', make_timestamptz(500), make_timestamptz(600), 1)"
    )
    stored = StoredWindows(ledger)
    assert stored.meets([("a", 100, 200)], "u2")  # at 100 only: u1's last instant
    assert not stored.hold_any({"a": np.array([150, 200]), "b": np.array([500, 550])}, "u2")
    assert stored.hold_any({"a": np.array([100])}, "u2")
    assert not StoredWindows(ledger).hold_any({"b": np.array([550])}, "u2")  # b read here first
    assert StoredWindows(ledger).hold_any({"b": np.array([550])}, "u1")  # u2's window, for another upload
