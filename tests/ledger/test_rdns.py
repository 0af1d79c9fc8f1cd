"""Forward-confirmed reverse DNS with a fake resolver, over fetches ingested into a real DuckDB file."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.ingest import ingest_paths
from ledger.period import Period
from ledger.rdns import DnsAnswer, DnsLookupError, SocketResolver, lookup, verdict_for, verify_rdns
from ledger.store.db import Ledger
from tests.conftest import add_outlet

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PETALBOT = "Mozilla/5.0 (compatible;PetalBot;+https://webmaster.petalsearch.com/site/petalbot)"
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
GOOGLE = ("googlebot.com", "google.com")


class FakeResolver:
    """PTR and A/AAAA answers from dicts; addresses in ``failing`` raise a temporary failure."""

    def __init__(
        self, ptr: dict[str, list[str]], addresses: dict[str, list[str]], failing: frozenset[str] = frozenset()
    ) -> None:
        self.ptr, self.addresses, self.failing = ptr, addresses, set(failing)
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def reverse(self, ip: str) -> list[str]:
        with self._lock:
            self.calls[ip] += 1
        if ip in self.failing:
            raise DnsLookupError(f"reverse lookup of {ip} failed: timed out")
        return self.ptr.get(ip, [])

    def forward(self, name: str) -> list[str]:
        return self.addresses.get(name.rstrip("."), [])


RESOLVER = FakeResolver(
    ptr={
        "198.51.100.1": ["crawl-198-51-100-1.googlebot.com."],  # genuine, outside the (stale) list
        "198.51.100.2": ["crawl-1.googlebot.com"],  # the PTR its owner set, but the name is Google's
        "198.51.100.3": ["host.example.net"],
        "2001:db8::7": ["petalbot-2001-db8--7.petalsearch.com"],
    },
    addresses={
        "crawl-198-51-100-1.googlebot.com": ["198.51.100.1"],
        "crawl-1.googlebot.com": ["66.249.66.1"],
        "host.example.net": ["198.51.100.3"],
        "petalbot-2001-db8--7.petalsearch.com": ["2001:db8:0:0:0:0:0:7"],
    },
)


@pytest.mark.parametrize(
    ("ip", "verdict", "host_name", "detail"),
    [
        (
            "198.51.100.1",
            "verified",
            "crawl-198-51-100-1.googlebot.com",
            "crawl-198-51-100-1.googlebot.com resolves back to 198.51.100.1",
        ),
        (
            "198.51.100.2",
            "spoofed",
            "crawl-1.googlebot.com",
            "crawl-1.googlebot.com does not resolve back to 198.51.100.2",
        ),
        ("198.51.100.3", "spoofed", "host.example.net", "PTR host.example.net is not under googlebot.com, google.com"),
        ("198.51.100.4", "spoofed", None, "no PTR record (expected a name under googlebot.com, google.com)"),
    ],
)
def test_fcrdns_verdicts(ip: str, verdict: str, host_name: str | None, detail: str) -> None:
    found = verdict_for(lookup(ip, RESOLVER), GOOGLE)
    assert (found.verdict, found.host_name, found.detail) == (verdict, host_name, detail)


def test_a_name_that_merely_contains_the_suffix_is_not_under_it() -> None:
    answer = DnsAnswer("198.51.100.9", "ok", ("crawl.notgooglebot.com",), ("crawl.notgooglebot.com",))
    assert verdict_for(answer, GOOGLE).verdict == "spoofed"


def test_ipv6_forward_answers_compare_as_addresses() -> None:
    found = verdict_for(lookup("2001:db8::7", RESOLVER), ("petalsearch.com",))
    assert found.verdict == "verified"


def test_temporary_failures_are_errors_not_verdicts() -> None:
    resolver = FakeResolver({}, {}, failing=frozenset({"198.51.100.1"}))
    answer = lookup("198.51.100.1", resolver)
    assert answer.status == "error"
    assert verdict_for(answer, GOOGLE).verdict == "error"


def write_log(tmp_path: Path, name: str, rows: list[tuple[str, str]], day: int) -> Path:
    path = tmp_path / name
    text = "".join(
        f'{ip} - - [{day:02d}/Oct/2026:10:{n:02d}:00 +0000] "GET /news/{n} HTTP/1.1" 200 10 "-" "{agent}"\n'
        for n, (ip, agent) in enumerate(rows)
    )
    path.write_text(text)
    return path


def test_verify_rdns_checks_unsettled_claims_caches_and_retries_errors(ledger: Ledger, tmp_path: Path) -> None:
    add_outlet(ledger, "alpha", "alpha.kz")
    rows = [
        ("198.51.100.1", GOOGLEBOT),  # spoofed by the IP list, verified by rDNS
        ("198.51.100.1", GOOGLEBOT),
        ("198.51.100.2", GOOGLEBOT),  # spoofed both ways
        ("2001:db8::7", PETALBOT),  # unverifiable by IP (Petal publishes no list), verified by rDNS
        ("198.51.100.5", PETALBOT),  # DNS times out: an error, retried next time
        ("198.51.100.3", GPTBOT),  # OpenAI documents no rDNS: not checked
    ]
    log = write_log(tmp_path, "a.log", rows, day=10)
    ingest_paths(ledger, [str(log)], outlet="alpha")
    resolver = FakeResolver(RESOLVER.ptr, RESOLVER.addresses, failing=frozenset({"198.51.100.5"}))
    first = datetime(2026, 10, 20, tzinfo=UTC)
    run = verify_rdns(ledger, Period.month("2026-10"), resolver, at=first)
    assert (run.fetches, run.addresses, run.resolved) == (5, 4, 4)
    summary = {(r["bot"], r["ingest_verdict"], r["rdns_verdict"]): r["fetches"] for r in run.summary.to_pylist()}
    assert summary == {
        ("Googlebot", "spoofed", "verified"): 2,
        ("Googlebot", "spoofed", "spoofed"): 1,
        ("PetalBot", "unverifiable", "verified"): 1,
        ("PetalBot", "unverifiable", "error"): 1,
    }
    verdicts = "SELECT upload_id, line_no, verification FROM fetches ORDER BY ALL"
    before = ledger.rows(verdicts)

    # a second upload from the same addresses: answered from the cache, except the earlier error
    later = write_log(tmp_path, "b.log", rows[:1] + rows[4:5], day=12)
    ingest_paths(ledger, [str(later)], outlet="alpha")
    resolver.failing.clear()
    run = verify_rdns(ledger, Period.month("2026-10"), resolver, at=first + timedelta(days=1))
    assert (run.fetches, run.addresses, run.resolved) == (3, 2, 1)
    assert resolver.calls == Counter({"198.51.100.1": 1, "198.51.100.2": 1, "2001:db8::7": 1, "198.51.100.5": 2})
    summary = {(r["bot"], r["ingest_verdict"], r["rdns_verdict"]): r["fetches"] for r in run.summary.to_pylist()}
    assert summary[("PetalBot", "unverifiable", "spoofed")] == 2  # no PTR record once DNS answered
    assert ("PetalBot", "unverifiable", "error") not in summary
    assert [r for r in ledger.rows(verdicts) if r["upload_id"] == before[0]["upload_id"]] == before  # never edited

    assert verify_rdns(ledger, None, resolver, at=first + timedelta(days=2)).fetches == 0  # settled stay settled

    # past the cache's age limit, an address is looked up again
    ingest_paths(ledger, [str(write_log(tmp_path, "c.log", rows[:1], day=14))], outlet="alpha")
    run = verify_rdns(ledger, None, resolver, at=first + timedelta(days=30))
    assert (run.fetches, run.resolved) == (1, 1)
    assert resolver.calls["198.51.100.1"] == 2


def test_socket_resolver_reads_the_hosts_file() -> None:
    resolver = SocketResolver()
    assert {"127.0.0.1", "::1"} & set(resolver.forward("localhost"))
    assert "localhost" in resolver.reverse("127.0.0.1")
    assert resolver.forward("name-that-does-not-exist.invalid") == []
