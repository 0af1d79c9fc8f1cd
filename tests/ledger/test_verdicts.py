"""Verification verdicts and address attribution, natively (one lookup per row in the lists' segments) and
with polars (joins on the distinct addresses, as-of joins): both must give every row the same bot,
operator, purpose, verdict, list and attribution, whatever the lists, their overlaps and the addresses."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from unittest.mock import patch

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from ledger import _native
from ledger.detect import classify, iplists
from ledger.detect.classify import FETCH_COLUMNS, Detector
from ledger.detect.iplists import V4_MAPPED, IpLists, cover, cover_table, load_ip_lists, partitions
from ledger.detect.registry import load_registry
from ledger.ingest import ingest_paths
from ledger.outlets import save_outlets
from ledger.sample import generate
from ledger.store.db import Ledger

REGISTRY = load_registry()
LISTS = load_ip_lists()
# user agents of bots verified by address, of bots that are not, and no bot's: a generic client, a
# browser, none
BY_ADDRESS = [bot.examples[0] for bot in REGISTRY.fetchers if bot.examples and bot.verification == "ip"]
OTHERWISE = [bot.examples[0] for bot in REGISTRY.fetchers if bot.examples and bot.verification != "ip"]
NO_BOT = [
    "curl/8.5.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    None,
]
agents = st.one_of(st.sampled_from(BY_ADDRESS), st.sampled_from(OTHERWISE), st.sampled_from(NO_BOT))
PRIVATE = ["10.0.0.5", "127.0.0.1", "192.168.1.1", "::1", "fd00::7", "fe80::1"]
COLUMNS = (
    "line_no",
    "client_ip",
    "bot",
    "operator",
    "purpose",
    "ai",
    "verification",
    "ip_list",
    "attribution",
    "class",
)


def frame_of(rows: list[tuple[str | None, str | None, str | None]]) -> pl.DataFrame:
    n = len(rows)
    return pl.DataFrame(
        {
            "line_no": list(range(1, n + 1)),
            "ts": [None] * n,
            "outlet": ["bench"] * n,
            "host": ["bench.kz"] * n,
            "path": ["/news/1"] * n,
            "method": ["GET"] * n,
            "status": [200] * n,
            "bytes": [10] * n,
            "client_ip": [row[0] for row in rows],
            "forwarded_for": [row[1] for row in rows],
            "user_agent": [row[2] for row in rows],
            "referer": [None] * n,
            "content_type": [None] * n,
        },
        schema_overrides={
            "ts": pl.Datetime("us", "UTC"),
            "status": pl.Int16,
            "bytes": pl.Int64,
            **dict.fromkeys(("client_ip", "forwarded_for", "user_agent", "referer", "content_type"), pl.String),
        },
    )


def annotated_both_ways(detector: Detector, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    assert detector._verdicts is not None, "ledger/_native.c is not built"
    natively = detector.annotate(frame, {"bench": "bench.kz"}).select(COLUMNS)
    with patch.object(classify, "address_numbers", lambda addresses: None):
        by_polars = detector.annotate(frame, {"bench": "bench.kz"}).select(COLUMNS)
    return natively, by_polars


def text_of(number: int, spelling: int) -> str:
    """An address as logs write it: IPv4 for the mapped range, else IPv6 (compressed, exploded, or with
    the standard library's ::ffff: form that only the slow reading takes)."""
    if V4_MAPPED <= number <= V4_MAPPED + 0xFFFFFFFF:
        v4 = ipaddress.IPv4Address(number - V4_MAPPED)
        return (str(v4), f"::ffff:{v4}", f"[::ffff:{v4}]")[spelling % 3]
    v6 = ipaddress.IPv6Address(number)
    return (str(v6), v6.exploded, f"[{v6}]")[spelling % 3]


def near_edges(intervals: pl.DataFrame) -> st.SearchStrategy[int]:
    """Numbers at, just inside and just outside the intervals' ends."""
    edges = [
        max(0, min(edge + step, (1 << 128) - 1))
        for start, end in zip(intervals["start"].to_list(), intervals["end"].to_list(), strict=True)
        for edge in (start, end)
        for step in (-1, 0, 1)
    ]
    return st.sampled_from(edges)


def addresses(intervals: pl.DataFrame) -> st.SearchStrategy[str | None]:
    return st.one_of(
        st.tuples(near_edges(intervals), st.integers(0, 2)).map(lambda pair: text_of(*pair)),
        st.sampled_from(PRIVATE),
        st.ip_addresses().map(str),
        st.sampled_from(["-", "", "unknown", "1.2.3", "2001:db8::1%eth0", "١.٢.٣.٤"]),
        st.none(),
    )


def rows_over(intervals: pl.DataFrame) -> st.SearchStrategy[list[tuple[str | None, str | None, str | None]]]:
    address = addresses(intervals)
    chain = st.one_of(st.none(), st.lists(address.filter(bool), min_size=1, max_size=3).map(", ".join))
    return st.lists(st.tuples(address, chain, agents), min_size=1, max_size=40)


SHIPPED = Detector()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_over(LISTS.intervals))
def test_the_shipped_lists_give_the_same_verdicts_natively_and_with_polars(
    rows: list[tuple[str | None, str | None, str | None]],
) -> None:
    natively, by_polars = annotated_both_ways(SHIPPED, frame_of(rows))
    assert_frame_equal(natively, by_polars)


