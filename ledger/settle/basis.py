"""What a settlement reads from the ledger, as Arrow tables: qualifying units, referrals, answers, registry.

All aggregation runs in DuckDB. Schemes that count every fetch the same way (same period, filters and
sections; weights may differ) share one scan of the fetches: the *cube* (counts per outlet, operator,
purpose, verification verdict, robots verdict and section), from which each scheme's units are its
weighted sums. Schemes with URL-level refetch caps, F3 damping or article terms get their own scan.

robots.txt verdicts and the article inventory come from migration 002 (``robots_verdicts_latest``,
``article_inventory``, ``url_match_key``). A ledger without them judges every fetch 'no_snapshot' and
gives every length and freshness term the value 1; they are only read when a scheme needs them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ledger.detect.registry import PURPOSES
from ledger.period import Period
from ledger.schemes import Scheme, Weighting
from ledger.settle.engine import Compute
from ledger.store.db import Ledger, named_query

NEUTRAL = Weighting()


def ledger_fingerprint(ledger: Ledger) -> str:
    """A hash of what every settlement reads: each upload's content and registry version, the outlet registry."""
    lines = [row["line"] for row in ledger.rows(named_query("ledger_fingerprint"))]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True)
class Needs:
    """Which optional facts a scheme reads from this ledger (they enter its run id)."""

    robots: bool
    articles: bool


