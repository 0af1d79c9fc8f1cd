"""Validating fetched IP lists and storing registry versions in a real DuckDB file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources

import polars as pl
import pytest

from ledger.detect.classify import Detector
from ledger.detect.iplists import addresses_to_int, load_ip_lists, match_lists
from ledger.errors import NotFoundError, RegistryError
from ledger.iplist_refresh import (
    FetchedList,
    ip_lists_version,
    latest_ip_lists,
    parse_list,
    refresh_ip_lists,
    refresh_targets,
    shrinkage,
)
from ledger.store.db import Ledger

T0 = datetime(2026, 11, 1, tzinfo=UTC)
GPTBOT_JSON = resources.files("ledger.registry").joinpath("ip_ranges", "openai_gptbot.json").read_bytes()


def prefixes(*cidrs: str) -> bytes:
    return json.dumps({"creationTime": "2026-11-01T00:00:00", "prefixes": [{"ipv4Prefix": c} for c in cidrs]}).encode()


def with_extra(body: bytes, cidr: str) -> bytes:
    data = json.loads(body)
    data["prefixes"].append({"ipv6Prefix" if ":" in cidr else "ipv4Prefix": cidr})
    return json.dumps(data).encode()


def fetched(body: bytes | None, status: int | None = 200, list_id: str = "openai-gptbot", **kw: object) -> FetchedList:
    return FetchedList(list_id, f"http://lists.test/{list_id}.json", T0, status, body, **kw)  # type: ignore[arg-type]


def where(address: str, lists: object) -> list[str]:
    numbers = addresses_to_int(pl.Series([address]))
    return sorted(match_lists(numbers, lists)["list_id"].to_list())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "cidrs"),
    [
        (prefixes("192.0.2.0/24", "198.51.100.7/32"), ["192.0.2.0/24", "198.51.100.7/32"]),
        (
            b'{"prefixes": [{"ipv6Prefix": "2001:DB8::/32"}, {"ipv4Prefix": "192.0.2.1/24"}]}',
            ["192.0.2.0/24", "2001:db8::/32"],
        ),
        (b"# crawler addresses\n192.0.2.0/24\n\n198.51.100.1  # one host\n", ["192.0.2.0/24", "198.51.100.1/32"]),
    ],
)
def test_parse_list_forms(body: bytes, cidrs: list[str]) -> None:
    assert parse_list(body, "x") == cidrs


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"prefixes": []}', "x: the list is empty"),
        (b"", "x: the list is empty"),
        (b'{"ranges": ["192.0.2.0/24"]}', 'x: unknown schema; expected {"prefixes": [{"ipv4Prefix": "..."}'),
        (b'{"prefixes": [{"ip": "192.0.2.0/24"}]}', "x: prefixes[1] has no ipv4Prefix or ipv6Prefix string"),
        (b'{"prefixes": [{"ipv4Prefix": "192.0.2.0/33"}]}', "x: entry 1: '192.0.2.0/33' is not a CIDR"),
        (b"<html><body>Our crawler uses these addresses</body></html>", "x: entry 1: '<html><body>Our crawler"),
        (b'{"prefixes": [', "x: not valid JSON"),
    ],
)
def test_parse_list_rejects(body: bytes, message: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_list(body, "x")
    assert caught.value.message.startswith(message)


def test_shrinkage_counts_addresses_per_family() -> None:
    assert shrinkage(["192.0.2.0/24"], ["192.0.2.0/25"]) == 0.5
    assert shrinkage(["192.0.2.0/25", "192.0.2.128/25"], ["192.0.2.0/24"]) == 0.0  # aggregated, same cover
    assert shrinkage(["192.0.2.0/24", "2001:db8::/32"], ["192.0.2.0/24", "2001:db8::/33"]) == 0.5
    assert shrinkage(["192.0.2.0/24"], ["192.0.2.0/24", "198.51.100.0/24"]) == 0.0


def test_targets_skip_lists_without_a_published_file() -> None:
    lists = load_ip_lists()
    targets, skipped = refresh_targets(lists, ["meta", "openai-gptbot"])
    assert targets == [("openai-gptbot", "https://openai.com/gptbot.json")]
    assert [(s.list_id, s.outcome) for s in skipped] == [("meta", "skipped")]
    targets, skipped = refresh_targets(lists, ["meta"], {"meta": "http://mirror.test/meta.txt"})
    assert (targets, skipped) == ([("meta", "http://mirror.test/meta.txt")], [])
    with pytest.raises(NotFoundError, match="unknown IP list 'openai-gptbt'; did you mean 'openai-gptbot'"):
        refresh_targets(lists, ["openai-gptbt"])


def test_a_refresh_stores_a_complete_version_and_keeps_the_old_ones(ledger: Ledger) -> None:
    assert latest_ip_lists(ledger) is None
    first = refresh_ip_lists(ledger, [fetched(with_extra(GPTBOT_JSON, "203.0.113.0/24"))], at=T0)
    assert [(o.list_id, o.outcome, o.after) for o in first.outcomes] == [("openai-gptbot", "refreshed", 22)]
    assert first.seq == 1
    current = latest_ip_lists(ledger)
    assert current is not None and current.version == first.version != load_ip_lists().version
    assert where("203.0.113.9", current) == ["openai-gptbot"]
    assert set(current.lists) == set(load_ip_lists().lists)  # every other list carried over
    assert Detector(ip_lists=current).version != Detector().version  # what ingest will record
    assert current.lists["anthropic"].cidrs == tuple(sorted(load_ip_lists().lists["anthropic"].cidrs))
    origins = ledger.rows("SELECT origin, count(*) AS n FROM ip_list_version_lists GROUP BY ALL ORDER BY ALL")
    assert origins == [{"origin": "fetched", "n": 1}, {"origin": "packaged", "n": len(current.lists) - 1}]

    second = refresh_ip_lists(ledger, [fetched(with_extra(GPTBOT_JSON, "2001:db8::/48"))], at=T0)
    assert second.seq == 2
    newest = latest_ip_lists(ledger)
    assert newest is not None
    assert where("203.0.113.9", newest) == [] and where("2001:db8::1", newest) == ["openai-gptbot"]
    assert where("203.0.113.9", ip_lists_version(ledger, 1)) == ["openai-gptbot"]  # version 1 is still there
    with pytest.raises(NotFoundError, match="unknown IP list version '9'"):
        ip_lists_version(ledger, 9)


def test_unchanged_failed_and_shrunk_lists_store_nothing_unless_forced(ledger: Ledger) -> None:
    shrunk = prefixes("132.196.86.0/24")
    base = refresh_ip_lists(ledger, [fetched(GPTBOT_JSON)])  # the official file replaces the packaged union
    assert [(o.outcome, o.before, o.after, o.detail) for o in base.outcomes] == [("refreshed", 38, 21, "")]
    result = refresh_ip_lists(
        ledger,
        [
            fetched(GPTBOT_JSON + b"\n"),  # the same prefixes again
            fetched(None, 404, list_id="anthropic"),
            fetched(None, None, list_id="apple", error_kind="dns", error="DNS lookup failed"),
            fetched(b"<html>moved</html>", list_id="openai-searchbot"),
            fetched(shrunk, list_id="openai-chatgpt-user"),
        ],
    )
    outcomes = {o.list_id: (o.outcome, o.detail) for o in result.outcomes}
    assert outcomes["openai-gptbot"] == ("unchanged", "")
    assert outcomes["anthropic"] == ("failed", "HTTP 404")
    assert outcomes["apple"] == ("failed", "DNS lookup failed")
    assert outcomes["openai-searchbot"][0] == "failed"
    assert outcomes["openai-searchbot"][1].startswith(
        "openai-searchbot (http://lists.test/openai-searchbot.json): entry 1"
    )
    assert outcomes["openai-chatgpt-user"] == (
        "rejected",
        "covers 99% fewer addresses (limit 25%); pass --force to accept it",
    )
    assert result.seq is None
    assert ledger.rows("SELECT count(*) AS n FROM ip_list_versions") == [{"n": 1}]

    forced = refresh_ip_lists(ledger, [fetched(shrunk, list_id="openai-chatgpt-user")], force=True)
    assert [(o.outcome, o.detail) for o in forced.outcomes] == [("refreshed", "covers 99% fewer addresses (forced)")]
    assert ledger.rows("SELECT seq, forced, refreshed FROM ip_list_versions ORDER BY seq") == [
        {"seq": 1, "forced": False, "refreshed": ["openai-gptbot"]},
        {"seq": 2, "forced": True, "refreshed": ["openai-chatgpt-user"]},
    ]
    carried = ledger.rows(
        "SELECT origin, prefixes FROM ip_list_version_lists WHERE seq = 2 AND list_id = 'openai-gptbot'"
    )
    assert carried == [{"origin": "carried", "prefixes": 21}]
    with pytest.raises(RegistryError, match="--max-shrink: must be between 0 and 1, got 2"):
        refresh_ip_lists(ledger, [], max_shrink=2)
