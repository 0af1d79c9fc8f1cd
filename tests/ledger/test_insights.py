"""ledger.insights on a small hand-written ledger: coverage and gaps, the rollup, verification shares,
crawl-to-refer, undeclared traffic; and the cheap HTML pre-test that must give the regex's answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import insights
from ledger.schemes import DEFAULT_EXCLUDE_PATHS
from ledger.store.db import Ledger
from tests.reports.conftest import OCTOBER, build_ledger


@pytest.fixture
def report_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    monkeypatch.chdir(tmp_path)  # uploads keep relative file names
    with Ledger(build_ledger(tmp_path / "insights.duckdb", tmp_path)) as ledger:
        yield ledger


def test_coverage_counts_days_and_gaps(report_ledger: Ledger) -> None:
    cov = insights.coverage(report_ledger, OCTOBER)
    outlets = {r["outlet"]: r for r in cov.outlets.to_pylist()}
    assert (outlets["alpha"]["days_reported"], outlets["alpha"]["days_missing"]) == (3, 28)
    assert outlets["gamma"]["days_reported"] == 0 and outlets["gamma"]["first_day"] is None
    assert cov.outlets["outlet"].to_pylist()[0] == "gamma"  # most missing days first
    gaps = [g for g in cov.gaps.to_pylist() if g["outlet"] == "alpha"]
    assert gaps[:2] == [
        {"outlet": "alpha", "first_missing": date(2026, 10, 3), "last_missing": date(2026, 10, 3), "days": 1},
        {"outlet": "alpha", "first_missing": date(2026, 10, 5), "last_missing": date(2026, 10, 31), "days": 27},
    ]
    uploads = {r["source"]: r for r in cov.uploads.to_pylist()}
    assert uploads["alpha.log"]["lines_rejected"] == 1 and uploads["alpha.log"]["lines_total"] == 28


def test_rollup_verification_and_ratio(report_ledger: Ledger) -> None:
    rollup = insights.usage_rollup(report_ledger, OCTOBER)
    assert sum(rollup.time["fetches"].to_pylist()) == 25  # every AI fetch, declared and undeclared
    verification = {r["operator"]: r for r in insights.verification(rollup).to_pylist()}
    assert verification["ByteDance"]["unverifiable_share"] == Decimal("1.000000")
    assert verification["OpenAI"]["verified_share"] == Decimal("0.684211")  # 13 of 19
    ratio = {r["operator"]: r for r in insights.crawl_to_refer(report_ledger, rollup).to_pylist()}
    assert ratio["Perplexity"] == {
        "operator": "Perplexity",
        "html_fetches": 0,
        "referrals": 1,
        "crawls_per_referral": Decimal("0.0"),
    }
    assert ratio["ByteDance"]["crawls_per_referral"] is None  # nothing referred: no ratio, not infinity
    weekly = insights.usage_rollup(report_ledger, OCTOBER, grain="week").time
    assert set(weekly["bucket"].to_pylist()) == {date(2026, 9, 28)}  # 1, 2 and 4 Oct: the week of Monday 28 Sep


def test_undeclared_and_top_articles(report_ledger: Ledger) -> None:
    undeclared = insights.undeclared(report_ledger, OCTOBER).to_pylist()
    assert [(r["operator"], r["fetches"], r["outlets"], r["addresses"]) for r in undeclared] == [("OpenAI", 3, 1, 1)]
    top = insights.top_articles(report_ledger, OCTOBER, "alpha", limit=1).to_pylist()
    assert top[0]["url"].endswith("/news/budget-2026") and top[0]["fetches"] == 12


@given(st.text(alphabet="/.aeijmnopstxw?-_", max_size=24))
def test_the_cheap_html_test_gives_the_regex_answer(path: str) -> None:
    """Paths without a '.' that do not start with '/sitemap' never match an asset pattern (the SQL skips
    the regex for them)."""
    if "." not in path and not path.startswith("/sitemap"):
        assert not any(re.search(pattern, path) for pattern in DEFAULT_EXCLUDE_PATHS)
