"""Schemes files: TOML -> checked, normalised tables -> frozen ``Scheme`` objects with a content hash.

Every problem in a file is collected and reported at once (file, scheme, key, allowed values, a
did-you-mean), never the first one only. A scheme's canonical form is its normalised table (every key,
defaults filled in, numbers written plainly, sets sorted) as compact JSON: comments, layout, key order
and restated defaults do not change it, any value does. The canonical form parses back into the same
scheme (``scheme_from_canonical``), which is how a stored run is re-opened.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger.detect.registry import AI_PURPOSES, PURPOSES
from ledger.errors import InputError, NotFoundError, SchemeError, did_you_mean
from ledger.schemes import catalogue as cat
from ledger.schemes import families as fam
from ledger.schemes import model as m
from ledger.schemes.keys import Problems, boolean, number, regexes, status_texts, statuses, strings

_PAIR_KEYS = {
    "price",
    "operator_multiplier",
    "verification_weights",
    "purpose_weight",
    "outlet_floors",
    "outlet_caps",
    "group_caps",
    "pots",
}


@dataclass(frozen=True)
class SchemeFile:
    path: str
    schemes: dict[str, m.Scheme]
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the file as read, for sweeps

    def get(self, name: str) -> m.Scheme:
        if name not in self.schemes:
            raise NotFoundError("scheme", name, self.schemes, f"Schemes in {self.path}.")
        return self.schemes[name]


def load_schemes(path: Path | str) -> SchemeFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read schemes file: {exc.strerror}", path=path) from exc
    return parse_schemes(text, str(path))


def parse_schemes(text: str, path: str = "schemes.toml") -> SchemeFile:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(path, [f"not valid TOML: {exc}"]) from exc
    return parse_data(data, path)


def parse_data(data: dict[str, Any], path: str = "schemes.toml") -> SchemeFile:
    """Schemes from an already-read TOML document (``{"schemes": {name: table}}``)."""
    problems = Problems()
    for key in sorted(set(data) - {"schemes"}):
        hint = did_you_mean(key, ["schemes"])
        problems.items.append(f"unknown top-level key '{key}'{hint}; declare schemes as [schemes.<name>] tables")
    tables = data.get("schemes", {})
    if not isinstance(tables, dict) or not tables:
        problems.items.append("no schemes: declare at least one [schemes.<name>] table")
        tables = {}
    schemes: dict[str, m.Scheme] = {}
    ordered = sorted(tables.items(), key=lambda kv: _implied(kv[1]))  # tariffs before the pools they size
    for name, table in ordered:
        if not isinstance(table, dict):
            problems.add(name, "(table)", f"must be a table [schemes.{name}], got {table!r}")
            continue
        scheme = build_scheme(name, table, problems, schemes, tables)
        if scheme is not None:
            schemes[name] = scheme
    if problems.items:
        raise SchemeError(path, problems.items)
    return SchemeFile(path, {name: schemes[name] for name in tables}, data)


def _implied(table: Any) -> bool:
    return isinstance(table, dict) and table.get("sizing") == "implied_by_tariff"


def scheme_from_canonical(name: str, canonical: str) -> m.Scheme:
    """The scheme a stored canonical form describes (the inverse of ``Scheme.canonical``)."""
    table = _table_of(json.loads(canonical))
    problems = Problems()
    scheme = build_scheme(name, table, problems, {}, {})
    if scheme is None:
        raise SchemeError(f"stored scheme '{name}'", problems.items)
    return scheme


def _table_of(values: dict[str, Any]) -> dict[str, Any]:
    table = {k: v for k, v in values.items() if v is not None}
    if isinstance(table.get("tariff"), dict):
        table["tariff"] = _table_of(table["tariff"])
    return table


def build_scheme(
    name: str,
    table: dict[str, Any],
    problems: Problems,
    parsed: dict[str, m.Scheme],
    tables: dict[str, Any],
) -> m.Scheme | None:
    before = len(problems)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        problems.add(name, "name", "use letters, digits, '_', '-' or '.'")
    if name == "outlet":
        problems.add(name, "name", "'outlet' is the comparison table's first column; choose another name")
    family = table.get("family")
    if family not in cat.FAMILIES:
        hint = did_you_mean(str(family), cat.FAMILIES) if family else ""
        shown = "missing" if family is None else repr(family)
        problems.add(name, "family", f"{shown}{hint} (allowed: {', '.join(cat.FAMILIES)})")
        return None
    allowed = cat.allowed_keys(family)
    for key in sorted(set(table) - allowed):
        hint = did_you_mean(key, allowed)
        problems.add(name, key, f"unknown key{hint} (allowed for {family}: {', '.join(sorted(allowed))})")
    reader = fam.Reader(name, family, table, problems)
    reader.values["family"] = family
    _common(reader)
    _family(reader)
    tariff = _tariff(reader, parsed, tables) if reader.values.get("sizing") == "implied_by_tariff" else None
    if len(problems) > before:
        return None
    return _assemble(name, family, str(table.get("description", "")), reader.values, tariff)


# --- keys every scheme takes ---------------------------------------------------------------------------------


def _common(r: fam.Reader) -> None:
    currency = str(r.table.get("currency", "KZT"))
    r.values["currency"] = currency
    r.values["minor_units"] = _minor_units(r, currency)
    p, name, t = r.p, r.name, r.table
    r.values["statuses"] = statuses(p, name, t["statuses"]) if "statuses" in t else ((200, 299),)
    methods = strings(p, name, "methods", t.get("methods", ["GET"])) or ("GET",)
    r.values["methods"] = tuple(sorted({x.upper() for x in methods}))
    default_purposes = ["user"] if r.family == "attribution_share" else list(AI_PURPOSES)
    r.values["purposes"] = strings(p, name, "purposes", t.get("purposes", default_purposes), PURPOSES)
    r.values["include_paths"] = regexes(p, name, "include_paths", t.get("include_paths", []))
    r.values["exclude_paths"] = regexes(p, name, "exclude_paths", t.get("exclude_paths", list(m.DEFAULT_EXCLUDE_PATHS)))
    r.values["verification_weights"] = _verification(r)
    undeclared = t.get("include_undeclared", False)
    r.values["include_undeclared"] = boolean(p, name, "include_undeclared", undeclared) if undeclared else False
    r.number("robots_violation_multiplier", Decimal(1), high=Decimal(100), places=6)
    _refetch(r)


def _minor_units(r: fam.Reader, currency: str) -> int:
    if not re.fullmatch(r"[A-Z]{3}", currency):
        r.p.add(r.name, "currency", f"'{currency}' is not an ISO 4217 code such as KZT")
        return 2
    value = r.table.get("minor_units", cat.MINOR_UNITS.get(currency))
    if value is None:
        r.p.add(r.name, "minor_units", f"currency {currency} is not in the built-in table; give minor_units (e.g. 2)")
        return 2
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 4:
        r.p.add(r.name, "minor_units", f"must be an integer from 0 to 4, got {value!r}")
        return 2
    return value


def _verification(r: fam.Reader) -> tuple[tuple[str, Decimal], ...]:
    p, name, t = r.p, r.name, r.table
    weights = dict(m.DEFAULT_WEIGHTS)
    if "verified_only" in t and "verification_weights" in t:
        p.add(name, "verified_only", "give either verified_only or verification_weights, not both")
    if t.get("verified_only") is True:
        weights = {v: Decimal(v == "verified") for v in m.VERIFICATIONS}
    elif "verified_only" in t and not isinstance(t["verified_only"], bool):
        p.add(name, "verified_only", "must be true or false")
    raw = t.get("verification_weights", {})
    if not isinstance(raw, dict):
        p.add(name, "verification_weights", "must be a table such as {verified = 1, unverifiable = 0.5}")
        raw = {}
    for verdict, value in raw.items():
        key = f"verification_weights.{verdict}"
        if verdict not in m.VERIFICATIONS:
            allowed = ", ".join(m.VERIFICATIONS)
            p.add(name, key, f"unknown verdict{did_you_mean(verdict, m.VERIFICATIONS)} (allowed: {allowed})")
            continue
        weight = number(p, name, key, value, high=Decimal(1), places=6)
        if weight is not None:
            weights[verdict] = weight
    return tuple(sorted(weights.items()))


def _refetch(r: fam.Reader) -> None:
    refetch = r.table.get("refetch", "every")
    if refetch not in cat.REFETCH:
        hint = did_you_mean(str(refetch), cat.REFETCH)
        r.p.add(r.name, "refetch", f"{refetch!r}{hint} (allowed: {', '.join(cat.REFETCH)})")
        refetch = "every"
    r.values["refetch"] = refetch
    cap = r.table.get("cap_per_url")
    r.values["cap_per_url"] = None
    if refetch == "cap_per_url":
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            needs = f"refetch = 'cap_per_url' needs cap_per_url = a whole number >= 1, got {cap!r}"
            r.p.add(r.name, "cap_per_url", needs)
        else:
            r.values["cap_per_url"] = cap
    elif cap is not None:
        r.p.add(r.name, "cap_per_url", "only applies with refetch = 'cap_per_url'")


# --- family keys ---------------------------------------------------------------------------------------------


def _family(r: fam.Reader) -> None:
    if r.family == "per_fetch":
        fam.per_fetch(r)
    elif r.family == "referral_gap":
        fam.referral_gap(r)
    elif r.family == "attribution_share":
        fam.attribution_share(r)
    else:
        fam.pool_family(r)


def _tariff(r: fam.Reader, parsed: dict[str, m.Scheme], tables: dict[str, Any]) -> m.Scheme | None:
    ref = r.table.get("tariff")
    if isinstance(ref, dict):  # an inline per_fetch table (this is also how a stored run keeps it)
        inline = build_scheme(f"{r.name}.tariff", {"family": "per_fetch", **ref}, r.p, {}, {})
        if inline is not None and inline.family != "per_fetch":
            r.p.add(r.name, "tariff", "an inline tariff must be a per_fetch table")
        return inline
    if not isinstance(ref, str):
        if ref is not None:
            r.p.add(r.name, "tariff", f"must be the name of a per_fetch scheme in this file, got {ref!r}")
        return None
    if ref in parsed and parsed[ref].family == "per_fetch":
        return parsed[ref]
    kinds = {n: t.get("family") for n, t in tables.items() if isinstance(t, dict)}
    tariffs = sorted(n for n, f in kinds.items() if f == "per_fetch")
    if ref in kinds and kinds[ref] == "per_fetch":
        r.p.add(r.name, "tariff", f"scheme '{ref}' has problems of its own; fix them first")
    elif ref in kinds:
        r.p.add(r.name, "tariff", f"scheme '{ref}' is {kinds[ref]}, not per_fetch (per_fetch schemes: {tariffs})")
    else:
        hint = did_you_mean(ref, tariffs)
        r.p.add(r.name, "tariff", f"no per_fetch scheme '{ref}' in this file{hint} (per_fetch schemes: {tariffs})")
    return None


# --- assembling the typed scheme ---------------------------------------------------------------------------------


def _assemble(name: str, family: str, description: str, v: dict[str, Any], tariff: m.Scheme | None) -> m.Scheme:
    qualifying = m.Qualifying(
        v["statuses"],
        v["methods"],
        v["purposes"],
        v["include_paths"],
        v["exclude_paths"],
        v["verification_weights"],
        v["include_undeclared"],
        v["robots_violation_multiplier"],
    )
    sizing = constraints = None
    if family in cat.POOL_FAMILIES:
        sizing = m.Sizing(**{k: v[k] for k in cat.SIZING_KEYS if k not in ("sizing", "tariff")}, method=v["sizing"])
        sizing = _with_tariff(sizing, tariff)
        constraints = m.Constraints(**{k: v[k] for k in cat.CONSTRAINT_KEYS})
    canonical = json.dumps(_jsonable(v, tariff), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return m.Scheme(
        name,
        family,
        description,
        v["currency"],
        v["minor_units"],
        qualifying,
        v["refetch"],
        v["cap_per_url"],
        _params(family, v),
        sizing,
        constraints,
        canonical,
    )


def _with_tariff(sizing: m.Sizing, tariff: m.Scheme | None) -> m.Sizing:
    from dataclasses import replace

    return replace(sizing, tariff=tariff)


def _weighting(v: dict[str, Any]) -> m.Weighting:
    """The F3 weighting (keys left out, or not applying, keep the neutral defaults)."""
    return m.Weighting(**{k: v[k] for k in cat.WEIGHTING_KEYS if v.get(k) is not None})


def _params(family: str, v: dict[str, Any]) -> m.Params:
    if family == "per_fetch":
        return m.PerFetch(v["price"], v["operator_multiplier"], v["section_rates"])
    if family == "pool_pro_rata":
        return m.PoolProRata()
    if family == "pool_weighted":
        return m.PoolWeighted(_weighting(v))
    if family == "operator_pools":
        return m.OperatorPools(v["basis"], v["lambda_global"], _weighting(v))
    if family == "fte":
        return m.Fte(v["regional_weight"], v["min_journalists"])
    if family == "multi_pot":
        return m.MultiPot(v["pots"], _weighting(v), v["regional_weight"] or Decimal(1))
    if family == "referral_gap":
        return m.ReferralGap(*(v[k] for k in ("mode", "price", "kappa", "max_multiplier", "ratio_ref", "delta")))
    if family == "shapley":
        return m.Shapley(*(v[k] for k in ("value", "method", "min_usage", "quota", "alpha", "samples", "seed")))
    return m.AttributionShare(
        *(v[k] for k in ("rho", "burst_window_seconds", "revenue", "revenue_per_answer", "burst_by"))
    )


def _jsonable(v: dict[str, Any], tariff: m.Scheme | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in v.items():
        if key == "statuses":
            out[key] = status_texts(value)
        elif key == "tariff":
            out[key] = json.loads(tariff.canonical) if tariff is not None else None
        elif key == "section_rates":
            out[key] = [{"path": path, "multiplier": _plain(rate)} for path, rate in value]
        elif key == "freshness_steps":
            out[key] = [[_plain(a), _plain(w)] for a, w in value] if value else None
        elif key in _PAIR_KEYS and isinstance(value, tuple):
            out[key] = {k: _plain(x) for k, x in value}
        elif isinstance(value, tuple):
            out[key] = list(value)
        else:
            out[key] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 2.50, 2.5 and 2.500 are one value: one hash
    return value
