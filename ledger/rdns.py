"""Forward-confirmed reverse DNS (FCrDNS) for crawlers whose operators document it.

Googlebot, bingbot, Applebot, Amazonbot, YandexBot and others say: look up the PTR name of the address,
check that it ends in one of our domains (``rdns_suffixes`` in the bot registry), then resolve that name
and check that it gives the address back. A claim passes only if both hold.

The ingest verdict in ``fetches`` is never edited: rDNS results are a second opinion in ``rdns_verdicts``
(latest row per fetch). Answers per address are cached in ``rdns_cache`` (bots' addresses only; people's
never reach this module). The ``Resolver`` protocol is what tests replace with a fake; ``SocketResolver``
uses the standard library (the system resolver and its timeouts).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import pyarrow as pa

from ledger.detect.registry import Registry, load_registry
from ledger.period import ALL_TIME, Period
from ledger.store.db import Ledger, named_query, now

RDNS_VERDICTS = ("verified", "spoofed", "error")
DEFAULT_MAX_AGE = timedelta(days=7)


class DnsLookupError(Exception):
    """A lookup that failed for a reason that may pass (timeout, server failure): not an answer."""


class Resolver(Protocol):
    def reverse(self, ip: str) -> list[str]:
        """The PTR names of an address; [] when it has none. Raises DnsLookupError on a failure."""
        ...

    def forward(self, name: str) -> list[str]:
        """The addresses of a name (A and AAAA); [] when it does not exist. Raises DnsLookupError."""
        ...


_NOT_FOUND = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_HOST_NOT_FOUND = 1  # h_errno HOST_NOT_FOUND: the address has no PTR record


class SocketResolver:
    """The system resolver, through ``socket.gethostbyaddr`` and ``socket.getaddrinfo``."""

    def reverse(self, ip: str) -> list[str]:
        try:
            name, aliases, _ = socket.gethostbyaddr(ip)
        except socket.herror as exc:
            if exc.errno == _HOST_NOT_FOUND:
                return []
            raise DnsLookupError(f"reverse lookup of {ip} failed: {exc.strerror}") from exc
        except socket.gaierror as exc:
            if exc.errno in _NOT_FOUND:
                return []
            raise DnsLookupError(f"reverse lookup of {ip} failed: {exc.strerror}") from exc
        except OSError as exc:
            raise DnsLookupError(f"reverse lookup of {ip} failed: {exc}") from exc
        return [name, *aliases]

    def forward(self, name: str) -> list[str]:
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            if exc.errno in _NOT_FOUND:
                return []
            raise DnsLookupError(f"lookup of {name} failed: {exc.strerror}") from exc
        except OSError as exc:
            raise DnsLookupError(f"lookup of {name} failed: {exc}") from exc
        return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class DnsAnswer:
    """What DNS said about one address."""

    ip: str
    status: str  # ok | no_ptr | error
    ptr_names: tuple[str, ...] = ()
    confirmed_names: tuple[str, ...] = ()  # PTR names whose forward lookup includes the address
    error: str | None = None


@dataclass(frozen=True)
class RdnsVerdict:
    verdict: str  # verified | spoofed | error
    host_name: str | None
    detail: str


@dataclass(frozen=True)
class RdnsRun:
    fetches: int  # fetches given a verdict by this run
    addresses: int
    resolved: int  # addresses looked up now (the rest came from the cache)
    summary: pa.Table

    def changes(self) -> dict[tuple[str, str], int]:
        """(ingest verdict, rDNS verdict) -> fetches, over the whole period (earlier runs included)."""
        found: dict[tuple[str, str], int] = {}
        for row in self.summary.to_pylist():
            key = (row["ingest_verdict"], row["rdns_verdict"])
            found[key] = found.get(key, 0) + int(row["fetches"])
        return found


def _same_address(a: str, b: str) -> bool:
    try:
        left, right = ipaddress.ip_address(a.split("%")[0]), ipaddress.ip_address(b.split("%")[0])
    except ValueError:
        return False
    if isinstance(left, ipaddress.IPv6Address) and left.ipv4_mapped:
        left = left.ipv4_mapped
    if isinstance(right, ipaddress.IPv6Address) and right.ipv4_mapped:
        right = right.ipv4_mapped
    return left == right


def lookup(ip: str, resolver: Resolver) -> DnsAnswer:
    """Reverse-resolve an address, then forward-resolve each PTR name and keep those that point back."""
    try:
        names = [n.lower().rstrip(".") for n in resolver.reverse(ip) if n]
        if not names:
            return DnsAnswer(ip, "no_ptr")
        confirmed = [n for n in names if any(_same_address(a, ip) for a in resolver.forward(n))]
    except DnsLookupError as exc:
        return DnsAnswer(ip, "error", error=str(exc))
    return DnsAnswer(ip, "ok", tuple(dict.fromkeys(names)), tuple(dict.fromkeys(confirmed)))


def _under(name: str, suffixes: Sequence[str]) -> bool:
    return any(name == s or name.endswith("." + s) for s in suffixes)


def verdict_for(answer: DnsAnswer, suffixes: Sequence[str]) -> RdnsVerdict:
    """FCrDNS verdict of an address for a bot whose operator documents ``suffixes``."""
    wanted = ", ".join(suffixes)
    if answer.status == "error":
        return RdnsVerdict("error", None, answer.error or "lookup failed")
    if answer.status == "no_ptr":
        return RdnsVerdict("spoofed", None, f"no PTR record (expected a name under {wanted})")
    for name in answer.confirmed_names:
        if _under(name, suffixes):
            return RdnsVerdict("verified", name, f"{name} resolves back to {answer.ip}")
    for name in answer.ptr_names:
        if _under(name, suffixes):
            return RdnsVerdict("spoofed", name, f"{name} does not resolve back to {answer.ip}")
    return RdnsVerdict("spoofed", answer.ptr_names[0], f"PTR {', '.join(answer.ptr_names)} is not under {wanted}")


def rdns_bots(registry: Registry) -> dict[str, tuple[str, ...]]:
    """token -> rDNS suffixes, for every fetching bot whose operator documents reverse DNS."""
    return {b.token: b.rdns_suffixes for b in registry.fetchers if b.rdns_suffixes}


def verify_rdns(
    ledger: Ledger,
    period: Period | None,
    resolver: Resolver | None = None,
    *,
    max_age: timedelta = DEFAULT_MAX_AGE,
    at: datetime | None = None,
    registry: Registry | None = None,
    workers: int = 8,
) -> RdnsRun:
    """Check the claims that IP lists could not settle (unverifiable or spoofed) of bots with rDNS suffixes.

    Fetches that already have a verdict other than ``error`` are not checked again.
    """
    at = at or now()
    bots = rdns_bots(registry or load_registry())
    period = period or ALL_TIME
    params = {"start": period.start, "end": period.end, "bots": list(bots)}
    candidates = ledger.rows(named_query("rdns_candidates"), params)
    addresses = sorted({r["client_ip"] for r in candidates})
    answers = _cached(ledger, addresses, at - max_age)
    missing = [ip for ip in addresses if ip not in answers]
    fresh = _resolve(missing, resolver or SocketResolver(), workers)
    _store_answers(ledger, fresh, at)
    answers.update({a.ip: a for a in fresh})
    rows: list[tuple[object, ...]] = []
    for r in candidates:
        found = verdict_for(answers[r["client_ip"]], bots[r["bot"]])
        rows.append((r["upload_id"], r["line_no"], found.verdict, r["client_ip"], found.host_name, found.detail, at))
    _store_verdicts(ledger, rows)
    summary = ledger.arrow(named_query("rdns_summary"), params)
    return RdnsRun(len(rows), len(addresses), len(missing), summary)


def _cached(ledger: Ledger, addresses: list[str], fresh_after: datetime) -> dict[str, DnsAnswer]:
    if not addresses:
        return {}
    rows = ledger.rows(named_query("rdns_cached"), {"ips": addresses, "fresh_after": fresh_after})
    return {
        r["ip"]: DnsAnswer(r["ip"], r["status"], tuple(r["ptr_names"]), tuple(r["confirmed_names"]), r["error"])
        for r in rows
    }


def _resolve(addresses: list[str], resolver: Resolver, workers: int) -> list[DnsAnswer]:
    if not addresses:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(addresses)))) as pool:
        return list(pool.map(lambda ip: lookup(ip, resolver), addresses))


def _store_answers(ledger: Ledger, answers: list[DnsAnswer], at: datetime) -> None:
    if not answers:
        return
    table = pa.table(
        {
            "ip": [a.ip for a in answers],
            "status": [a.status for a in answers],
            "ptr_names": [list(a.ptr_names) for a in answers],
            "confirmed_names": [list(a.confirmed_names) for a in answers],
            "error": [a.error for a in answers],
            "resolved_at": pa.array([at] * len(answers), pa.timestamp("us", tz="UTC")),
        }
    )
    with ledger.transaction():
        ledger.insert_arrow("rdns_cache", table)


def _store_verdicts(ledger: Ledger, rows: Sequence[tuple[object, ...]]) -> None:
    if not rows:
        return
    names = ("upload_id", "line_no", "verdict", "ip", "host_name", "detail", "checked_at")
    columns = {name: [row[i] for row in rows] for i, name in enumerate(names)}
    columns["checked_at"] = pa.array(columns["checked_at"], pa.timestamp("us", tz="UTC"))
    with ledger.transaction():
        ledger.insert_arrow("rdns_verdicts", pa.table(columns))
