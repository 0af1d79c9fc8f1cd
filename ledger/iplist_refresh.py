"""Refreshed IP lists: validate what the crawler fetched from the operators and store a new version.

A fetched list must parse (the operators' common JSON form ``{"prefixes": [{"ipv4Prefix": ...} |
{"ipv6Prefix": ...}]}``, or plain text with one CIDR per line), every entry must be a CIDR, it must not
be empty, and it must not cover a smaller share of addresses than before by more than ``max_shrink`` (per
address family) unless forced: a truncated download or a broken endpoint must not quietly turn genuine
crawlers into spoofers.

Each stored version is complete: the refreshed lists plus every other list carried over from the version
before it (or from the packaged lists for the first one). Versions are never changed or removed, so each
upload's verdicts stay explainable by the version it recorded. ``latest_ip_lists`` builds the
``IpLists`` the detector uses from the newest version.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import pyarrow as pa

from ledger.detect.iplists import IpList, IpLists, cidr_interval, load_ip_lists, merge_intervals
from ledger.errors import NotFoundError, RegistryError
from ledger.store.db import Ledger, now

DEFAULT_MAX_SHRINK = 0.25
OUTCOMES = ("refreshed", "unchanged", "rejected", "failed", "skipped")


@dataclass(frozen=True)
class FetchedList:
    """What the crawler got from one list's URL."""

    list_id: str
    url: str
    fetched_at: datetime
    status: int | None = None
    body: bytes | None = None
    error_kind: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ListOutcome:
    list_id: str
    url: str
    outcome: str  # refreshed | unchanged | rejected | failed | skipped
    before: int | None = None  # prefixes in the version before
    after: int | None = None  # prefixes fetched
    detail: str = ""


@dataclass(frozen=True)
class RefreshResult:
    outcomes: tuple[ListOutcome, ...]
    seq: int | None  # the stored version's number; None when nothing new was stored
    version: str | None

    def table(self) -> pa.Table:
        names = ("list_id", "url", "outcome", "before", "after", "detail")
        rows = [{n: getattr(o, n) for n in names} for o in self.outcomes]
        schema = pa.schema([(n, pa.int64() if n in ("before", "after") else pa.string()) for n in names])
        return pa.Table.from_pylist(rows, schema=schema)


def refresh_targets(
    ip_lists: IpLists, only: Sequence[str] = (), sources: dict[str, str] | None = None
) -> tuple[list[tuple[str, str]], list[ListOutcome]]:
    """(list_id, url) pairs to fetch, and the lists skipped because they publish no machine-readable file.

    ``only`` restricts the lists; ``sources`` replaces a list's URL (a mirror, or a test server).
    """
    sources = sources or {}
    for list_id in [*only, *sources]:
        if list_id not in ip_lists.lists:
            raise NotFoundError("IP list", list_id, ip_lists.known(), "The lists are in ledger/registry/ip_lists.toml.")
    targets, skipped = [], []
    for list_id in sorted(only or ip_lists.lists):
        spec = ip_lists.lists[list_id]
        url = sources.get(list_id, spec.source_url)
        if list_id not in sources and (spec.authority != "published" or not url.startswith(("https://", "http://"))):
            detail = f"no published machine-readable list (authority: {spec.authority}); kept as packaged"
            skipped.append(ListOutcome(list_id, url, "skipped", len(spec.cidrs), None, detail))
            continue
        targets.append((list_id, url))
    return targets, skipped


