"""The schemes commands end to end: validate, explain, settle/compare with every output, sweep, statement,
operators import/list; exit codes and exact messages."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ledger.errors import EXIT_CONFIG, EXIT_INPUT, EXIT_NOT_FOUND
from tests.conftest import IMC as IMC_PATH

IMC = str(IMC_PATH)
ROOT = Path(__file__).resolve().parents[2]
SCHEMES = """
[schemes.tariff]
family = "per_fetch"
price = { training = 5.00, search = 2.50, user = 1.00 }

[schemes.pool]
family = "pool_pro_rata"
pool = 1000
admin_fee = 0.1

[schemes.levy]
family = "pool_pro_rata"
sizing = "levy"
levy_rate = 0.0225
"""


@pytest.fixture
def loaded(cli, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    assert cli("outlets", "add", "websitec", "--name", "Website C", "--domain", "websitec.com").code == 0
    assert cli("outlets", "add", "other", "--name", "Other", "--domain", "other.kz", "--fte", "4").code == 0
    assert cli("ingest", IMC, "--outlet", "websitec", "--json").code == 0
    schemes = tmp_path / "schemes.toml"
    schemes.write_text(SCHEMES)
    figures = tmp_path / "ops.csv"
    figures.write_text("operator,period,currency,revenue\nOpenAI,2024-10,KZT,10000\n")
    assert cli("operators", "import", str(figures)).code == 0
    return schemes


def test_validate_lists_the_schemes(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("schemes", "validate", str(ROOT / "ledger" / "examples" / "schemes-catalogue.toml"))
    assert result.code == 0
    assert [line.split("\t")[0] for line in result.out.splitlines()][:3] == ["tariff", "pool_fixed", "weighted"]
    assert "10 schemes, no problems" in result.err


def test_validate_reports_every_problem(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text(
        "[schemes.a]\nfamily = 'pool_pro_rata'\nsizing = 'levy'\n"
        "[schemes.b]\nfamily = 'fte'\npool = 1\nregional_wieght = 2\n"
    )
    result = cli("schemes", "validate", str(bad))
    assert result.code == EXIT_CONFIG
    assert "2 problems:" in result.err
    assert "scheme 'a': levy_rate: sizing = 'levy' needs levy_rate" in result.err
    assert "scheme 'b': regional_wieght: unknown key; did you mean 'regional_weight'?" in result.err
    assert "Traceback" not in result.err


def test_explain(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("schemes", "explain", str(ROOT / "ledger" / "examples" / "schemes-catalogue.toml"), "levy")
    assert result.code == 0
    assert "C[o] = 1[rev_o >= 1000000000] x max(0, 0.0225 x rev_o - 1 x deals_o)" in result.out
    missing = cli("schemes", "explain", str(ROOT / "ledger" / "examples" / "schemes-catalogue.toml"), "levi")
    assert missing.code == EXIT_NOT_FOUND and "did you mean 'levy'?" in missing.err


def test_settle_with_from_and_to(cli, loaded: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "settle",
        "--schemes",
        str(loaded),
        "--scheme",
        "levy",
        "--from",
        "2024-10-01",
        "--to",
        "2024-10-31",
        "-f",
        "json",
    )
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert rows[0]["outlet"] == "websitec" and rows[0]["amount"] == "225.00"  # 2.25% of 10,000
    assert set(rows[0]) == {"outlet", "basis_units", "fetches", "amount", "currency", "share", "author_amount"}
    no_period = cli("settle", "--schemes", str(loaded), "--scheme", "pool")
    assert no_period.code == EXIT_CONFIG and "name the period" in no_period.err


def test_compare_writes_every_table(cli, loaded: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "cmp.parquet"
    result = cli("compare", "--schemes", str(loaded), "--period", "2024-10", "-o", str(out))
    assert result.code == 0, result.err
    for name in ("metrics", "lorenz", "pairs", "deltas", "outlets"):
        assert (tmp_path / f"cmp.{name}.parquet").exists()
    assert pq.read_table(out).column_names == ["outlet", "tariff", "pool", "levy"]
    assert pq.read_table(tmp_path / "cmp.pairs.parquet").num_rows == 3
    document = json.loads(cli("compare", "--schemes", str(loaded), "--period", "2024-10", "-f", "json").out)
    assert set(document) == {"period", "payouts", "metrics", "lorenz", "pairs", "deltas", "outlets"}
    pairs = list(
        csv.DictReader(
            io.StringIO(
                cli("compare", "--schemes", str(loaded), "--period", "2024-10", "--table", "pairs", "-f", "csv").out
            )
        )
    )
    assert [(p["scheme_a"], p["scheme_b"]) for p in pairs] == [("tariff", "pool"), ("tariff", "levy"), ("pool", "levy")]
    bad = cli("compare", "--schemes", str(loaded), "--period", "2024-10", "--table", "pair")
    assert bad.code == EXIT_CONFIG and "did you mean 'pairs'?" in bad.err


def test_sweep(cli, loaded: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("sweep", str(loaded), "pool", "--param", "admin_fee=0:0.2:0.1", "--period", "2024-10", "-f", "csv")
    assert result.code == 0, result.err
    points = list(csv.DictReader(io.StringIO(result.out.split("\n\n")[0])))
    assert [(p["admin_fee"], p["status"], p["total"]) for p in points] == [
        ("0", "ok", "1000.00"),
        ("0.1", "ok", "900.00"),
        ("0.2", "ok", "800.00"),
    ]
    assert "3 points (0 not settled)" in result.err
    bad = cli("sweep", str(loaded), "pool", "--param", "admin_fee", "--period", "2024-10")
    assert bad.code == EXIT_CONFIG and "is not PATH=START:STOP:STEP" in bad.err


def test_statement(cli, loaded: Path) -> None:  # type: ignore[no-untyped-def]
    settled = cli("settle", "--schemes", str(loaded), "--scheme", "pool", "--period", "2024-10")
    run_id = re.search(r"run (\w+)", settled.err).group(1)  # type: ignore[union-attr]
    result = cli("statement", run_id, "--outlet", "websitec", "-f", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert set(document) == {"header", "outlets", "shares", "lines", "evidence"}
    header = {row["name"]: row["value"] for row in document["header"]}
    assert header["evidence"] == "recounted from the ledger: matches the run"
    counted = sum(int(e["fetches"]) for e in document["evidence"] if e["weighted"] != "0.000000")  # spoofed weigh 0
    assert counted == sum(int(line["fetches"]) for line in document["lines"])
    missing = cli("statement", "nope")
    assert missing.code == EXIT_NOT_FOUND and "unknown run 'nope'" in missing.err


def test_operators_import_errors_and_list(cli, loaded: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    listed = json.loads(cli("operators", "list", "-f", "json").out)
    assert listed == [
        {
            "operator": "OpenAI",
            "period": "2024-10",
            "currency": "KZT",
            "revenue": "10000.0000",
            "deals": None,
            "payment": None,
            "value_of_news": None,
            "repertoire_share": None,
        }
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("operator,period,currency,revenue\nOpenAI,24-10,KZT,x\n")
    result = cli("operators", "import", str(bad))
    assert result.code == EXIT_INPUT
    assert "2 problems" in result.err and "line 2: column 'revenue': 'x' is not a number" in result.err
