"""Schemes TOML (ledger/schemes.py): typed frozen objects, every problem reported at once, canonical hashes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.detect.registry import AI_PURPOSES
from ledger.errors import EXIT_CONFIG, InputError, NotFoundError, SchemeError
from ledger.schemes import (
    DEFAULT_EXCLUDE_PATHS,
    FAMILIES,
    Constraints,
    PerFetch,
    PoolProRata,
    Sizing,
    load_schemes,
    parse_schemes,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "ledger" / "examples" / "schemes.toml"

VALID = """
# a comment
[schemes.tariff]
family = "per_fetch"
description = "Flat tariff"
currency = "USD"
price = { training = 2.5, search = 0.1, user = 1 }
operator_multiplier = { OpenAI = 1.2, Anthropic = 0.75 }
refetch = "cap_per_url"
cap_per_url = 3
statuses = ["2xx", 304]
methods = ["get", "HEAD"]
purposes = ["training", "search"]
include_paths = ["^/news/"]
verification_weights = { unverifiable = 0.5, unknown = 0 }

[schemes.pool]
family = "pool_pro_rata"
pool = 50_000_000
admin_fee = 0.05
min_fetches = 50
below_threshold = "retain"
verified_only = true
include_undeclared = true
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(SchemeError) as caught:
        parse_schemes(text)
    return caught.value.problems


def one_problem(body: str) -> str:
    found = problems_of(f"[schemes.s]\n{body}\n")
    assert len(found) == 1, found
    return found[0]


# --- valid files ----------------------------------------------------------------------------------------


def test_valid_file_parses_into_typed_values() -> None:
    parsed = parse_schemes(VALID, "x.toml")
    assert parsed.path == "x.toml"
    assert list(parsed.schemes) == ["tariff", "pool"]
    tariff = parsed.get("tariff")
    assert (tariff.name, tariff.family, tariff.description, tariff.currency, tariff.minor_units) == (
        "tariff",
        "per_fetch",
        "Flat tariff",
        "USD",
        2,
    )
    assert isinstance(tariff.params, PerFetch)
    assert tariff.params.price == (("search", Decimal("0.1")), ("training", Decimal("2.5")), ("user", Decimal(1)))
    assert all(type(v) is Decimal for _, v in tariff.params.price + tariff.params.operator_multiplier)
    assert tariff.params.price_of("training") == Decimal("2.5")
    assert tariff.params.price_of("archive") == 0  # an unpriced purpose is free
    assert tariff.params.multiplier("OpenAI") == Decimal("1.2")
    assert tariff.params.multiplier("Google") == 1  # an operator not listed has multiplier 1
    assert (tariff.refetch, tariff.cap_per_url) == ("cap_per_url", 3)
    q = tariff.qualifying
    assert q.statuses == ((200, 299), (304, 304))
    assert q.methods == ("GET", "HEAD")
    assert q.purposes == ("search", "training")  # a set, kept sorted so order never changes the hash
    assert q.include_paths == ("^/news/",)
    assert q.exclude_paths == DEFAULT_EXCLUDE_PATHS
    assert [q.weight(v) for v in ("verified", "unverifiable", "unknown", "spoofed")] == [1, Decimal("0.5"), 0, 0]
    assert q.include_undeclared is False


def test_pool_scheme_values_and_net_pool() -> None:
    pool = parse_schemes(VALID).get("pool")
    assert isinstance(pool.params, PoolProRata)
    assert pool.sizing == Sizing(
        "fixed", Decimal(50_000_000), "period", levy_threshold=None, offset_ratio=None, admin_fee=Decimal("0.05")
    )
    assert pool.constraints == Constraints(min_fetches=50, below_threshold="retain")
    assert pool.sizing.pool * (1 - pool.sizing.admin_fee) == Decimal("47500000.00")
    assert [pool.qualifying.weight(v) for v in ("verified", "unverifiable", "unknown", "spoofed")] == [1, 0, 0, 0]
    assert pool.qualifying.include_undeclared is True