def parse_list(body: bytes, where: str) -> list[str]:
    """The CIDRs of a fetched list, in the JSON ``prefixes`` form or as plain text; checked, normalised."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith(("{", "[")):
        entries = _json_prefixes(text, where)
    else:
        entries = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        entries = [e for e in entries if e]
    cidrs = []
    for number, entry in enumerate(entries, start=1):
        try:
            cidrs.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise RegistryError(f"entry {number}: '{entry[:80]}' is not a CIDR", key=where) from None
    if not cidrs:
        raise RegistryError("the list is empty", key=where)
    return sorted(set(cidrs))


def _json_prefixes(text: str, where: str) -> list[str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(f"not valid JSON ({exc})", key=where) from None
    expected = 'expected {"prefixes": [{"ipv4Prefix": "..."} or {"ipv6Prefix": "..."}, ...]}'
    if not isinstance(data, dict) or not isinstance(data.get("prefixes"), list):
        raise RegistryError(f"unknown schema; {expected}", key=where)
    entries = []
    for number, item in enumerate(data["prefixes"], start=1):
        value = (item.get("ipv4Prefix") or item.get("ipv6Prefix")) if isinstance(item, dict) else None
        if not isinstance(value, str):
            raise RegistryError(f"prefixes[{number}] has no ipv4Prefix or ipv6Prefix string; {expected}", key=where)
        entries.append(value)
    return entries


def _addresses(cidrs: Sequence[str]) -> tuple[int, int]:
    """Addresses covered (merged, so overlaps count once): IPv4, IPv6."""
    v4 = [cidr_interval(c, "") for c in cidrs if ":" not in c]
    v6 = [cidr_interval(c, "") for c in cidrs if ":" in c]
    return sum(e - s + 1 for s, e in merge_intervals(v4)), sum(e - s + 1 for s, e in merge_intervals(v6))


def shrinkage(before: Sequence[str], after: Sequence[str]) -> float:
    """The largest fraction of covered addresses lost, IPv4 and IPv6 taken separately."""
    lost = 0.0
    for old, new in zip(_addresses(before), _addresses(after), strict=True):
        if old > 0:
            lost = max(lost, (old - new) / old)
    return lost


def _judge(fetched: FetchedList, base: IpList, force: bool, max_shrink: float) -> tuple[ListOutcome, list[str] | None]:
    before = len(base.cidrs)
    if fetched.error_kind is not None or fetched.status != 200 or fetched.body is None:
        cause = fetched.error or (f"HTTP {fetched.status}" if fetched.status else fetched.error_kind or "no answer")
        return ListOutcome(fetched.list_id, fetched.url, "failed", before, None, cause), None
    try:
        cidrs = parse_list(fetched.body, f"{fetched.list_id} ({fetched.url})")
    except RegistryError as exc:
        return ListOutcome(fetched.list_id, fetched.url, "failed", before, None, exc.message), None
    if set(cidrs) == {str(ipaddress.ip_network(c, strict=False)) for c in base.cidrs}:
        return ListOutcome(fetched.list_id, fetched.url, "unchanged", before, len(cidrs)), None
    lost = shrinkage(base.cidrs, cidrs)
    if lost > max_shrink and not force:
        detail = f"covers {lost:.0%} fewer addresses (limit {max_shrink:.0%}); pass --force to accept it"
        return ListOutcome(fetched.list_id, fetched.url, "rejected", before, len(cidrs), detail), None
    detail = f"covers {lost:.0%} fewer addresses (forced)" if lost > max_shrink else ""
    return ListOutcome(fetched.list_id, fetched.url, "refreshed", before, len(cidrs), detail), cidrs


def refresh_ip_lists(
    ledger: Ledger,
    fetched: Sequence[FetchedList],
    *,
    skipped: Sequence[ListOutcome] = (),
    force: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    at: datetime | None = None,
) -> RefreshResult:
    """Judge each fetched list against the current version; store a new version when any list changed."""
    if not 0 <= max_shrink <= 1:
        raise RegistryError(f"must be between 0 and 1, got {max_shrink}", key="--max-shrink")
    seq, base = _current(ledger)
    lists = dict(base.lists)
    outcomes, refreshed = list(skipped), {}
    for item in fetched:
        outcome, cidrs = _judge(item, base.lists[item.list_id], force, max_shrink)
        outcomes.append(outcome)
        if cidrs is not None:
            spec = base.lists[item.list_id]
            lists[item.list_id] = IpList(item.list_id, spec.operator, spec.authority, spec.source_url, tuple(cidrs))
            refreshed[item.list_id] = item
    outcomes.sort(key=lambda o: o.list_id)
    if not refreshed:
        return RefreshResult(tuple(outcomes), None, None)
    version = version_of(lists)
    new_seq = _store(ledger, lists, refreshed, seq, version, force, at or now())
    return RefreshResult(tuple(outcomes), new_seq, version)


def version_of(lists: dict[str, IpList]) -> str:
    payload = [(lid, spec.operator, spec.authority, spec.source_url, sorted(spec.cidrs)) for lid, spec in lists.items()]
    return hashlib.sha256(json.dumps(sorted(payload)).encode()).hexdigest()[:16]


def _current(ledger: Ledger) -> tuple[int | None, IpLists]:
    found = _stored(ledger)
    return (found[0], found[1]) if found else (None, load_ip_lists())


def _store(
    ledger: Ledger,
    lists: dict[str, IpList],
    refreshed: dict[str, FetchedList],
    previous: int | None,
    version: str,
    forced: bool,
    at: datetime,
) -> int:
    seq = (previous or 0) + 1
    carried = "carried" if previous else "packaged"
    with ledger.transaction():
        ledger.execute(
            "INSERT INTO ip_list_versions VALUES (?, ?, ?, ?, ?)", [seq, version, at, forced, sorted(refreshed)]
        )
        for list_id, spec in sorted(lists.items()):
            item = refreshed.get(list_id)
            ledger.execute(
                "INSERT INTO ip_list_version_lists VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    seq,
                    list_id,
                    spec.operator,
                    spec.authority,
                    spec.source_url,
                    "fetched" if item else carried,
                    item.url if item else None,
                    item.fetched_at if item else None,
                    len(spec.cidrs),
                ],
            )
        prefixes = [(list_id, cidr) for list_id, spec in sorted(lists.items()) for cidr in spec.cidrs]
        ledger.insert_arrow(
            "ip_list_prefixes",
            pa.table(
                {
                    "seq": pa.array([seq] * len(prefixes), pa.int32()),
                    "list_id": [p[0] for p in prefixes],
                    "cidr": [p[1] for p in prefixes],
                }
            ),
        )
    return seq


def _stored(ledger: Ledger, seq: int | None = None) -> tuple[int, IpLists] | None:
    head = ledger.rows(
        "SELECT seq, version FROM ip_list_versions WHERE seq = coalesce(?, (SELECT max(seq) FROM ip_list_versions))",
        [seq],
    )
    if not head:
        return None
    number, version = int(head[0]["seq"]), str(head[0]["version"])
    specs = ledger.rows("SELECT * FROM ip_list_version_lists WHERE seq = ? ORDER BY list_id", [number])
    cidrs: dict[str, list[str]] = {}
    for row in ledger.rows("SELECT list_id, cidr FROM ip_list_prefixes WHERE seq = ? ORDER BY ALL", [number]):
        cidrs.setdefault(row["list_id"], []).append(row["cidr"])
    lists = {
        r["list_id"]: IpList(r["list_id"], r["operator"], r["authority"], r["source_url"], tuple(cidrs[r["list_id"]]))
        for r in specs
    }
    return number, build_ip_lists(lists, version)


def build_ip_lists(lists: dict[str, IpList], version: str) -> IpLists:
    """An ``IpLists`` (merged UInt128 intervals per list) from lists of CIDRs."""
    rows: list[tuple[str, int, int]] = []
    for list_id, spec in sorted(lists.items()):
        spans = [cidr_interval(c, f"lists.{list_id}") for c in spec.cidrs]
        rows.extend((list_id, start, end) for start, end in merge_intervals(spans))
    intervals = pl.DataFrame(
        {
            "list_id": pl.Series([r[0] for r in rows], dtype=pl.String),
            "start": pl.Series([r[1] for r in rows], dtype=pl.UInt128),
            "end": pl.Series([r[2] for r in rows], dtype=pl.UInt128),
        }
    ).sort("start")
    return IpLists(lists=lists, intervals=intervals, version=version)


def latest_ip_lists(ledger: Ledger) -> IpLists | None:
    """The newest stored version as the detector's ``IpLists``, or None when none was stored yet."""
    found = _stored(ledger)
    return found[1] if found else None


def ip_lists_version(ledger: Ledger, seq: int) -> IpLists:
    """A stored version by number (to explain an old upload's verdicts)."""
    found = _stored(ledger, seq)
    if found is None:
        known = [str(r["seq"]) for r in ledger.rows("SELECT seq FROM ip_list_versions ORDER BY seq")]
        raise NotFoundError("IP list version", str(seq), known)
    return found[1]
