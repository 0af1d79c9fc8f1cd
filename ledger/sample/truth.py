"""The ground truth: what a correct ingest of the sample finds, counted from the generator's own arrays.

The writer hands every chunk's per-line choices (``Draws``) to ``tally_chunk`` while it writes the lines, so the
answer never comes from parsing the output; ``ground_truth`` turns the dense counters into ``GroundTruth``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ledger.errors import ConfigError
from ledger.sample.outlets import SAMPLE_OUTLETS
from ledger.sample.world import CLASSES, N_FIXED, T_AUTOMATION, T_UNDECLARED, VERDICTS, World


@dataclass(frozen=True)
class GroundTruth:
    """What a correct ingest of all the sample files finds. Keys join fields with ``|``."""

    lines: int
    rejected: int
    parsed: int
    fetches: dict[str, int]  # "outlet|bot|verification", every declared-bot line (AI and non-AI)
    ip_attributed: dict[str, int]  # "outlet|operator"
    referrals: dict[str, int]  # "outlet|product"
    traffic: dict[str, int]  # "outlet|class", summing to parsed
    period: str
    days: dict[str, int] = field(default_factory=dict)  # "outlet|YYYY-MM-DD" (UTC) -> parsed lines

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundTruth:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Month:
    """The month the sample covers (``YYYY-MM``, UTC)."""

    year: int
    month: int
    start: int  # epoch seconds, UTC
    days: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ConfigError(f"month '{text}' must look like 2026-10", key="month", value=text)
        year, month = int(match.group(1)), int(match.group(2))
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return cls(year, month, int(start.timestamp()), (end - start).days)


@dataclass
class Draws:
    """Per-line choices of one chunk (all vectorised)."""

    seconds: np.ndarray
    outlet: np.ndarray
    kind: np.ndarray
    bot: np.ndarray
    verdict: np.ndarray
    attributed: np.ndarray
    product: np.ndarray
    junk: np.ndarray


@dataclass
class Tally:
    """Dense counters of the ground truth, filled chunk by chunk from the generator's arrays."""

    n_bots: int
    n_attributed: int
    n_products: int
    n_days: int
    lines: int = 0
    parsed: int = 0
    rejected: int = 0

    def __post_init__(self) -> None:
        o = len(SAMPLE_OUTLETS)
        self.fetches = np.zeros((o, self.n_bots, len(VERDICTS)), dtype=np.int64)
        self.attributed = np.zeros((o, self.n_attributed), dtype=np.int64)
        self.referrals = np.zeros((o, self.n_products), dtype=np.int64)
        self.traffic = np.zeros((o, len(CLASSES)), dtype=np.int64)
        self.days = np.zeros((o, self.n_days), dtype=np.int64)


def _bincount_into(target: np.ndarray, index: tuple[np.ndarray, ...]) -> None:
    flat = np.ravel_multi_index(index, target.shape)
    target += np.bincount(flat, minlength=target.size).reshape(target.shape)


def tally_chunk(t: Tally, w: World, d: Draws) -> None:
    """Adds one chunk's lines to the counters."""
    ok, is_bot = ~d.junk, d.kind >= N_FIXED
    t.lines += len(d.kind)
    t.rejected += int(d.junk.sum())
    t.parsed += int(ok.sum())
    cls = np.select([is_bot, d.kind == T_AUTOMATION, d.kind == T_UNDECLARED], [w.bot_class[d.bot], 2, 3], 0)
    _bincount_into(t.traffic, (d.outlet[ok], cls[ok]))
    _bincount_into(t.days, (d.outlet[ok], d.seconds[ok] // 86400))
    _bincount_into(t.fetches, (d.outlet[is_bot], d.bot[is_bot], d.verdict[is_bot]))
    undeclared = d.kind == T_UNDECLARED
    _bincount_into(t.attributed, (d.outlet[undeclared], d.attributed[undeclared]))
    referred = d.product >= 0
    _bincount_into(t.referrals, (d.outlet[referred], d.product[referred]))


def ground_truth(t: Tally, w: World, period: Month, month: str) -> GroundTruth:
    """The counters as ``GroundTruth``: keys by slug, bot token, verdict, operator, product, class and UTC date."""
    slugs = [o.slug for o in SAMPLE_OUTLETS]
    fetches = {f"{slugs[o]}|{w.bots[b].token}|{VERDICTS[v]}": int(c) for (o, b, v), c in np.ndenumerate(t.fetches) if c}
    attributed: dict[str, int] = {}
    for (o, a), c in np.ndenumerate(t.attributed):
        if c:
            key = f"{slugs[o]}|{w.attributed_ops[a]}"
            attributed[key] = attributed.get(key, 0) + int(c)
    first = datetime.fromtimestamp(period.start, UTC)
    days = {f"{slugs[o]}|{first.replace(day=d + 1):%Y-%m-%d}": int(c) for (o, d), c in np.ndenumerate(t.days) if c}
    return GroundTruth(
        lines=t.lines,
        rejected=t.rejected,
        parsed=t.parsed,
        fetches=dict(sorted(fetches.items())),
        ip_attributed=dict(sorted(attributed.items())),
        referrals={f"{slugs[o]}|{w.products[p]}": int(c) for (o, p), c in np.ndenumerate(t.referrals) if c},
        traffic={f"{slugs[o]}|{CLASSES[k]}": int(c) for (o, k), c in np.ndenumerate(t.traffic) if c},
        period=month,
        days=days,
    )