def test_toml_floats_are_exact_decimals() -> None:
    tariff = parse_schemes("[schemes.t]\nfamily = 'per_fetch'\nprice = {training = 2.5, search = 0.1}\n").get("t")
    assert tariff.params.price_of("training") == Decimal("2.5")
    assert tariff.params.price_of("search") == Decimal("0.1")  # a float would be 0.1000000000000000055...
    assert tariff.params.price_of("search") * 3 == Decimal("0.3")


def test_defaults() -> None:
    s = parse_schemes("[schemes.p]\nfamily = 'pool_pro_rata'\npool = 100\n").get("p")
    assert (s.currency, s.minor_units, s.refetch, s.cap_per_url, s.description) == ("KZT", 2, "every", None, "")
    assert s.sizing == Sizing("fixed", Decimal(100), "period", levy_threshold=None, offset_ratio=None)
    assert s.constraints == Constraints()
    q = s.qualifying
    assert (q.statuses, q.methods, q.purposes, q.include_paths) == (
        ((200, 299),),
        ("GET",),
        tuple(sorted(AI_PURPOSES)),
        (),
    )
    assert [q.weight(v) for v in ("verified", "unverifiable", "unknown", "spoofed")] == [1, 1, 1, 0]


def test_currency_without_minor_units_uses_the_table_or_the_given_value() -> None:
    jpy = parse_schemes("[schemes.j]\nfamily = 'pool_pro_rata'\npool = 1\ncurrency = 'JPY'\n").get("j")
    gold = parse_schemes("[schemes.g]\nfamily = 'pool_pro_rata'\npool = 1\ncurrency = 'XAU'\nminor_units = 3\n")
    assert jpy.minor_units == 0
    assert gold.get("g").minor_units == 3


def test_schemes_are_frozen() -> None:
    tariff = parse_schemes(VALID).get("tariff")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tariff.currency = "EUR"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tariff.params.price = ()  # type: ignore[misc]


def test_load_schemes_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(VALID, encoding="utf-8")
    loaded = load_schemes(path)
    assert loaded.path == str(path)
    assert loaded.get("pool").scheme_hash == parse_schemes(VALID).get("pool").scheme_hash


def test_the_shipped_example_file_is_valid() -> None:
    example = load_schemes(EXAMPLES)
    assert set(example.schemes) == {"tariff", "pool"}


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.toml: cannot read schemes file"):
        load_schemes(tmp_path / "nope.toml")


def test_unknown_scheme_name_suggests_the_closest() -> None:
    with pytest.raises(NotFoundError) as caught:
        parse_schemes(VALID, "x.toml").get("tarif")
    assert str(caught.value) == "unknown scheme 'tarif'; did you mean 'tariff'? known: pool, tariff. Schemes in x.toml."


# --- every problem, with its exact message ---------------------------------------------------------------

