"""Operators' published IP ranges as integer intervals, and vectorised address lookup.

Every address, IPv4 or IPv6, becomes one unsigned 128-bit integer (IPv4 as the IPv4-mapped IPv6 address
``::ffff:a.b.c.d``), so both families live on one number line. Each list's CIDRs are merged into sorted,
disjoint intervals; a batch of addresses is matched with one as-of join (polars ``join_asof`` on UInt128),
never a scan of the ranges per line.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl

from ledger.errors import RegistryError
from ledger.parse.native import string_views

try:
    from ledger import _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - the extension is optional; polars expressions do the same
    _native = None

V4_MAPPED = 0xFFFF << 32
_LIST_KEYS = {"operator", "authority", "source_url", "sources"}
_AUTHORITIES = ("published", "asn")
_FORMATS = ("prefixes", "ipverse", "keyed")
V4_PATTERN = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"


@dataclass(frozen=True)
class IpList:
    list_id: str
    operator: str
    authority: str
    source_url: str
    cidrs: tuple[str, ...]


@dataclass(frozen=True)
class IpLists:
    lists: dict[str, IpList]
    intervals: pl.DataFrame  # list_id, start (u128), end (u128); disjoint and sorted within a list
    version: str

    def known(self) -> list[str]:
        return sorted(self.lists)

    @cached_property
    def partitions(self) -> Partitions:
        return partitions(self.intervals)


def address_to_int(text: str) -> int | None:
    """One address as the 128-bit integer of its IPv6 (or IPv4-mapped) form; None when not an address."""
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return V4_MAPPED | int(address)
    if address.ipv4_mapped is not None:
        return V4_MAPPED | int(address.ipv4_mapped)
    return int(address)


def cidr_interval(cidr: str, where: str) -> tuple[int, int]:
    """The first and last address of a CIDR (host bits ignored), IPv4 mapped into IPv6."""
    quick = _plain_cidr(cidr)
    if quick is not None:
        return quick
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as exc:
        raise RegistryError(f"invalid CIDR '{cidr}'", key=where) from exc
    first, last = int(network.network_address), int(network.broadcast_address)
    if network.version == 4:
        return V4_MAPPED | first, V4_MAPPED | last
    return first, last


def _plain_cidr(cidr: str) -> tuple[int, int] | None:
    """``cidr_interval`` of a plain ``address/length`` read with ``inet_pton`` (a tenth of the cost of
    ``ipaddress``: the packaged lists hold thousands); None for anything else, which ``ipaddress`` reads or
    rejects with its own message."""
    address, slash, length = cidr.strip().partition("/")
    if not slash or not length.isdigit() or not length.isascii():
        return None
    family, bits = (socket.AF_INET6, 128) if ":" in address else (socket.AF_INET, 32)
    prefix = int(length)
    if prefix > bits or "%" in address:
        return None
    try:
        number = int.from_bytes(socket.inet_pton(family, address), "big")
    except OSError:
        return None
    host = (1 << (bits - prefix)) - 1
    first, last = number & ~host, number | host
    return (V4_MAPPED | first, V4_MAPPED | last) if bits == 32 else (first, last)


def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _read_source(source: dict[str, Any], where: str) -> list[str]:
    fmt = source.get("format")
    if fmt not in _FORMATS:
        raise RegistryError(f"unknown source format '{fmt}'", key=where, allowed=_FORMATS, value=fmt)
    name = source.get("file", "")
    try:
        raw = resources.files("ledger.registry").joinpath("ip_ranges", name).read_text(encoding="utf-8")
        data = json.loads(raw)
    except (OSError, json.JSONDecodeError) as exc:
        raise RegistryError(f"cannot read IP list file '{name}': {exc}", key=where) from exc
    if fmt == "prefixes":
        return [p.get("ipv4Prefix") or p.get("ipv6Prefix") for p in data.get("prefixes", [])]
    if fmt == "ipverse":
        service = data.get("services", {}).get(source.get("service"))
        if service is None:
            raise RegistryError(f"service '{source.get('service')}' not in {name}", key=where)
        return list(service.get("ipv4", [])) + list(service.get("ipv6", []))
    return list(data.get(source.get("key"), []))


def _ip_list(list_id: str, spec: dict[str, Any], path: str) -> IpList:
    where = f"lists.{list_id}"
    unknown = set(spec) - _LIST_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise RegistryError("unknown key", path=path, key=f"{where}.{key}", allowed=sorted(_LIST_KEYS), value=key)
    if spec.get("authority") not in _AUTHORITIES:
        raise RegistryError(
            "bad authority", path=path, key=f"{where}.authority", allowed=_AUTHORITIES, value=spec.get("authority")
        )
    cidrs: list[str] = []
    for n, source in enumerate(spec.get("sources", []), start=1):
        cidrs.extend(_read_source(source, f"{path}: {where}.sources[{n}]"))
    if not cidrs:
        raise RegistryError("the list is empty", path=path, key=where)
    return IpList(
        list_id, str(spec.get("operator", "")), spec["authority"], str(spec.get("source_url", "")), tuple(cidrs)
    )


def parse_ip_lists(text: str, path: str = "ip_lists.toml") -> IpLists:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"not valid TOML: {exc}", path=path) from exc
    lists = {lid: _ip_list(lid, spec, path) for lid, spec in data.get("lists", {}).items()}
    rows: list[tuple[str, int, int]] = []
    digest = hashlib.sha256(text.encode())
    for lid, ip_list in sorted(lists.items()):
        spans = [cidr_interval(c, f"{path}: lists.{lid}") for c in ip_list.cidrs]
        rows.extend((lid, start, end) for start, end in merge_intervals(spans))
        digest.update("\n".join(sorted(ip_list.cidrs)).encode())
    intervals = pl.DataFrame(
        {
            "list_id": [r[0] for r in rows],
            "start": pl.Series([r[1] for r in rows], dtype=pl.UInt128),
            "end": pl.Series([r[2] for r in rows], dtype=pl.UInt128),
        }
    ).sort("start")
    return IpLists(lists=lists, intervals=intervals, version=digest.hexdigest()[:16])


@cache
def load_ip_lists() -> IpLists:
    text = resources.files("ledger.registry").joinpath("ip_lists.toml").read_text(encoding="utf-8")
    return parse_ip_lists(text, "ledger/registry/ip_lists.toml")


def ipv4_numbers(addresses: pl.Series) -> pl.Series:
    """Dotted-quad IPv4 text -> its 32-bit number (Int64); null for anything else (IPv6, ports, junk)."""
    frame = pl.DataFrame({"ip": addresses.cast(pl.String)})
    frame = frame.with_columns(pl.col("ip").str.split_exact(".", 3).alias("_octets"))  # computed once
    octets = [pl.col("_octets").struct.field(f"field_{i}").cast(pl.Int64, strict=False) for i in range(4)]
    valid = pl.col("ip").str.contains(V4_PATTERN).fill_null(False) & pl.all_horizontal(o <= 255 for o in octets)
    number = octets[0] * (1 << 24) + octets[1] * (1 << 16) + octets[2] * (1 << 8) + octets[3]
    return frame.select(pl.when(valid.fill_null(False)).then(number).otherwise(None).alias("n")).to_series()


def addresses_to_int(addresses: pl.Series) -> pl.Series:
    """Vectorised ``address_to_int``: dotted quads and plain IPv6 text natively (ledger/_native.c), the
    rest (non-ASCII, embedded IPv4, zone ids) the way ``_addresses_to_int`` reads them.

    Feed it distinct values: the standard-library fallback runs once per value.
    """
    if _native is None:
        return _addresses_to_int(addresses)
    text = addresses.cast(pl.String)
    kinds, numbers = _native.addresses(string_views(text))
    kind = np.frombuffer(kinds, dtype=np.uint8)
    words = np.frombuffer(numbers, dtype=np.uint64).reshape(-1, 2)
    value = pl.lit(pl.Series(words[:, 0])).cast(pl.UInt128) * (1 << 64) + pl.lit(pl.Series(words[:, 1])).cast(
        pl.UInt128
    )
    result = pl.select(pl.when(pl.lit(pl.Series(kind == 1))).then(value).otherwise(None)).to_series()
    odd = pl.Series(kind == 2)
    if odd.any():
        result = result.scatter(odd.arg_true(), _addresses_to_int(text.filter(odd)))
    return result.rename(addresses.name)


def _addresses_to_int(addresses: pl.Series) -> pl.Series:
    """``addresses_to_int`` without the extension: IPv4 in polars expressions, plain IPv6 by string
    operations, anything else through ``ipaddress``."""
    text = addresses.cast(pl.String)
    v4 = ipv4_numbers(text)
    result = pl.select(pl.lit(v4).cast(pl.UInt128) + pl.lit(V4_MAPPED, dtype=pl.UInt128)).to_series()
    v6 = text.is_not_null() & result.is_null() & text.str.contains(":", literal=True)
    if v6.any():
        result = result.scatter(v6.arg_true(), ipv6_numbers(text.filter(v6)))
    return result.rename(addresses.name)


def ipv6_numbers(addresses: pl.Series) -> pl.Series:
    """IPv6 text -> UInt128 (IPv4-mapped and embedded forms through ``ipaddress``); null when not one."""
    numbers = _ipv6_to_int(addresses)
    odd = numbers.is_null()  # embedded IPv4, zone ids, or not an address: the standard library decides
    if odd.any():
        slow = [address_to_int(value) for value in addresses.filter(odd).to_list()]
        numbers = numbers.scatter(odd.arg_true(), pl.Series(slow, dtype=pl.UInt128))
    return numbers


def address_prefilter(intervals: pl.DataFrame) -> str:
    """A regex that matches every logged address (dotted-quad IPv4 or plain IPv6 text) that can lie in the
    intervals, and few others: a text test as cheap as a scan, so only those few need their number.

    IPv4 by the first two octets (leading zeros allowed, as ``V4_PATTERN`` allows them), IPv6 by the first
    group (any case, leading zeros); an IPv6 text whose first group is zero (``::``, IPv4-mapped forms)
    always matches.
    """
    low, high = V4_MAPPED, V4_MAPPED + (1 << 32) - 1
    sixteens: set[int] = set()
    groups: set[int] = set()
    every_group = False
    for start, end in zip(intervals["start"].to_list(), intervals["end"].to_list(), strict=True):
        if start <= high and end >= low:
            first, last = max(start, low) - low, min(end, high) - low
            sixteens.update(range(first >> 16, (last >> 16) + 1))
        if end > high or start < low:
            every_group |= (end >> 112) - (start >> 112) > 4096
            groups.update(range(start >> 112, min(end >> 112, (start >> 112) + 4096) + 1))
    by_octet: dict[int, list[int]] = {}
    for value in sorted(sixteens):
        by_octet.setdefault(value >> 8, []).append(value & 255)
    v4 = []
    for octet, seconds in by_octet.items():
        second = r"\d{1,3}" if len(seconds) == 256 else "0*(?:" + "|".join(map(str, seconds)) + ")"
        v4.append(rf"0*{octet}\.{second}\.")
    v6 = ["0*:"]  # a zero first group: "::1", "::ffff:1.2.3.4", "0:0::"
    v6 += ["[0-9a-f]*:"] if every_group else [f"0*{group:x}:" for group in sorted(groups - {0})]
    return "(?i)^(?:" + "|".join(v4 + v6) + ")"


_ZEROS = "0:" * 8
_FULL_V6 = r"^[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){7}$"


def _ipv6_to_int(addresses: pl.Series) -> pl.Series:
    """Plain IPv6 text (hex groups, at most one '::') -> UInt128; null for anything else.

    String operations only (no per-row lists): '::' is expanded to the zero groups it stands for, then
    the eight groups are read as hex numbers.
    """
    frame = pl.DataFrame({"ip": addresses.str.strip_chars().str.strip_chars("[]").str.to_lowercase()})
    halves = pl.col("ip").str.split_exact("::", 1)
    frame = frame.with_columns(halves.struct.field("field_0").alias("l"), halves.struct.field("field_1").alias("r"))
    left, right, gap = pl.col("l"), pl.col("r"), pl.col("r").is_not_null()

    def groups(half: pl.Expr) -> pl.Expr:
        return pl.when(half.is_null() | (half == "")).then(0).otherwise(half.str.count_matches(":", literal=True) + 1)

    missing = 8 - groups(left) - groups(right)
    filler = pl.lit(_ZEROS).str.slice(0, (2 * missing).clip(0, 16))
    head = pl.when(left == "").then(pl.lit("")).otherwise(left + ":")
    expanded = pl.when(gap).then((head + filler + right.fill_null("")).str.strip_suffix(":")).otherwise(left)
    frame = frame.with_columns(
        expanded.alias("full"),
        ((~gap | (missing >= 1)) & (pl.col("ip").str.count_matches("::", literal=True) <= 1)).alias("shape"),
    )
    valid = pl.col("shape") & pl.col("full").str.contains(_FULL_V6).fill_null(False)
    parts = pl.col("full").str.split_exact(":", 7)
    value = pl.lit(0, dtype=pl.UInt128)
    for i in range(8):
        group = parts.struct.field(f"field_{i}").str.to_integer(base=16, strict=False).cast(pl.UInt128)
        value = value + group * (1 << (16 * (7 - i)))
    return frame.select(pl.when(valid).then(value).otherwise(None)).to_series()


# Addresses that never identify a client on the internet: a load balancer, a proxy, loopback, link-local.
NON_PUBLIC = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
)


@cache
def non_public_partitions() -> Partitions:
    return partitions(non_public_intervals())


@cache
def non_public_intervals() -> pl.DataFrame:
    spans = merge_intervals([cidr_interval(c, "non-public") for c in NON_PUBLIC])
    return pl.DataFrame(
        {
            "list_id": ["non-public"] * len(spans),
            "start": pl.Series([s for s, _ in spans], dtype=pl.UInt128),
            "end": pl.Series([e for _, e in spans], dtype=pl.UInt128),
        }
    )


Partitions = pl.DataFrame  # disjoint segments sorted by start: start, end (UInt128), list_ids (List[String])


def partitions(intervals: pl.DataFrame) -> Partitions:
    """The number line cut where any list starts or ends: each segment with every list covering it.

    Lists overlap (one address can be in GPTBot's and ChatGPT-User's), so a lookup in the segments is one
    as-of join whatever the number of lists. Built once per set of lists (``IpLists.partitions``).
    """
    events: dict[int, list[tuple[int, str]]] = {}
    for list_id, start, end in intervals.select("list_id", "start", "end").iter_rows():
        events.setdefault(start, []).append((1, list_id))
        events.setdefault(end + 1, []).append((-1, list_id))
    active: dict[str, int] = {}
    starts: list[int] = []
    ends: list[int] = []
    ids: list[str] = []  # every segment's lists, one after the other
    segment_of: list[int] = []  # the segment of each of ``ids``
    points = sorted(events)
    for here, following in pairwise(points):
        for step, list_id in events[here]:
            active[list_id] = active.get(list_id, 0) + step
        covering = sorted(list_id for list_id, depth in active.items() if depth > 0)
        if covering:
            segment_of += [len(starts)] * len(covering)
            ids += covering
            starts.append(here)
            ends.append(following - 1)
    # the lists per segment gathered from flat columns: a Series of Python lists took most of the time
    # (polars builds it value by value: 12 -> 5 ms for the 906 segments of the packaged lists)
    listed = (
        pl.DataFrame({"segment": pl.Series(segment_of, dtype=pl.UInt32), "list_ids": pl.Series(ids, dtype=pl.String)})
        .group_by("segment", maintain_order=True)
        .agg("list_ids")
    )
    return pl.DataFrame(
        {
            "start": pl.Series(starts, dtype=pl.UInt128),
            "end": pl.Series(ends, dtype=pl.UInt128),
            "list_ids": listed["list_ids"] if starts else pl.Series([], dtype=pl.List(pl.String)),
        }
    )


def match_lists(numbers: pl.Series, lists: IpLists | Partitions) -> pl.DataFrame:
    """For each address (UInt128), every list containing it: columns ``n``, ``list_id``."""
    segments = lists.partitions if isinstance(lists, IpLists) else lists
    probe = pl.DataFrame({"n": numbers}).drop_nulls().unique().sort("n")
    if segments.height == 0 or probe.height == 0:
        return pl.DataFrame(schema={"n": pl.UInt128, "list_id": pl.String})
    hit = probe.join_asof(segments, left_on="n", right_on="start", strategy="backward", check_sortedness=False)
    return (
        hit.filter(pl.col("n") <= pl.col("end"))
        .select("n", pl.col("list_ids").alias("list_id"))
        .explode("list_id")
        .cast({"n": pl.UInt128, "list_id": pl.String})
    )


@dataclass(frozen=True)
class CoverTable:
    """Segments as the native lookup reads them (``cover``): starts and ends as (high, low) uint64 pairs,
    and for each the mask of the lists covering it, bit k standing for ``list_ids[k]`` (sorted, so the
    lowest bit of a mask is the first list by name)."""

    starts: bytes
    ends: bytes
    masks: bytes
    list_ids: tuple[str, ...]

    def bits(self, list_ids: list[str] | tuple[str, ...] | set[str]) -> int:
        """The mask of ``list_ids`` (those this table knows)."""
        return sum(1 << k for k, list_id in enumerate(self.list_ids) if list_id in list_ids)


MASK_BITS = 64


def cover_table(segments: Partitions) -> CoverTable | None:
    """``segments`` for ``cover``; None when they name more lists than a mask holds (or without the
    extension): the as-of join (``match_lists``) then does the lookups."""
    list_ids = tuple(sorted({list_id for ids in segments["list_ids"].to_list() for list_id in ids}))
    if _native is None or len(list_ids) > MASK_BITS:
        return None
    bit = {list_id: 1 << k for k, list_id in enumerate(list_ids)}
    words = {name: word_pairs(segments[name].to_list()) for name in ("start", "end")}
    masks = np.array([sum(bit[i] for i in ids) for ids in segments["list_ids"].to_list()], dtype=np.uint64)
    return CoverTable(words["start"], words["end"], masks.tobytes(), list_ids)


@cache
def non_public_cover() -> CoverTable | None:
    """``non_public_partitions`` for ``cover``."""
    return cover_table(non_public_partitions())


def word_pairs(numbers: list[int]) -> bytes:
    """128-bit numbers as the native functions read them: (high, low) uint64 pairs."""
    mask = (1 << 64) - 1
    return np.array([(n >> 64, n & mask) for n in numbers], dtype=np.uint64).reshape(-1, 2).tobytes()


def address_numbers(addresses: pl.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``addresses_to_int`` row for row, as arrays for ``cover``: (which rows are addresses, their numbers
    as an (n, 2) array of (high, low) uint64 words, zeros elsewhere); None without the extension."""
    if _native is None:
        return None
    text = addresses.cast(pl.String)
    kinds, numbers = _native.addresses(string_views(text))
    kind = np.frombuffer(kinds, dtype=np.uint8)
    words = np.frombuffer(numbers, dtype=np.uint64).reshape(-1, 2)  # over a bytearray: writable
    valid = kind == 1
    odd = kind == 2
    if odd.any():  # the standard library's reading, once per distinct string
        rows = np.flatnonzero(odd)
        logged = text.gather(rows)
        distinct = logged.unique()
        read = dict(zip(distinct.to_list(), _addresses_to_int(distinct).to_list(), strict=True))
        mask = (1 << 64) - 1
        for row, value in zip(rows.tolist(), logged.to_list(), strict=True):
            number = read[value]
            if number is not None:
                valid[row] = True
                words[row] = (number >> 64, number & mask)
    return valid, words


def cover(words: np.ndarray, table: CoverTable) -> np.ndarray:
    """The mask of the segment of ``table`` each number lies in (0: none), as uint64."""
    assert _native is not None
    return np.frombuffer(
        _native.cover_masks(np.ascontiguousarray(words), table.starts, table.ends, table.masks),
        dtype=np.uint64,
    )