# Lists drawn at random over a small stretch of the IPv4 space, so that they overlap: an address in
# several lists is verified against the first of its bot's (by name), attributed to the first AI-only one.
LIST_IDS = ("anthropic", "google-common", "openai-chatgpt-user", "openai-gptbot", "openai-searchbot", "bing")
spans = st.lists(
    st.tuples(st.sampled_from(LIST_IDS), st.integers(0, 300), st.integers(0, 40)),
    min_size=1,
    max_size=12,
)


def lists_of(drawn: list[tuple[str, int, int]]) -> IpLists:
    base = V4_MAPPED + int(ipaddress.IPv4Address("20.0.0.0"))
    intervals = pl.DataFrame(
        {
            "list_id": [list_id for list_id, _, _ in drawn],
            "start": pl.Series([base + first for _, first, _ in drawn], dtype=pl.UInt128),
            "end": pl.Series([base + first + size for _, first, size in drawn], dtype=pl.UInt128),
        }
    )
    lists = {list_id: LISTS.lists[list_id] for list_id in {list_id for list_id, _, _ in drawn}}
    return IpLists(lists, intervals, "drawn")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans.flatmap(lambda drawn: st.tuples(st.just(drawn), rows_over(lists_of(drawn).intervals))))
def test_overlapping_lists_give_the_same_verdicts_natively_and_with_polars(
    case: tuple[list[tuple[str, int, int]], list[tuple[str | None, str | None, str | None]]],
) -> None:
    drawn, rows = case
    detector = Detector(REGISTRY, lists_of(drawn))
    natively, by_polars = annotated_both_ways(detector, frame_of(rows))
    assert_frame_equal(natively, by_polars)


def test_an_address_in_two_lists_is_verified_against_its_bots_list_and_attributed_to_the_first() -> None:
    both = "20.0.0.10"
    lists = lists_of([("openai-gptbot", 0, 20), ("openai-chatgpt-user", 5, 20), ("bing", 100, 5)])
    gptbot = next(bot.examples[0] for bot in REGISTRY.fetchers if bot.token == "GPTBot")
    chatgpt = next(bot.examples[0] for bot in REGISTRY.fetchers if bot.token == "ChatGPT-User")
    rows = [(both, None, gptbot), (both, None, chatgpt), ("20.0.0.2", None, chatgpt), (both, None, NO_BOT[1])]
    natively, by_polars = annotated_both_ways(Detector(REGISTRY, lists), frame_of(rows))
    assert_frame_equal(natively, by_polars)
    assert natively.select("verification", "ip_list", "attribution", "class").rows() == [
        ("verified", "openai-gptbot", "declared", "ai_bot"),
        ("verified", "openai-chatgpt-user", "declared", "ai_bot"),
        ("spoofed", None, "declared", "ai_bot"),
        ("verified", "openai-chatgpt-user", "ip_attributed", "undeclared_ai"),  # first by name
    ]


def test_the_fetches_of_the_seeded_sample_are_the_same_natively_and_with_polars(tmp_path: Path) -> None:
    sample = generate(tmp_path / "logs", lines=20_000, seed=5)
    fetches = []
    for native in (True, False):
        with (
            patch.object(classify, "address_numbers", classify.address_numbers if native else lambda a: None),
            Ledger(tmp_path / f"{native}.duckdb") as ledger,
        ):
            save_outlets(ledger, list(sample.outlets))
            for file in sample.files:
                ingest_paths(ledger, [str(file.path)], outlet=file.outlet)
            fetches.append(ledger.rows(f"SELECT {', '.join(FETCH_COLUMNS)} FROM fetches ORDER BY ALL"))
    assert fetches[0] == fetches[1]
    assert {row["verification"] for row in fetches[0]} >= {"verified", "spoofed", "unverifiable"}


def test_cover_finds_the_segment_of_each_number() -> None:
    segments = partitions(lists_of([("bing", 0, 9), ("anthropic", 5, 9)]).intervals)
    table = cover_table(segments)
    assert table is not None and table.list_ids == ("anthropic", "bing")
    base = V4_MAPPED + int(ipaddress.IPv4Address("20.0.0.0"))
    numbers = [base - 1, base, base + 5, base + 9, base + 14, base + 15, 0, (1 << 128) - 1]
    mask = (1 << 64) - 1
    words = pl.DataFrame({"hi": [n >> 64 for n in numbers], "lo": [n & mask for n in numbers]}).cast(pl.UInt64)
    assert cover(words.to_numpy(), table).tolist() == [0, 0b10, 0b11, 0b11, 0b01, 0, 0, 0]


def test_cover_masks_refuses_buffers_of_the_wrong_sizes() -> None:
    table = cover_table(partitions(lists_of([("bing", 0, 9)]).intervals))
    assert table is not None
    with pytest.raises(ValueError, match="16-byte pairs"):
        _native.cover_masks(b"\0" * 15, table.starts, table.ends, table.masks)
    with pytest.raises(ValueError, match="16-byte pairs"):
        _native.cover_masks(b"\0" * 16, table.starts + b"\0" * 16, table.ends, table.masks)
    with pytest.raises(ValueError, match="16-byte pairs"):
        _native.cover_masks(b"\0" * 16, table.starts, table.ends[:8], table.masks)


def test_more_lists_than_a_mask_holds_take_the_polars_way() -> None:
    many = pl.DataFrame(
        {
            "list_id": [f"list-{k:02d}" for k in range(65)],
            "start": pl.Series([V4_MAPPED + 10 * k for k in range(65)], dtype=pl.UInt128),
            "end": pl.Series([V4_MAPPED + 10 * k + 5 for k in range(65)], dtype=pl.UInt128),
        }
    )
    assert cover_table(partitions(many)) is None
    assert cover_table(partitions(many.head(64))) is not None
    assert iplists.MASK_BITS == 64