PF = "family = 'per_fetch'\nprice = {training = 1}\n"
FAMILY_LIST = ", ".join(FAMILIES)
POOL = "family = 'pool_pro_rata'\npool = 100\n"
PURPOSES_TEXT = "training, search, user, search_engine, seo, archive, other_bot"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            POOL + "admin_fe = 0.1",
            "scheme 's': admin_fe: unknown key; did you mean 'admin_fee'? (allowed for "
            "pool_pro_rata: admin_fee, author_share, below_threshold, beta, cap, cap_per_url, cap_share, cpi, "
            "cpi_base, currency, description, exclude_paths, family, floor, floor_share, group_caps, include_paths, "
            "include_undeclared, levy_rate, levy_threshold, max_units_per_operator, methods, min_fetches, min_fte, "
            "minor_units, offset_ratio, outlet_caps, outlet_floors, pool, pool_per, purposes, refetch, "
            "repertoire_share, robots_violation_multiplier, sizing, statuses, tariff, tariff_rate, "
            "verification_weights, verified_only)",
        ),
        (
            "family = 'per_fech'",
            f"scheme 's': family: 'per_fech'; did you mean 'per_fetch'? (allowed: {FAMILY_LIST})",
        ),
        ("pool = 1", f"scheme 's': family: missing (allowed: {FAMILY_LIST})"),
        (
            "family = 'per_fetch'\nprice = {trainig = 1}",
            f"scheme 's': price.trainig: unknown; did you mean 'training'? (allowed: {PURPOSES_TEXT})",
        ),
        (
            "family = 'per_fetch'",
            "scheme 's': price: per_fetch needs a price table, e.g. price = {training = 2.5, search = 1, user = 0.5}",
        ),
        ("family = 'per_fetch'\nprice = 3", "scheme 's': price: must be a table, e.g. {training = 2.5, search = 1}"),
        ("family = 'per_fetch'\nprice = {training = -1}", "scheme 's': price.training: must be at least 0, got -1"),
        ("family = 'per_fetch'\nprice = {training = 'x'}", "scheme 's': price.training: 'x' is not a number"),
        (
            PF + "operator_multiplier = {OpenAI = -0.5}",
            "scheme 's': operator_multiplier.OpenAI: must be at least 0, got -0.5",
        ),
        ("family = 'pool_pro_rata'", "scheme 's': pool: pool_pro_rata needs pool = <amount>, e.g. pool = 50000000"),
        ("family = 'pool_pro_rata'\npool = true", "scheme 's': pool: must be a number, got True"),
        ("family = 'pool_pro_rata'\npool = nan", "scheme 's': pool: must be at least 0, got NaN"),
        ("family = 'pool_pro_rata'\npool = inf", "scheme 's': pool: must be at least 0, got Infinity"),
        ("family = 'pool_pro_rata'\npool = -5", "scheme 's': pool: must be at least 0, got -5"),
        (POOL + "admin_fee = 1.5", "scheme 's': admin_fee: must be between 0 and 1, got 1.5"),
        (POOL + "min_fetches = -1", "scheme 's': min_fetches: must be a whole number >= 0, got -1"),
        (POOL + "min_fetches = '3'", "scheme 's': min_fetches: must be a whole number >= 0, got '3'"),
        (
            POOL + "below_threshold = 'retian'",
            "scheme 's': below_threshold: 'retian'; did you mean 'retain'? (allowed: redistribute, retain)",
        ),
        (
            PF + "verified_only = true\nverification_weights = {unverifiable = 0.5}",
            "scheme 's': verified_only: give either verified_only or verification_weights, not both",
        ),
        (PF + "verified_only = 'yes'", "scheme 's': verified_only: must be true or false"),
        (
            PF + "verification_weights = {spoofed = 2}",
            "scheme 's': verification_weights.spoofed: must be between 0 and 1, got 2",
        ),
        (
            PF + "verification_weights = {verifed = 1}",
            "scheme 's': verification_weights.verifed: unknown verdict; "
            "did you mean 'verified'? (allowed: verified, spoofed, unverifiable, unknown)",
        ),
        (
            PF + "verification_weights = 1",
            "scheme 's': verification_weights: must be a table such as {verified = 1, unverifiable = 0.5}",
        ),
        (
            PF + "refetch = 'cap_per_url'",
            "scheme 's': cap_per_url: refetch = 'cap_per_url' needs cap_per_url = a whole number >= 1, got None",
        ),
        (
            PF + "refetch = 'cap_per_url'\ncap_per_url = 0",
            "scheme 's': cap_per_url: refetch = 'cap_per_url' needs cap_per_url = a whole number >= 1, got 0",
        ),
        (PF + "cap_per_url = 3", "scheme 's': cap_per_url: only applies with refetch = 'cap_per_url'"),
        (
            PF + "refetch = 'evrey'",
            "scheme 's': refetch: 'evrey'; did you mean 'every'? (allowed: every, unique_url_per_period, cap_per_url)",
        ),
        (PF + "currency = 'usd'", "scheme 's': currency: 'usd' is not an ISO 4217 code such as KZT"),
        (
            PF + "currency = 'XAU'",
            "scheme 's': minor_units: currency XAU is not in the built-in table; give minor_units (e.g. 2)",
        ),
        (PF + "minor_units = 5", "scheme 's': minor_units: must be an integer from 0 to 4, got 5"),
        (PF + "statuses = ['2xx', 'ok']", "scheme 's': statuses: 'ok' is not a status (200) or a class (2xx)"),
        (PF + "methods = 'GET'", "scheme 's': methods: must be a list of strings"),
        (PF + "purposes = ['crawl']", f"scheme 's': purposes: unknown value 'crawl' (allowed: {PURPOSES_TEXT})"),
        (PF + "include_undeclared = 1", "scheme 's': include_undeclared: must be true or false"),
    ],
)
def test_each_problem_has_an_exact_message(body: str, problem: str) -> None:
    assert one_problem(body) == problem


