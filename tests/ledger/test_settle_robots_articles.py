"""The robots.txt violation multiplier and F3's article terms, against migration 002's shapes
(robots_verdicts_latest; article_inventory with url_match_key), and the guards when they are absent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.settle import settle
from ledger.store.db import Ledger
from tests.ledger.settle_helpers import MID_OCTOBER, OCTOBER, amounts, build_ledger, fetch, scheme

ROWS = [fetch("a", path=f"/{i}") for i in range(4)] + [fetch("b", path="/x")]


def judge(ledger: Ledger, outlet: str, verdict: str, when: str = "2026-11-01") -> None:
    """Every fetch of ``outlet`` gets ``verdict`` (a later judgement supersedes an earlier one)."""
    ledger.execute(
        "INSERT INTO robots_verdicts (upload_id, line_no, snapshot_id, verdict, robots_group, directive, computed_at)"
        " SELECT upload_id, line_no, NULL, ?, '*', 'Disallow: /', CAST(? AS TIMESTAMPTZ) FROM fetches WHERE outlet = ?",
        [verdict, when, outlet],
    )


@pytest.mark.parametrize(
    ("multiplier", "expected"),
    [("0", {"b": "1.00"}), ("1", {"a": "4.00", "b": "1.00"}), ("2.5", {"a": "10.00", "b": "1.00"})],
)
def test_robots_violation_multiplier(tmp_path: Path, multiplier: str, expected: dict[str, str]) -> None:
    sch = scheme(f"family = 'per_fetch'\nprice = {{training = 1}}\nrobots_violation_multiplier = {multiplier}")
    with build_ledger(tmp_path / "r.duckdb", ROWS) as ledger:
        judge(ledger, "a", "allowed", "2026-10-20")
        judge(ledger, "a", "disallowed", "2026-11-01")  # the latest verdict counts
        judge(ledger, "b", "no_snapshot")
        paid = {o: a for o, a in amounts(settle(ledger, sch, OCTOBER)).items() if a}
        assert paid == {k: Decimal(v) for k, v in expected.items()}


def test_new_verdicts_change_the_run_of_schemes_that_read_them(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "r.duckdb", ROWS) as ledger:
        reads = scheme("family = 'per_fetch'\nprice = {training = 1}\nrobots_violation_multiplier = 0")
        ignores = scheme("family = 'per_fetch'\nprice = {training = 1}")
        before = (settle(ledger, reads, OCTOBER), settle(ledger, ignores, OCTOBER))
        judge(ledger, "a", "disallowed")
        after = (settle(ledger, reads, OCTOBER), settle(ledger, ignores, OCTOBER))
        assert after[0].run_id != before[0].run_id and after[0].total == Decimal(1)
        assert after[1].run_id == before[1].run_id and after[1].reused


def test_a_ledger_without_robots_verdicts_judges_every_fetch_no_snapshot(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "r.duckdb", ROWS) as ledger:
        ledger.execute("DROP VIEW robots_verdicts_latest")
        ledger.execute("DROP TABLE robots_verdicts")
        run = settle(
            ledger, scheme("family = 'per_fetch'\nprice = {training = 1}\nrobots_violation_multiplier = 0"), OCTOBER
        )
        assert run.total == Decimal(5)


def test_robots_verdicts_table_without_the_view(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "r.duckdb", ROWS) as ledger:
        ledger.execute("DROP VIEW robots_verdicts_latest")
        judge(ledger, "a", "disallowed")
        run = settle(
            ledger, scheme("family = 'per_fetch'\nprice = {training = 1}\nrobots_violation_multiplier = 0"), OCTOBER
        )
        assert run.total == Decimal(1)


def article(ledger: Ledger, url: str, words: int | None, published: object) -> None:
    ledger.execute(
        "INSERT INTO articles (outlet, url, match_key, source, published_at, words, crawled_at)"
        " VALUES ('a', ?, url_match_key(?), 'page', ?, ?, ?)",
        [url, url, published, words, MID_OCTOBER],
    )


WEIGHTED = (
    "family = 'pool_weighted'\npool = 100\ngamma = 1\nlen_ref = 1000\nlen_cap = 2000\n"
    "freshness = 'half_life'\nhalf_life_days = 10"
)


def test_length_and_freshness_terms(tmp_path: Path) -> None:
    rows = [fetch("a", path="/long"), fetch("b", path="/short")]
    with build_ledger(tmp_path / "w.duckdb", rows) as ledger:
        # a: min(4000, 2000)/1000 = 2, published 10 days earlier: x 0.5 -> 1; b: 500/1000 = 0.5, fresh -> 0.5
        article(ledger, "https://a.kz/long", 4000, MID_OCTOBER - timedelta(days=10))
        article(ledger, "https://www.b.kz/short/", 500, MID_OCTOBER)
        run = settle(ledger, scheme(WEIGHTED), OCTOBER)
        assert amounts(run) == {"a": Decimal("66.67"), "b": Decimal("33.33")}


def test_without_an_article_inventory_the_terms_are_one(tmp_path: Path) -> None:
    rows = [fetch("a", path="/long"), fetch("b", path="/short")]
    with build_ledger(tmp_path / "w.duckdb", rows) as ledger:
        assert amounts(settle(ledger, scheme(WEIGHTED), OCTOBER)) == {"a": Decimal("50.00"), "b": Decimal("50.00")}
        ledger.execute("DROP VIEW article_inventory")
        ledger.execute("DROP TABLE articles")
        assert amounts(settle(ledger, scheme(WEIGHTED), OCTOBER)) == {"a": Decimal("50.00"), "b": Decimal("50.00")}


def test_an_article_unknown_to_the_inventory_counts_one(tmp_path: Path) -> None:
    rows = [fetch("a", path="/long"), fetch("b", path="/unknown")]
    with build_ledger(tmp_path / "w.duckdb", rows) as ledger:
        article(ledger, "https://a.kz/long", 4000, MID_OCTOBER)  # 2 x 1
        assert amounts(settle(ledger, scheme(WEIGHTED), OCTOBER)) == {"a": Decimal("66.67"), "b": Decimal("33.33")}
