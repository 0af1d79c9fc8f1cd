"""Addresses for the sample: CIDR blocks outside every published list, and vectorised text addresses from them.

A pool is a list of CIDR blocks; ``addresses`` draws one address per line, uniform inside a uniformly chosen
block of the line's pool, and writes it as text (dotted IPv4, compressed IPv6) without a Python loop per line.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Blocks:
    """CIDR blocks of all pools, as arrays; pool p is blocks[start[p] : start[p] + count[p]]."""

    v6: np.ndarray
    hi: np.ndarray
    lo: np.ndarray
    hi_mask: np.ndarray
    lo_mask: np.ndarray
    start: np.ndarray
    count: np.ndarray


def interval(cidr: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(cidr, strict=False)
    return net.version, int(net.network_address), int(net.broadcast_address)


class Taken:
    """Merged intervals of every published list (and the non-public ranges), per IP version."""

    def __init__(self, cidrs: Sequence[str]) -> None:
        spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for cidr in cidrs:
            version, first, last = interval(cidr)
            spans[version].append((first, last))
        self.starts: dict[int, list[int]] = {}
        self.ends: dict[int, list[int]] = {}
        for version, items in spans.items():
            merged: list[tuple[int, int]] = []
            for first, last in sorted(items):
                if merged and first <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], last))
                else:
                    merged.append((first, last))
            self.starts[version] = [m[0] for m in merged]
            self.ends[version] = [m[1] for m in merged]

    def touches(self, version: int, first: int, last: int) -> bool:
        i = bisect.bisect_right(self.starts[version], last) - 1
        return i >= 0 and self.ends[version][i] >= first


def free_blocks(cidrs: Sequence[str], taken: Taken, split_v4: int = 24) -> list[str]:
    """The /24s (IPv4) or whole prefixes (IPv6) of ``cidrs`` that touch no list."""
    free = []
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr)
        subnets = net.subnets(new_prefix=split_v4) if net.version == 4 and net.prefixlen < split_v4 else [net]
        for sub in subnets:
            if not taken.touches(sub.version, int(sub.network_address), int(sub.broadcast_address)):
                free.append(str(sub))
    return free


def pool_blocks(pools: Sequence[Sequence[str]]) -> Blocks:
    rows = []
    for cidrs in pools:
        for cidr in cidrs:
            net = ipaddress.ip_network(cidr, strict=False)
            value, host_bits = int(net.network_address), net.max_prefixlen - net.prefixlen
            host = (1 << host_bits) - 1
            rows.append((net.version == 6, value >> 64, value & (2**64 - 1), host >> 64, host & (2**64 - 1)))
    columns = list(zip(*rows, strict=True))
    counts = np.array([len(p) for p in pools], dtype=np.int64)
    return Blocks(
        v6=np.array(columns[0], dtype=bool),
        hi=np.array(columns[1], dtype=np.uint64),
        lo=np.array(columns[2], dtype=np.uint64),
        hi_mask=np.array(columns[3], dtype=np.uint64),
        lo_mask=np.array(columns[4], dtype=np.uint64),
        start=np.concatenate([[0], np.cumsum(counts)[:-1]]),
        count=counts,
    )


_HEX = pl.Series("hex", [format(i, "x") for i in range(1 << 16)])


def addresses(blocks: Blocks, pool: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """One address per entry of ``pool``, uniform inside a uniformly chosen block of that pool."""
    n = len(pool)
    block = blocks.start[pool] + (rng.random(n) * blocks.count[pool]).astype(np.int64)
    top = np.iinfo(np.uint64).max
    hi = blocks.hi[block] | (rng.integers(0, top, n, dtype=np.uint64, endpoint=True) & blocks.hi_mask[block])
    lo = blocks.lo[block] | (rng.integers(0, top, n, dtype=np.uint64, endpoint=True) & blocks.lo_mask[block])
    octets = {f"o{i}": ((lo >> np.uint64(s)) & np.uint64(255)).astype(np.int64) for i, s in enumerate((24, 16, 8, 0))}
    text = (
        pl.DataFrame(octets)
        .select(pl.concat_str([pl.col(f"o{i}").cast(pl.String) for i in range(4)], separator="."))
        .to_series()
    )
    six = np.flatnonzero(blocks.v6[block])
    if len(six):
        groups = {
            f"h{i}": ((word[six] >> np.uint64(s)) & np.uint64(0xFFFF)).astype(np.int64)
            for i, (word, s) in enumerate((w, s) for w in (hi, lo) for s in (48, 32, 16, 0))
        }
        v6 = (
            pl.DataFrame(groups)
            .select(
                pl.concat_str([pl.lit(_HEX).gather(pl.col(f"h{i}")) for i in range(8)], separator=":").str.replace(
                    r"(?:^|:)0(?::0)+(?::|$)", "::"
                )
            )
            .to_series()
        )
        text = text.scatter(six, v6)
    return text