class Basis:
    """The ledger's facts for one period, fetched once and shared by every scheme settled with it."""

    def __init__(
        self, ledger: Ledger, period: Period, *, outlet: str | None = None, uploads: list[str] | None = None
    ) -> None:
        self.ledger, self.period, self.outlet, self.uploads = ledger, period, outlet, uploads
        self.lock = threading.RLock()  # held for every use of the ledger connection (runs are stored meanwhile)
        self._compute = Compute()  # the database; each thread uses its own cursor of it
        self._threads = threading.local()
        self._guard = threading.Lock()
        self._filling: dict[Any, threading.Lock] = {}
        self._cache: dict[Any, Any] = {}  # tables read and results derived, shared by the schemes settled together
        objects = {r["name"] for r in ledger.rows(named_query("ledger_objects"))}
        has = {
            "robots": "robots_verdicts" in objects,
            "articles": {"articles", "article_inventory", "url_match_key"} <= objects,
        }
        self.has_robots = has["robots"] and _any_rows(ledger, "robots_verdicts")
        self.robots_query = "robots_latest" if "robots_verdicts_latest" in objects else "robots_latest_table"
        self.has_articles = has["articles"] and _any_rows(ledger, "articles")
        self._fingerprint: str | None = None

    @property
    def compute(self) -> Compute:
        """The in-memory DuckDB of the calling thread (schemes may be allocated on several threads)."""
        found = getattr(self._threads, "compute", None)
        if found is None:
            found = self._threads.compute = self._compute.cursor()
        return found

    def once(self, key: Any, make: Callable[[], Any]) -> Any:
        """The value cached under ``key``, made by the first thread that asks for it (the others wait)."""
        with self._guard:
            lock = self._filling.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    @property
    def base_fingerprint(self) -> str:
        if self._fingerprint is None:
            with self.lock:
                self._fingerprint = ledger_fingerprint(self.ledger)
        return self._fingerprint

    # --- what a scheme needs ------------------------------------------------------------------------------

    def needs(self, scheme: Scheme, weighting: Weighting | None = None) -> Needs:
        w = weighting or scheme.weighting or NEUTRAL
        robots = self.has_robots and scheme.qualifying.robots_multiplier != 1
        return Needs(robots, self.has_articles and w.uses_articles)

    def digests(self, needs: Needs) -> list[str]:
        """Content digests of the optional facts a scheme reads, for its run id."""
        found = []
        with self.lock:
            self.define_views(needs)
            if needs.robots:
                found.append("robots " + self._one("robots_digest"))
            if needs.articles:
                found.append("articles " + self._one("articles_digest"))
        return found

    def _one(self, query: str) -> str:
        return str(self.ledger.rows(named_query(query))[0]["digest"])

    def define_views(self, needs: Needs) -> None:
        """The temporary relations the fetch query reads: the facts this scheme needs, or empty stand-ins.
        Redefined for every query (another Basis on the same connection may have changed them)."""
        robots = self.robots_query if needs.robots else "robots_none"
        self.ledger.execute(f"CREATE OR REPLACE TEMP VIEW _rl_robots AS {named_query(robots)}")
        articles = named_query("articles_latest" if needs.articles else "articles_none")
        params = {"start": self.period.start, "end": self.period.end} if needs.articles else None
        self.ledger.execute(f"CREATE OR REPLACE TEMP TABLE _rl_articles AS {articles}", params)

    # --- qualifying units -----------------------------------------------------------------------------------

    def units(self, scheme: Scheme, weighting: Weighting | None = None) -> pa.Table:
        """outlet, operator, purpose, section, units_e6 (millionths of a unit), fetches."""
        w = weighting or NEUTRAL
        needs = self.needs(scheme, w)
        shared = scheme.refetch == "every" and w.damping == "none" and not needs.articles
        key: tuple[Any, ...] = ("units", _filter_key(scheme, needs), _weight_key(scheme, w, needs))
        params = self.params(scheme, w, needs)
        if not shared:
            return self.once(key, lambda: self._query("basis_units", needs, params))
        keep = {k: params[k] for k in ("robots_multiplier", "purposes", "pw_training", "pw_search", "pw_user")}
        return self.once(key, lambda: self.compute.run("basis_from_cube", {"_cube": self._cube(scheme, needs)}, keep))

    def _cube(self, scheme: Scheme, needs: Needs) -> pa.Table:
        params = self.params(scheme, NEUTRAL, needs)
        params["purposes"] = list(PURPOSES)  # one cube serves schemes with any purposes
        return self.once(("cube", _filter_key(scheme, needs)), lambda: self._query("basis_cube", needs, params))

    def _query(self, name: str, needs: Needs, params: dict[str, Any]) -> pa.Table:
        sql = compose(named_query("qualifying_fetches"), named_query(name))
        used = _PARAMS_OF[name]
        with self.lock:
            self.define_views(needs)
            return self.ledger.arrow(sql, {k: v for k, v in params.items() if k in used})

    def params(self, scheme: Scheme, w: Weighting, needs: Needs) -> dict[str, Any]:
        q = scheme.qualifying
        statuses = sorted({s for low, high in q.statuses for s in range(low, high + 1)})
        steps = w.freshness_steps
        return {
            "start": self.period.start,
            "end": self.period.end,
            "include_undeclared": q.include_undeclared,
            "purposes": list(q.purposes),
            "methods": list(q.methods),
            "statuses": statuses,
            "include_regex": "|".join(f"(?:{p})" for p in q.include_paths),
            "exclude_regex": "|".join(f"(?:{p})" for p in q.exclude_paths),
            "section_patterns": [pattern for pattern, _ in getattr(scheme.params, "section_rates", ())],
            "outlet": self.outlet,
            "uploads": self.uploads,
            **{f"w_{v}": q.weight(v) for v in ("verified", "unverifiable", "unknown", "spoofed")},
            "robots_on": needs.robots,
            "robots_multiplier": q.robots_multiplier,
            **{f"pw_{p}": w.purpose(p) for p in ("training", "search", "user")},
            "terms_on": needs.articles,
            "gamma": float(w.gamma),
            "len_cap": float(w.len_cap),
            "len_ref": float(w.len_ref),
            "freshness": w.freshness,
            "half_life": float(w.half_life_days or 1),
            "step_ages": [float(a) for a, _ in steps] or [0.0],
            "step_weights": [float(x) for _, x in steps] or [1.0],
            "older_weight": float(w.older_weight),
            "refetch": scheme.refetch,
            "cap": Decimal(scheme.cap_per_url or 1),
            "damping": w.damping,
            "damping_k": w.damping_k or Decimal(1),
        }

    # --- other facts ------------------------------------------------------------------------------------------

    def unique_urls(self, scheme: Scheme) -> pa.Table:
        """outlet, operator ('*': all operators together), urls."""
        needs = Needs(self.needs(scheme).robots, False)
        key = ("urls", _filter_key(scheme, needs), _weight_key(scheme, NEUTRAL, needs))
        return self.once(key, lambda: self._query("basis_unique_urls", needs, self.params(scheme, NEUTRAL, needs)))

    def answers(self, scheme: Scheme, window: int, by_ip: bool) -> pa.Table:
        """F11: operator, answer, outlet, units_e6, fetches, first_ts."""
        needs = Needs(self.needs(scheme).robots, False)
        params = {**self.params(scheme, NEUTRAL, needs), "window": window, "by_ip": by_ip}
        return self._query("basis_bursts", needs, params)

    def referrals(self) -> pa.Table:
        """outlet, operator, referrals."""
        params = {"start": self.period.start, "end": self.period.end, "outlet": self.outlet}
        return self.once("referrals", lambda: self._read(named_query("referral_counts"), params))

    def registry(self) -> pa.Table:
        """outlet, fte, regional_fte, group_name, rpm for every registered outlet."""
        return self.once("registry", lambda: self._read(named_query("outlet_registry"), None))

    def _read(self, sql: str, params: dict[str, Any] | None) -> pa.Table:
        with self.lock:
            return self.ledger.arrow(sql, params)


