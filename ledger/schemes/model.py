"""The typed, frozen shape of a parsed scheme: what counts, how the pool is sized, how it is shared."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.detect.registry import AI_PURPOSES

VERIFICATIONS = ("verified", "spoofed", "unverifiable", "unknown")
DEFAULT_EXCLUDE_PATHS = (
    r"(?i)\.(?:css|js|mjs|map|png|jpe?g|gif|webp|avif|svg|ico|woff2?|ttf|eot|mp4|webm|mp3|pdf|zip|json|xml)(?:\?|$)",
    r"^/(?:robots\.txt|favicon\.ico|sitemap[^/]*|ads\.txt|\.well-known/)",
)
DEFAULT_WEIGHTS = {"verified": Decimal(1), "unverifiable": Decimal(1), "unknown": Decimal(1), "spoofed": Decimal(0)}

Pairs = tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Qualifying:
    """Which fetches count, and with what weight per verification verdict and robots.txt verdict."""

    statuses: tuple[tuple[int, int], ...] = ((200, 299),)
    methods: tuple[str, ...] = ("GET",)
    purposes: tuple[str, ...] = AI_PURPOSES
    include_paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = DEFAULT_EXCLUDE_PATHS
    verification_weights: Pairs = tuple(sorted(DEFAULT_WEIGHTS.items()))
    include_undeclared: bool = False
    robots_multiplier: Decimal = Decimal(1)

    def weight(self, verdict: str) -> Decimal:
        return dict(self.verification_weights).get(verdict, Decimal(0))


@dataclass(frozen=True)
class Weighting:
    """F3's weight of one fetch: purpose weight x length term x freshness term, then re-fetch damping."""

    purpose_weight: Pairs = ()
    len_cap: Decimal = Decimal(5000)
    len_ref: Decimal = Decimal(1000)
    gamma: Decimal = Decimal(0)
    freshness: str = "none"  # none | half_life | steps
    half_life_days: Decimal | None = None
    freshness_steps: tuple[tuple[Decimal, Decimal], ...] = ()
    older_weight: Decimal = Decimal(1)
    damping: str = "none"  # none | log1p | cap_k
    damping_k: Decimal | None = None

    def purpose(self, purpose: str) -> Decimal:
        return dict(self.purpose_weight).get(purpose, Decimal(1))

    @property
    def uses_articles(self) -> bool:
        return self.gamma != 0 or self.freshness != "none"


@dataclass(frozen=True)
class Sizing:
    """F5: how big the pool is, in total and per paying operator."""

    method: str = "fixed"  # fixed | levy | revenue_tariff | implied_by_tariff | nash | payments
    pool: Decimal | None = None
    pool_per: str = "period"  # period | year
    cpi_base: Decimal | None = None
    cpi: Decimal | None = None
    levy_rate: Decimal | None = None
    levy_threshold: Decimal = Decimal(0)
    offset_ratio: Decimal = Decimal(1)
    tariff_rate: Decimal | None = None
    repertoire_share: Decimal | None = None
    tariff: Scheme | None = None
    beta: Decimal | None = None
    admin_fee: Decimal = Decimal(0)

    @property
    def uses_inputs(self) -> bool:
        return self.method in ("levy", "revenue_tariff", "nash", "payments")


@dataclass(frozen=True)
class Constraints:
    """F8: eligibility, caps on counted usage, floors and caps by water-filling, group caps, authors."""

    min_fetches: int = 0
    min_fte: Decimal = Decimal(0)
    below_threshold: str = "redistribute"  # redistribute | retain
    max_units_per_operator: Decimal | None = None
    floor: Decimal | None = None
    cap: Decimal | None = None
    floor_share: Decimal | None = None
    cap_share: Decimal | None = None
    outlet_floors: Pairs = ()
    outlet_caps: Pairs = ()
    group_caps: Pairs = ()
    author_share: Decimal = Decimal(0)

    @property
    def water_filling(self) -> bool:
        limits = (self.floor, self.cap, self.floor_share, self.cap_share)
        return any(v is not None for v in limits) or bool(self.outlet_floors or self.outlet_caps or self.group_caps)


@dataclass(frozen=True)
class PerFetch:
    """F1: a flat tariff per qualifying unit, by purpose, operator and path section."""

    price: Pairs
    operator_multiplier: Pairs = ()
    section_rates: tuple[tuple[str, Decimal], ...] = ()

    def price_of(self, purpose: str) -> Decimal:
        return dict(self.price).get(purpose, Decimal(0))

    def multiplier(self, operator: str) -> Decimal:
        return dict(self.operator_multiplier).get(operator, Decimal(1))


@dataclass(frozen=True)
class PoolProRata:
    """F2: the pool split by qualifying units."""


@dataclass(frozen=True)
class PoolWeighted:
    """F3: the pool split by weighted usage."""

    weighting: Weighting


@dataclass(frozen=True)
class OperatorPools:
    """F4: each operator's payment split by its own usage, blended with one global pool."""

    basis: str  # fetches | weighted | referrals | unique_urls
    lambda_global: Decimal
    weighting: Weighting


@dataclass(frozen=True)
class Fte:
    """F6: the pool split by journalist FTE, regional journalists weighted."""

    regional_weight: Decimal
    min_journalists: Decimal


@dataclass(frozen=True)
class MultiPot:
    """F7: pots with their shares of the pool, each split by its own key."""

    pots: Pairs  # key -> share, shares add up to 1
    weighting: Weighting
    regional_weight: Decimal


@dataclass(frozen=True)
class ReferralGap:
    """F9: pay for crawls not returned as visits."""

    mode: str  # net_count | value_offset | ratio_multiplier
    price: Decimal
    kappa: Decimal
    max_multiplier: Decimal
    ratio_ref: Decimal | None
    delta: Decimal


@dataclass(frozen=True)
class Shapley:
    """F10: the cooperative game between outlets for each operator's payment."""

    value: str  # unanimity | quota | concave
    method: str  # closed_form | monte_carlo
    min_usage: Decimal
    quota: Decimal
    alpha: Decimal
    samples: int
    seed: int


@dataclass(frozen=True)
class AttributionShare:
    """F11: a share of answer revenue, split by the outlets' shares of each answer's fetches."""

    rho: Decimal
    burst_window_seconds: int
    revenue: str  # per_answer | operator_revenue
    revenue_per_answer: Decimal | None
    burst_by: str  # operator | operator_ip


Params = (
    PerFetch | PoolProRata | PoolWeighted | OperatorPools | Fte | MultiPot | ReferralGap | Shapley | AttributionShare
)


@dataclass(frozen=True)
class Scheme:
    name: str
    family: str
    description: str
    currency: str
    minor_units: int
    qualifying: Qualifying
    refetch: str
    cap_per_url: int | None
    params: Params
    sizing: Sizing | None = None
    constraints: Constraints | None = None
    canonical: str = field(default="", repr=False)

    @property
    def scheme_hash(self) -> str:
        return hashlib.sha256(self.canonical.encode()).hexdigest()

    @property
    def is_pool(self) -> bool:
        return self.sizing is not None

    @property
    def weighting(self) -> Weighting | None:
        return getattr(self.params, "weighting", None)

    def values(self) -> dict[str, Any]:
        """The normalised table (every key with its value or default) this scheme was built from."""
        import json

        return dict(json.loads(self.canonical))
