"""The CLI contract: names, options, output formats, exit codes, and that every command is documented."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from ledger.errors import EXIT_CONFIG, EXIT_INPUT, EXIT_LEDGER, EXIT_NOT_FOUND
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
"""


@pytest.fixture
def loaded(cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    assert cli("outlets", "add", "websitec", "--name", "Website C", "--domain", "websitec.com").code == 0
    assert cli("outlets", "add", "other", "--name", "Other", "--domain", "other.kz", "--fte", "4").code == 0
    result = cli("ingest", IMC, "--outlet", "websitec", "--json")
    assert result.code == 0, result.err
    schemes = tmp_path / "schemes.toml"
    schemes.write_text(SCHEMES)
    return schemes


def test_version(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("--version")
    assert result.code == 0 and re.fullmatch(r"royalty \d+\.\d+\.\d+\n", result.out)


def test_ingest_json_prints_one_object_per_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("outlets", "add", "websitec", "--name", "Website C", "--domain", "websitec.com")
    first = cli("ingest", IMC, "--outlet", "websitec", "--json")
    copy = tmp_path / "renamed.log"
    copy.write_bytes(Path(IMC).read_bytes())
    again = cli("ingest", IMC, str(copy), IMC, "--outlet", "websitec", "--json")  # IMC twice: read once
    record = json.loads(first.out)
    assert list(record) == [
        "upload_id",
        "source",
        "outlet",
        "format",
        "lines",
        "parsed",
        "rejected",
        "ai_fetches",
        "duplicate_upload",
        "skipped",
        "null_runs",
        "null_bytes",
        "null_cuts",
    ]
    assert (record["lines"], record["parsed"], record["rejected"], record["ai_fetches"]) == (4141, 4141, 0, 165)
    assert record["duplicate_upload"] is False
    dupes = [json.loads(x) for x in again.out.splitlines()]
    assert [d["duplicate_upload"] for d in dupes] == [True, True]
    assert {d["upload_id"] for d in dupes} == {record["upload_id"]}
    assert first.err == ""  # machine output on stdout, nothing else in a pipe


def test_usage_formats(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    as_json = json.loads(cli("usage", "--by", "operator,bot", "--format", "json").out)
    assert {"operator": "OpenAI", "bot": "GPTBot", "fetches": 66, "unique_urls": 10} in as_json
    rows = list(csv.DictReader(io.StringIO(cli("usage", "--period", "2024-10", "--by", "day", "-f", "csv").out)))
    assert [r["day"] for r in rows] == ["2024-10-31", "2024-10-29", "2024-10-30"]
    assert sum(int(r["fetches"]) for r in rows) == 117
    table = cli("usage", "--by", "purpose")
    assert table.code == 0 and "training" in table.out and "fetches" in table.out


def test_usage_to_file_by_suffix(cli, loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "u.parquet"
    assert cli("usage", "-o", str(out)).code == 0
    import pyarrow.parquet as pq

    assert pq.read_table(out).column_names == ["outlet", "operator", "fetches", "unique_urls"]


def test_settle_prints_run_id_and_rows(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    first = cli("settle", "--schemes", str(loaded), "--scheme", "pool", "--period", "2024-10", "-f", "json")
    second = cli("settle", "--schemes", str(loaded), "--scheme", "pool", "--period", "2024-10", "-f", "json")
    assert first.code == 0, first.err
    run_id = re.search(r"run (\w+) \(new run\)", first.err)
    assert run_id and f"run {run_id.group(1)} (reused stored run)" in second.err
    assert first.out == second.out
    rows = json.loads(first.out)
    assert [r["outlet"] for r in rows] == ["websitec"]
    assert rows[0]["amount"] == "900.00" and rows[0]["currency"] == "KZT"
    assert set(rows[0]) >= {"outlet", "amount", "currency", "basis_units"}


def test_compare_json_has_payouts_and_metrics(cli, loaded) -> None:  # type: ignore[no-untyped-def]
    result = cli("compare", "--schemes", str(loaded), "--period", "2024-10", "--format", "json")
    document = json.loads(result.out)
    assert [m["scheme"] for m in document["metrics"]] == ["tariff", "pool"]
    assert {p["outlet"] for p in document["payouts"]} == {"websitec", "other"}
    pool = {p["outlet"]: p["pool"] for p in document["payouts"]}
    assert pool == {"websitec": "900.00", "other": "0.00"}
    metrics = {m["scheme"]: m for m in document["metrics"]}
    assert metrics["pool"]["gini"] == "0.5000" and metrics["pool"]["hhi"] == "10000.0"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["usage", "--period", "2026-13"], EXIT_CONFIG, "--period: '2026-13' is not a month"),
        (["usage", "--by", "outlet,operatr"], EXIT_CONFIG, "did you mean 'operator'?"),
        (
            ["settle", "--schemes", "{schemes}", "--scheme", "poll", "--period", "2024-10"],
            EXIT_NOT_FOUND,
            "unknown scheme 'poll'; did you mean 'pool'?",
        ),
        (["ingest", "{garbage}", "--outlet", "websitec"], EXIT_INPUT, "no known log format matches line 1"),
        (
            ["ingest", "{garbage}", "--outlet", "websitec", "--format", "common"],
            EXIT_INPUT,
            "no line parses as the 'common' format from line 1 on",
        ),
        (["ingest", IMC, "--outlet", "nope"], EXIT_NOT_FOUND, "unknown outlet 'nope'"),
        (["usage", "--period", "9999-12"], EXIT_CONFIG, "'9999-12' is outside the months a ledger holds"),
        (["referrals", "--from", "9998-12-31", "--to", "9999-12-31"], EXIT_CONFIG, "'9999-12-31' is outside the"),
        (["outlets", "add", "Bad Slug", "--name", "x", "--domain", "x.kz"], EXIT_CONFIG, "slug 'Bad Slug' must be"),
        (["outlets", "add", "x", "--name", "x", "--domain", "x.kz", "--rpm", "2,40"], EXIT_CONFIG, "--rpm must be a"),
        (["outlets", "add", "x", "--name", "x", "--domain", "x.kz", "--fte", "-1"], EXIT_CONFIG, "fte must be zero"),
        # numbers beyond what the step takes: an internal OverflowError or ValueError before these bounds
        (["verify", "--rdns", "--max-age", "99999999"], 2, "'--max-age': 99999999 is not in the range 0<=x<=36500"),
        (["demo", "--seed", "-1", "--dir", "{garbage}.demo"], 2, "'--seed': -1 is not in the range x>=0"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(cli, loaded, tmp_path: Path, args, code, message) -> None:  # type: ignore[no-untyped-def]
    garbage = tmp_path / "garbage.log"
    garbage.write_bytes(b"\x00\x01 not a log\n" * 3)
    argv = [a.format(schemes=loaded, garbage=garbage) for a in args]
    result = cli(*argv)
    assert result.code == code, result.err
    assert message in result.err
    assert "Traceback" not in result.err


def test_outlet_numbers_are_stored_exactly_or_refused(cli) -> None:  # type: ignore[no-untyped-def]
    added = cli("outlets", "add", "q", "--name", "Q", "--domain", "q.kz", "--fte", "12.5", "--rpm", "0.1")
    assert added.code == 0, added.err
    listed = cli("outlets", "list", "--format", "json")
    [row] = json.loads(listed.out)
    assert (row["fte"], row["rpm"], row["regional_fte"]) == ("12.50", "0.1000", None)  # at the ledger's scale
    too_fine = cli("outlets", "add", "r", "--name", "R", "--domain", "r.kz", "--rpm", "0.00001")
    assert too_fine.code == EXIT_CONFIG and "rpm 0.00001 does not fit the ledger's 4 decimal places" in too_fine.err


def test_reading_a_missing_ledger_is_an_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("usage", db_path=tmp_path / "absent.duckdb")
    assert result.code == EXIT_LEDGER and "no ledger here yet" in result.err


def test_outlets_import_and_list(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "outlets.csv"
    path.write_text("slug,name,domains,country,fte\ndala,Dala News,dala.kz;www.dala.kz,KZ,12.5\nkt,KT,kt.kz,KZ,\n")
    assert cli("outlets", "import", str(path)).code == 0
    listed = json.loads(cli("outlets", "list", "-f", "json").out)
    assert [(o["slug"], o["domains"], o["fte"]) for o in listed] == [
        ("dala", "dala.kz", "12.50"),
        ("kt", "kt.kz", None),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("slug,name,domains,fte\nok,Ok,ok.kz,1\nbad,Bad,bad.kz,many\n")
    result = cli("outlets", "import", str(bad))
    assert result.code == EXIT_INPUT and "bad.csv:3: column 'fte': 'many' is not a number" in result.err


def _commands() -> list[str]:
    from royalty.cli import app

    names = []
    for info in app.registered_commands:
        names.append(info.name or "")
    for group in app.registered_groups:
        for info in group.typer_instance.registered_commands:  # type: ignore[union-attr]
            names.append(f"{group.name} {info.name}")
    return names


def test_every_command_is_documented_with_an_example(cli) -> None:  # type: ignore[no-untyped-def]
    docs = (ROOT / "README.md").read_text() + (ROOT / "docs" / "cli.md").read_text()
    for command in _commands():
        assert f"royalty {command}" in docs, f"'royalty {command}' is not in README.md or docs/cli.md"
        help_text = cli(*command.split(), "--help").out
        assert "Example: royalty" in help_text, f"'royalty {command} --help' has no example"