def test_bad_regex_names_the_key_and_the_pattern() -> None:
    assert one_problem(PF + "exclude_paths = ['(']").startswith(
        "scheme 's': exclude_paths: '(' is not a valid regular expression ("
    )


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    text = """
[schemes.a]
family = "pool_pro_rata"
pool = -1
admin_fe = 0.1
below_threshold = "keep"

[schemes.b]
family = "per_fetch"
price = { trainig = 1, search = -2 }
refetch = "cap_per_url"
verified_only = true
verification_weights = { verified = 1 }

[schemes.ok]
family = "per_fetch"
price = { training = 1 }

[schemes.c]
family = "flat"
"""
    found = problems_of(text)
    assert [p.split(":")[0:2] for p in found] == [
        ["scheme 'a'", " admin_fe"],
        ["scheme 'a'", " pool"],
        ["scheme 'a'", " below_threshold"],
        ["scheme 'b'", " verified_only"],
        ["scheme 'b'", " cap_per_url"],
        ["scheme 'b'", " price.trainig"],
        ["scheme 'b'", " price.search"],
        ["scheme 'c'", " family"],
    ]


def test_scheme_error_text_is_exact() -> None:
    with pytest.raises(SchemeError) as caught:
        parse_schemes("[schemes.p]\nfamily = 'pool_pro_rata'\npool = 10\nadmin_fee = 2\nmin_fetches = -3\n", "p.toml")
    error = caught.value
    assert str(error) == (
        "p.toml: 2 problems:\n"
        "  scheme 'p': admin_fee: must be between 0 and 1, got 2\n"
        "  scheme 'p': min_fetches: must be a whole number >= 0, got -3"
    )
    assert (error.path, error.exit_code) == ("p.toml", EXIT_CONFIG)


def test_one_problem_is_singular() -> None:
    with pytest.raises(SchemeError) as caught:
        parse_schemes("[schemes.p]\nfamily = 'flat'\n", "p.toml")
    assert str(caught.value) == f"p.toml: 1 problem:\n  scheme 'p': family: 'flat' (allowed: {FAMILY_LIST})"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", ["no schemes: declare at least one [schemes.<name>] table"]),
        (
            "[scheme.x]\nfamily = 'per_fetch'\n",
            [
                "unknown top-level key 'scheme'; did you mean 'schemes'?; declare schemes as [schemes.<name>] tables",
                "no schemes: declare at least one [schemes.<name>] table",
            ],
        ),
        (
            "[schemes.'bad name']\nfamily = 'pool_pro_rata'\npool = 1\n",
            ["scheme 'bad name': name: use letters, digits, '_', '-' or '.'"],
        ),
        (
            "[schemes.outlet]\nfamily = 'pool_pro_rata'\npool = 1\n",
            ["scheme 'outlet': name: 'outlet' is the comparison table's first column; choose another name"],
        ),
    ],
)
def test_file_level_problems(text: str, problems: list[str]) -> None:
    assert problems_of(text) == problems


