"""Several schemes settled together (allocated two at a time, stored in the background) give exactly what
each gives alone; an error in one stores nothing; per-operator pots and the shared caches of the basis."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import ConfigError
from ledger.settle import Basis, settle, settle_many
from ledger.store.db import Ledger
from tests.ledger.settle_helpers import (
    OCTOBER,
    add_referrals,
    amounts,
    assert_consistent,
    build_ledger,
    figures,
    register,
    scheme,
)

HEADER = "operator,period,currency,revenue,deals,payment,value_of_news,repertoire_share\n"
FIGURES = HEADER + "OpenAI,2026-10,KZT,1000,,100,,\nGoogle,2026-10,KZT,800,,50,,\n"
USAGE = {
    ("a", "OpenAI", "training", "/1"): 5,
    ("a", "Google", "search", "/2"): 2,
    ("b", "OpenAI", "training", "/3"): 3,
    ("b", "Perplexity", "user", "/4"): 4,
    ("c", "Google", "training", "/5"): 1,
    ("c", "OpenAI", "user", "/6"): 2,
}
SCHEMES = [
    ("tariff", "family = 'per_fetch'\nprice = {training = 1.1, search = 0.7, user = 0.3}"),
    ("pool", "family = 'pool_pro_rata'\npool = 1000\ncap_share = 0.45"),
    ("ops", "family = 'operator_pools'\nsizing = 'payments'\nlambda_global = 0.3"),
    ("corint", "family = 'multi_pot'\npool = 777\npots = {equal = 0.2, fetches = 0.5, referrals = 0.3}"),
    ("shapley", "family = 'shapley'\nsizing = 'payments'"),
    ("answers", "family = 'attribution_share'\nrho = 0.5\nrevenue_per_answer = 3"),
    ("gap", "family = 'referral_gap'\nprice = 2\nkappa = 1"),
]
TRACES = ("settlements", "payouts", "settlement_outlets", "settlement_shares", "settlement_pots", "settlement_facts")


def _ledger(path: Path, tmp: Path) -> Ledger:
    ledger = build_ledger(path, USAGE)
    figures(ledger, tmp, FIGURES)
    add_referrals(ledger, [("a", "OpenAI", 2), ("b", "Perplexity", 1)])
    for slug, fte in (("a", 10), ("b", 3), ("c", 1)):
        register(ledger, slug, fte=fte)
    return ledger


def _traces(ledger: Ledger) -> dict[str, list[tuple[object, ...]]]:
    found = {}
    for table in TRACES:
        columns = "* EXCLUDE (created_at)" if table == "settlements" else "*"
        found[table] = ledger.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
    return found


def test_settling_together_gives_what_each_scheme_gives_alone(tmp_path: Path) -> None:
    schemes = [scheme(body, name) for name, body in SCHEMES]
    together, alone = _ledger(tmp_path / "together.duckdb", tmp_path), _ledger(tmp_path / "alone.duckdb", tmp_path)
    with together, alone:
        runs = settle_many(together, schemes, OCTOBER)
        singles = [settle(alone, s, OCTOBER) for s in schemes]
        assert [r.run_id for r in runs] == [r.run_id for r in singles]
        assert [r.payouts for r in runs] == [r.payouts for r in singles]
        assert _traces(together) == _traces(alone)
        for run in runs:
            assert_consistent(together, run)
        memory = settle_many(together, schemes, OCTOBER, store=False)
        assert [amounts(m) for m in memory] == [{o: a for o, a in amounts(r).items() if a} for r in runs]


def test_an_error_in_one_scheme_stores_no_run(tmp_path: Path) -> None:
    good = scheme("family = 'pool_pro_rata'\npool = 100", "good")
    floors = scheme("family = 'pool_pro_rata'\npool = 100\nfloor = 60", "floors")  # 3 x 60 > 100
    no_figures = scheme("family = 'pool_pro_rata'\nsizing = 'nash'\nbeta = 0.1", "nash")
    with _ledger(tmp_path / "e.duckdb", tmp_path) as ledger:
        with pytest.raises(ConfigError, match="infeasible floors"):  # the first failing scheme in order
            settle_many(ledger, [good, floors, good, no_figures], OCTOBER)
        assert ledger.rows("SELECT count(*) AS n FROM settlements")[0]["n"] == 0
        assert ledger.rows("SELECT count(*) AS n FROM payouts")[0]["n"] == 0
        assert settle(ledger, good, OCTOBER).total == Decimal("100.00")  # the ledger is usable afterwards


def test_an_operator_with_usage_but_no_figures_has_no_pot_of_its_own(tmp_path: Path) -> None:
    # payments: OpenAI 100 only. Global pot 50 by fetches (a: 3 OpenAI, b: 1 Google) -> 37.50 and 12.50;
    # OpenAI's pot 50 by its own usage -> all to a. Google pays nothing and has no pot.
    rows = {("a", "OpenAI", "training", "/x"): 3, ("b", "Google", "training", "/g"): 1}
    with build_ledger(tmp_path / "o.duckdb", rows) as ledger:
        figures(ledger, tmp_path, HEADER + "OpenAI,2026-10,KZT,,,100,,\n")
        run = settle(ledger, scheme("family = 'operator_pools'\nsizing = 'payments'\nlambda_global = 0.5"), OCTOBER)
        assert amounts(run) == {"a": Decimal("87.50"), "b": Decimal("12.50")}
        assert (run.total, run.retained) == (Decimal("100.00"), Decimal("0.00"))
        pots = {r["pot"] for r in ledger.rows("SELECT pot FROM settlement_pots WHERE run_id = ?", [run.run_id])}
        assert pots == {"global", "op:OpenAI"}
        assert_consistent(ledger, run)


def test_a_cached_value_is_made_once_whatever_the_threads(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "b.duckdb", USAGE) as ledger:
        basis = Basis(ledger, OCTOBER)
        made: list[int] = []
        start = threading.Barrier(8)

        def make() -> int:
            made.append(1)
            return len(made)

        def ask() -> None:
            start.wait()
            assert basis.once("key", make) == 1

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert made == [1]
        computes = []
        worker = threading.Thread(target=lambda: computes.append(basis.compute))
        worker.start()
        worker.join()
        assert computes[0] is not basis.compute and basis.compute is basis.compute  # one connection per thread
