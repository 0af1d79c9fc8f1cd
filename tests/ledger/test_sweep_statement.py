"""Sweeps along a parameter grid, statements re-opened from stored runs, and operators' figures files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import ConfigError, InputError, NotFoundError
from ledger.operators import import_operator_file, operator_figures, read_operator_file
from ledger.schemes import parse_schemes
from ledger.settle import settle
from ledger.statement import statement
from ledger.sweep import Axis, sweep
from tests.ledger.settle_helpers import OCTOBER, build_ledger, fetch, register, scheme

SCHEMES = """
[schemes.pool]
family = "pool_pro_rata"
pool = 1000
admin_fee = 0.1

[schemes.tariff]
family = "per_fetch"
price = { training = 2 }
"""
USAGE = {("a", "OpenAI", "training", "/1"): 3, ("b", "Google", "training", "/2"): 1}


@pytest.mark.parametrize(
    ("text", "path", "values"),
    [
        ("admin_fee=0:0.2:0.1", "admin_fee", ["0", "0.1", "0.2"]),
        ("admin_fee=0:0.25:0.1", "admin_fee", ["0", "0.1", "0.2"]),
        ("price.training=1,2.5,4", "price.training", ["1", "2.5", "4"]),
        ("group_caps.broadcaster = 0.1:0.1:1", "group_caps.broadcaster", ["0.1"]),
    ],
)
def test_axis_parsing(text: str, path: str, values: list[str]) -> None:
    axis = Axis.parse(text)
    assert (axis.path, [format(v.normalize(), "f") for v in axis.values]) == (path, values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("admin_fee", "is not PATH=START:STOP:STEP"),
        ("admin_fee=0:1:0", "STEP must be above 0"),
        ("admin_fee=1:0:0.1", "STOP not below START"),
        ("admin_fee=a:b:c", "the values must be numbers"),
        ("admin_fee=0:100000:1", "has 100,001 points; at most 10,000"),
    ],
)
def test_axis_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Axis.parse(text)


def test_sweep_gives_metrics_and_payouts_along_the_grid(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "s.duckdb", USAGE) as ledger:
        result = sweep(ledger, parse_schemes(SCHEMES), "pool", [Axis.parse("admin_fee=0:1.5:0.5")], OCTOBER)
        points = result.points.to_pylist()
        assert [(p["point"], p["admin_fee"], p["status"]) for p in points][:3] == [
            (1, "0", "ok"),
            (2, "0.5", "ok"),
            (3, "1", "ok"),
        ]
        assert [p["total"] for p in points[:3]] == [Decimal("1000.00"), Decimal("500.00"), Decimal("0.00")]
        assert (
            points[3]["status"]
            == "invalid: schemes.toml: 1 problem: scheme 'pool': admin_fee: must be between 0 and 1, got 1.5"
        )
        payouts = [(r["point"], r["outlet"], r["amount"]) for r in result.payouts.to_pylist()]
        assert payouts[:2] == [(1, "a", Decimal("750.0000")), (1, "b", Decimal("250.0000"))]
        assert ledger.rows("SELECT count(*) AS n FROM settlements")[0]["n"] == 0  # nothing stored


def test_a_two_axis_grid_and_infeasible_points(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "s.duckdb", USAGE) as ledger:
        axes = [Axis.parse("admin_fee=0,0.5"), Axis.parse("floor=100,600")]
        result = sweep(ledger, parse_schemes(SCHEMES), "pool", axes, OCTOBER)
        statuses = [(p["admin_fee"], p["floor"], p["status"][:27]) for p in result.points.to_pylist()]
        assert statuses == [
            ("0", "100", "ok"),
            ("0", "600", "invalid: infeasible floors:"),
            ("0.5", "100", "ok"),
            ("0.5", "600", "invalid: infeasible floors:"),
        ]


def test_statement_traces_an_outlet_to_its_fetches(tmp_path: Path) -> None:
    rows = [fetch("a", path="/1")] * 3 + [fetch("a", "Google", path="/2", verification="unverifiable")] + [fetch("b")]
    with build_ledger(tmp_path / "t.duckdb", rows) as ledger:
        run = settle(
            ledger,
            scheme(
                "family = 'pool_pro_rata'\npool = 100\nadmin_fee = 0.2\nverification_weights = {unverifiable = 0.5}"
            ),
            OCTOBER,
        )
        found = statement(ledger, run.run_id, "a")
        header = dict(zip(found.header["name"].to_pylist(), found.header["value"].to_pylist(), strict=True))
        assert header["total"] == "80.00" and header["fact.pool.net"] == "80"
        assert "pay[i] = P_net x U[i] / sum_j U[j]" in header["formula"]
        assert header["evidence"] == "recounted from the ledger: matches the run"
        assert found.verified is True
        assert found.lines.to_pylist() == [
            {
                "outlet": "a",
                "operator": "OpenAI",
                "basis_units": Decimal("3.000000"),
                "fetches": 3,
                "amount": Decimal("53.3300"),
                "currency": "KZT",
            },
            {
                "outlet": "a",
                "operator": "Google",
                "basis_units": Decimal("0.500000"),
                "fetches": 1,
                "amount": Decimal("8.8900"),
                "currency": "KZT",
            },
        ]
        evidence = [
            (r["operator"], r["verification"], r["robots"], r["fetches"], r["weighted"])
            for r in found.evidence.to_pylist()
        ]
        assert evidence == [
            ("Google", "unverifiable", "no_snapshot", 1, Decimal("0.500000")),
            ("OpenAI", "verified", "no_snapshot", 3, Decimal("3.000000")),
        ]
        shares = found.shares.to_pylist()
        assert [(s["pot"], s["outlet"], s["key_value"], s["key_total"], s["amount"]) for s in shares] == [
            ("pool", "a", Decimal("3.500000"), Decimal("4.500000"), Decimal("62.2200"))
        ]
        everyone = statement(ledger, run.run_id)
        assert everyone.evidence is None and everyone.outlets.num_rows == 2


def test_statement_errors(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "t.duckdb", USAGE) as ledger:
        run = settle(ledger, scheme("family = 'pool_pro_rata'\npool = 1"), OCTOBER)
        with pytest.raises(NotFoundError, match="unknown run 'nope'"):
            statement(ledger, "nope")
        with pytest.raises(NotFoundError, match="unknown outlet 'zz'"):
            statement(ledger, run.run_id, "zz")


def test_operator_files_report_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "ops.csv"
    bad.write_text(
        "operator,period,currency,revenue,deals\nOpenAI,2026-13,KZT,10,\n,2026,kzt,-5,x\nOpenAI,2026-13,KZT,1,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_operator_file(bad)
    assert str(caught.value) == (
        f"{bad}: 6 problems:\n"
        "  line 2: period '2026-13' is not a month (2026-10) or a year (2026)\n"
        "  line 3: column 'operator' is empty\n"
        "  line 3: currency 'kzt' is not an ISO 4217 code such as KZT\n"
        "  line 3: column 'revenue' must be zero or more, got -5\n"
        "  line 3: column 'deals': 'x' is not a number\n"
        "  line 4: period '2026-13' is not a month (2026-10) or a year (2026)"
    )
    header = tmp_path / "h.csv"
    header.write_text("operator,period,curency\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing columns \\['currency'\\]"):
        read_operator_file(header)


def test_operator_imports_supersede_and_toml_works(tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text("operator,period,currency,revenue\nOpenAI,2026,KZT,100\nGoogle,2026,KZT,5\n", encoding="utf-8")
    second = tmp_path / "b.toml"
    second.write_text(
        '[[operator]]\noperator = "OpenAI"\nperiod = "2026"\ncurrency = "KZT"\nrevenue = 250.5\n', encoding="utf-8"
    )
    with build_ledger(tmp_path / "o.duckdb", USAGE) as ledger:
        assert import_operator_file(ledger, first) == (1, 2)
        assert import_operator_file(ledger, first) == (0, 2)  # the same figures again: nothing new
        assert import_operator_file(ledger, second) == (2, 1)
        assert [(r.operator, r.revenue) for r in operator_figures(ledger)] == [
            ("Google", Decimal(5)),
            ("OpenAI", Decimal("250.5")),
        ]
        assert ledger.rows("SELECT count(*) AS n FROM operator_inputs")[0]["n"] == 3  # the old row stays


def test_outlet_registry_keeps_rpm_and_checks_groups(tmp_path: Path) -> None:
    with build_ledger(tmp_path / "r.duckdb", USAGE) as ledger:
        register(ledger, "a", rpm=123.5, group="public_broadcaster")
        assert ledger.rows("SELECT rpm, group_name FROM outlets WHERE slug = 'a'") == [
            {"rpm": Decimal("123.5000"), "group_name": "public_broadcaster"}
        ]
        with pytest.raises(ConfigError, match="group 'Public Broadcaster' must be lower case letters"):
            register(ledger, "a", group="Public Broadcaster")
        with pytest.raises(ConfigError, match="rpm must be zero or more"):
            register(ledger, "a", rpm=-1)


def test_statement_of_operator_pools_shows_key_values_in_units(tmp_path: Path) -> None:
    rows = [fetch("a", path="/1")] * 3 + [fetch("b", "Google", path="/2")]
    with build_ledger(tmp_path / "o.duckdb", rows) as ledger:
        run = settle(ledger, scheme("family = 'operator_pools'\npool = 100\nlambda_global = 0.5"), OCTOBER)
        found = statement(ledger, run.run_id, "a")
        shares = {s["pot"]: (s["key_value"], s["key_total"], s["key_share"]) for s in found.shares.to_pylist()}
        assert shares == {
            "global": (Decimal(3), Decimal(4), Decimal("0.75")),
            "op:OpenAI": (Decimal(3), Decimal(3), Decimal(1)),
        }
        assert found.verified is True