def test_invalid_toml_is_one_problem() -> None:
    found = problems_of("[schemes.a\nfamily = 1\n")
    assert len(found) == 1 and found[0].startswith("not valid TOML: ")


def test_a_scheme_that_is_not_a_table_is_a_problem() -> None:
    assert problems_of("[schemes]\nfoo = 1\n") == ["scheme 'foo': (table): must be a table [schemes.foo], got 1"]


def test_a_path_pattern_the_ledger_cannot_run_is_a_problem() -> None:
    # Python's re accepts a lookahead; DuckDB runs the patterns with RE2, which does not.
    found = one_problem(PF + "include_paths = ['^/(?!tag/)']")
    assert found.startswith(
        "scheme 's': include_paths: '^/(?!tag/)' is not a valid regular expression (as the ledger runs it, RE2: "
    )


# --- canonical hash --------------------------------------------------------------------------------------

BASE = "family = 'per_fetch'\nprice = {training = 2.5, search = 1}\noperator_multiplier = {OpenAI = 1.2}\n"


def hash_of(body: str) -> str:
    return parse_schemes(f"[schemes.s]\n{body}\n").get("s").scheme_hash


@pytest.mark.parametrize(
    "same",
    [
        "operator_multiplier = {OpenAI = 1.2}\nprice = {search = 1, training = 2.5}\nfamily = 'per_fetch'\n",
        '# tariff\nfamily   =   "per_fetch"   # F1\n\nprice = { training = 2.5,search = 1 }\n'
        "operator_multiplier={OpenAI=1.2}\n",
        "family = 'per_fetch'\n[schemes.s.price]\ntraining = 2.5\nsearch = 1\n[schemes.s.operator_multiplier]\n"
        "OpenAI = 1.2\n",
        BASE + "currency = 'KZT'\nrefetch = 'every'\nverified_only = false\nmethods = ['get']\n",
        BASE.replace("search = 1", "search = 1.0"),
        BASE.replace("search = 1", "search = 1.00"),
    ],
)
def test_canonical_hash_ignores_layout_order_comments_and_defaults(same: str) -> None:
    assert hash_of(same) == hash_of(BASE)


@pytest.mark.parametrize(
    "change",
    [
        ("2.5", "2.6"),
        ("search = 1", "search = 1.5"),
        ("OpenAI = 1.2", "Anthropic = 1.2"),
        ("family = 'per_fetch'\n", "family = 'per_fetch'\ncurrency = 'USD'\n"),
        ("family = 'per_fetch'\n", "family = 'per_fetch'\nrefetch = 'unique_url_per_period'\n"),
        ("family = 'per_fetch'\n", "family = 'per_fetch'\nverified_only = true\n"),
        ("family = 'per_fetch'\n", "family = 'per_fetch'\nstatuses = ['200']\n"),
        ("family = 'per_fetch'\n", "family = 'per_fetch'\ninclude_undeclared = true\n"),
    ],
)
def test_canonical_hash_changes_with_any_value(change: tuple[str, str]) -> None:
    assert hash_of(BASE.replace(*change)) != hash_of(BASE)


def test_hash_is_a_sha256_of_the_canonical_text() -> None:
    import hashlib

    s = parse_schemes(f"[schemes.s]\n{BASE}").get("s")
    assert s.scheme_hash == hashlib.sha256(s.canonical.encode()).hexdigest()
    assert len(s.scheme_hash) == 64


@pytest.mark.parametrize("same", ["2.50", "2.500", "25e-1"])
def test_canonical_hash_ignores_trailing_zeros_in_fractions(same: str) -> None:
    assert hash_of(BASE.replace("2.5", same)) == hash_of(BASE)


def test_canonical_text_writes_numbers_plainly() -> None:
    canonical = parse_schemes("[schemes.p]\nfamily = 'pool_pro_rata'\npool = 50_000_000\nadmin_fee = 0.050\n")
    assert '"pool":"50000000"' in canonical.get("p").canonical
    assert '"admin_fee":"0.05"' in canonical.get("p").canonical