def _any_rows(ledger: Ledger, table: str) -> bool:
    """Whether an optional fact table has rows (``table`` comes from a fixed list, never from input)."""
    return bool(ledger.rows(f"SELECT EXISTS (SELECT 1 FROM {table}) AS found")[0]["found"])


def compose(fragment: str, query: str) -> str:
    """``query`` reading the fetch rows of ``fragment`` as the relation q (both are named queries)."""
    body = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("--")).strip()
    if body.upper().startswith("WITH "):
        return f"WITH q AS ({fragment}),\n{body[5:]}"
    return f"WITH q AS ({fragment})\n{body}"


def _filter_key(scheme: Scheme, needs: Needs) -> tuple[Any, ...]:
    """What decides which fetches qualify and their verification weights: schemes equal here share a cube."""
    q = scheme.qualifying
    sections = tuple(p for p, _ in getattr(scheme.params, "section_rates", ()))
    scan = (q.statuses, q.methods, q.include_paths, q.exclude_paths, q.include_undeclared, sections, needs.robots)
    return (*scan, q.verification_weights)


def _weight_key(scheme: Scheme, w: Weighting, needs: Needs) -> tuple[Any, ...]:
    q = scheme.qualifying
    return (
        q.purposes,
        q.verification_weights,
        q.robots_multiplier,
        w,
        needs.articles,
        scheme.refetch,
        scheme.cap_per_url,
    )


_FETCH_PARAMS = frozenset(
    {
        "start",
        "end",
        "include_undeclared",
        "purposes",
        "methods",
        "statuses",
        "include_regex",
        "exclude_regex",
        "section_patterns",
        "outlet",
        "uploads",
        "w_verified",
        "w_unverifiable",
        "w_unknown",
        "w_spoofed",
        "robots_on",
        "robots_multiplier",
        "pw_training",
        "pw_search",
        "pw_user",
        "terms_on",
        "gamma",
        "len_cap",
        "len_ref",
        "freshness",
        "half_life",
        "step_ages",
        "step_weights",
        "older_weight",
    }
)
_PARAMS_OF = {
    "basis_cube": _FETCH_PARAMS,
    "basis_units": _FETCH_PARAMS | {"refetch", "cap", "damping", "damping_k"},
    "basis_unique_urls": _FETCH_PARAMS,
    "basis_bursts": _FETCH_PARAMS | {"window", "by_ip"},
}
