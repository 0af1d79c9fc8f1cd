"""The scheme comparison report (`royalty report compare`): golden files of its tables, the hand-counted
numbers behind them, the chosen pair, the sweep, empty periods in every language, the CLI, and the page in
a real headless Chromium.

The ledger is small and hand-written: five outlets with different mixes of AI fetches (OpenAI's GPTBot,
OAI-SearchBot and ChatGPT-User, Anthropic's ClaudeBot, all from their published ranges), a spoofed GPTBot
claim and an asset (neither qualifies), AI referrals, and a sixth outlet registered without logs. The
schemes file has four schemes of four families. Regenerate the golden files after an intended change with
ROYALTY_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from ledger.errors import EXIT_CONFIG, EXIT_NOT_FOUND, ConfigError, NotFoundError
from ledger.ingest import ingest_paths
from ledger.outlets import Outlet, save_outlets, validate_outlet
from ledger.period import Period
from ledger.schemes import parse_schemes
from ledger.settle import load_run
from ledger.store.db import Ledger
from ledger.sweep import Axis
from reports import charts
from reports.compare import _sweep_charts, build_compare
from reports.export import to_csv, to_json
from reports.html import render
from reports.i18n import Locale
from reports.model import Chart, Report, Section, Series
from reports.publish import manifest, write_report
from tests.reports.conftest import EMPTY, GENERATED_AT, OCTOBER
from tests.reports.test_browser import ARTIFACTS, _open
from tests.reports.test_golden import _same, _Tables

GOLDEN = Path(__file__).parent / "golden" / "compare"
UPDATE = os.environ.get("ROYALTY_UPDATE_GOLDEN") == "1"
# Columns that follow the ledger's and the schemes parser's versions rather than the data: checked apart.
VOLATILE = {"metrics": ("run_id",), "schemes": ("run_id", "scheme_hash")}

SCHEMES = """
[schemes.tariff]
family = "per_fetch"
description = "A tariff per qualifying fetch"
price = { training = 100, search = 50, user = 20 }
operator_multiplier = { OpenAI = 1.2 }

[schemes.pool]
family = "pool_pro_rata"
description = "A pool split by fetch share"
pool = 10000
admin_fee = 0.05
min_fetches = 5

[schemes.weighted]
family = "pool_weighted"
pool = 10000
purpose_weight = { training = 1, search = 2, user = 3 }

[schemes.hybrid]
family = "multi_pot"
pool = 10000
pots = { equal = 0.2, fetches = 0.5, referrals = 0.3 }
"""

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
SEARCHBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot"
)
CHATGPT_USER = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot"
)
CLAUDEBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36"
)
# kind -> (an address in the operator's published ranges, user agent)
BOTS = {
    "training": ("132.196.86.10", GPTBOT),
    "search": ("104.210.140.130", SEARCHBOT),
    "user": ("104.210.139.194", CHATGPT_USER),
    "claude": ("216.73.216.5", CLAUDEBOT),
}
# outlet -> fetches by GPTBot, OAI-SearchBot, ChatGPT-User, ClaudeBot, and visits referred by ChatGPT
MIX = {
    "alpha": (24, 4, 2, 6, 2),
    "beta": (12, 6, 6, 0, 6),
    "gamma": (6, 0, 3, 2, 1),
    "delta": (3, 1, 0, 0, 0),
    "epsilon": (1, 0, 0, 0, 0),
}
SWEEP = Axis.parse("min_fetches=0:15:5")


def _line(ip: str, n: int, path: str, agent: str, referer: str = "-") -> str:
    return (
        f'{ip} - - [{n % 28 + 1:02d}/Oct/2026:{n % 24:02d}:{n % 60:02d}:00 +0000] "GET {path} HTTP/1.1" 200 4096 '
        f'"{referer}" "{agent}"'
    )


def outlet_lines(slug: str) -> list[str]:
    """Every fetch of a distinct page, so no refetch rule changes the counts."""
    lines: list[str] = []
    for kind, count in zip(BOTS, MIX[slug][:4], strict=True):
        ip, agent = BOTS[kind]
        lines += [_line(ip, len(lines), f"/{slug}/{kind}-{i}", agent) for i in range(count)]
    for i in range(MIX[slug][4]):
        lines.append(_line("95.56.12.1", len(lines), f"/{slug}/training-{i}", BROWSER, "https://chatgpt.com/"))
    if slug == "alpha":  # neither qualifies: a claim from outside OpenAI's ranges, and an asset
        lines.append(_line("1.1.1.1", 40, "/alpha/spoofed", GPTBOT))
        lines.append(_line("132.196.86.11", 41, "/static/app.js", GPTBOT))
    return lines


def build_ledger(path: Path) -> Path:
    for slug in MIX:
        (path.parent / f"{slug}.log").write_text("\n".join(outlet_lines(slug)) + "\n", encoding="utf-8")
    with Ledger(path) as ledger:
        outlets = [Outlet(slug, f"{slug.title()} News", (f"{slug}.kz",)) for slug in [*MIX, "zeta"]]
        save_outlets(ledger, [validate_outlet(o) for o in outlets])  # zeta is registered and never uploads
        for slug in MIX:
            ingest_paths(ledger, [f"{slug}.log"], outlet=slug, fmt="combined")
    return path


@pytest.fixture(scope="session")
def compare_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compare-ledger")
    before = Path.cwd()
    os.chdir(root)  # uploads keep the file names as given: relative names keep the tables stable
    try:
        return build_ledger(root / "compare.duckdb")
    finally:
        os.chdir(before)


@pytest.fixture
def compare_ledger(compare_db: Path, tmp_path: Path) -> Iterator[Ledger]:
    """A private copy (the comparison stores its runs)."""
    copy = tmp_path / "ledger.duckdb"
    shutil.copy(compare_db, copy)
    with Ledger(copy) as ledger:
        yield ledger


def _report(ledger: Ledger, text: str = SCHEMES, period: Period = OCTOBER, **options: Any) -> Report:
    return build_compare(
        ledger, period, generated_at=GENERATED_AT, schemes=parse_schemes(text, "schemes.toml"), **options
    )


def _swept(ledger: Ledger) -> Report:
    return _report(ledger, sweep="pool", param=SWEEP)


def _table(report: Report, name: str) -> pa.Table:
    return next(t.data for t in report.tables() if t.name == name)


def _section(report: Report, key: str) -> Section:
    return next(s for s in report.sections if s.key == key)


def _check(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with ROYALTY_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from its golden file"


def _stable(name: str, table: pa.Table) -> pa.Table:
    drop = [c for c in VOLATILE.get(name, ()) if c in table.column_names]
    return table.drop_columns(drop) if drop else table


def test_tables_match_golden_files(compare_ledger: Ledger) -> None:
    report = _swept(compare_ledger)
    names = []
    for table in report.tables():
        names.append(table.name)
        _check(GOLDEN / f"{table.name}.csv", to_csv(_stable(table.name, table.data)))
        _check(GOLDEN / f"{table.name}.json", to_json(_stable(table.name, table.data)))
    _check(GOLDEN / "tables.txt", "\n".join(names) + "\n")
    document = {k: str(v) for k, v in manifest(report).items()}
    _check(GOLDEN / "manifest.json", json.dumps(document, indent=2, sort_keys=True) + "\n")


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((GOLDEN / f"{name}.csv").read_text(encoding="utf-8"))))


def test_golden_numbers_are_the_hand_counted_ones() -> None:
    """Counted by hand from MIX and SCHEMES, not read back from the code."""
    payouts = {r["outlet"]: r for r in _rows("payouts")}
    # tariff: (GPTBot x 100 + OAI-SearchBot x 50 + ChatGPT-User x 20) x 1.2 (OpenAI) + ClaudeBot x 100
    tariff = {"alpha": "3768.00", "beta": "1944.00", "gamma": "992.00", "delta": "420.00", "epsilon": "120.00"}
    assert {o: r["tariff"] for o, r in payouts.items()} == {**tariff, "zeta": "0.00"}
    # pool: 10,000 less 5% split by qualifying fetches among outlets with at least 5: 36, 24 and 11 of 71
    assert [payouts[o]["pool"] for o in ("alpha", "beta", "gamma", "delta")] == [
        "4816.90",
        "3211.27",
        "1471.83",
        "0.00",
    ]
    usage = {r["outlet"]: r["usage_fetches"] for r in _rows("outlets") if r["scheme"] == "tariff"}
    assert usage == {"alpha": "36", "beta": "24", "gamma": "11", "delta": "4", "epsilon": "1", "zeta": "0"}
    ranked = [(r["rank"], r["scheme"], r["outlet"]) for r in _rows("outlets")][:5]  # every scheme's best paid first
    assert ranked == [
        ("1", "tariff", "alpha"),
        ("1", "pool", "alpha"),
        ("1", "weighted", "alpha"),
        ("1", "hybrid", "beta"),
        ("2", "tariff", "beta"),
    ]
    movers = _rows("winners_losers")  # tariff -> pool, most gained first
    assert [(r["outlet"], r["delta"]) for r in movers] == [
        ("beta", "1267.2700"),
        ("alpha", "1048.9000"),
        ("gamma", "479.8300"),
        ("zeta", "0.0000"),
        ("epsilon", "-120.0000"),
        ("delta", "-420.0000"),
    ]
    metrics = {r["scheme"]: r for r in _rows("metrics")}
    assert (metrics["tariff"]["total"], metrics["pool"]["total"], metrics["pool"]["outlets_paid"]) == (
        "7244.00",
        "9500.00",
        "3",
    )
    lorenz = [r for r in _rows("lorenz") if r["scheme"] == "pool"]
    assert (lorenz[0]["payout_share"], lorenz[-1]["payout_share"], len(lorenz)) == ("0.000000", "1.000000", 21)
    # the sweep of min_fetches: 0 pays every outlet with a fetch (5), 5 and 10 leave out delta and
    # epsilon (4 and 1 fetches), 15 leaves out gamma (11) too
    paid = [(r["parameter"], r["parameter_value"], r["outlets_paid"]) for r in _rows("sensitivity")]
    assert paid == [("min_fetches", str(v), n) for v, n in ((0, "5"), (5, "3"), (10, "3"), (15, "2"))]


def test_hashes_and_runs_are_the_schemes_and_the_stored_runs(compare_ledger: Ledger) -> None:
    report = _report(compare_ledger)
    parsed = parse_schemes(SCHEMES, "schemes.toml")
    rows = _table(report, "schemes").to_pylist()
    assert [r["scheme"] for r in rows] == ["tariff", "pool", "weighted", "hybrid"]
    assert [r["family"] for r in rows] == ["per_fetch", "pool_pro_rata", "pool_weighted", "multi_pot"]
    runs = {r["scheme"]: r["run_id"] for r in _table(report, "metrics").to_pylist()}
    for row in rows:
        assert row["scheme_hash"] == parsed.get(row["scheme"]).scheme_hash
        assert row["run_id"] == runs[row["scheme"]]
        assert load_run(compare_ledger, row["run_id"]).total == next(
            r["total"] for r in _table(report, "metrics").to_pylist() if r["scheme"] == row["scheme"]
        )
    page = render(report, "en")
    assert all(r["scheme_hash"] in page and r["run_id"] in page for r in rows)


def test_xlsx_holds_the_same_numbers_as_the_csv(compare_ledger: Ledger, tmp_path: Path) -> None:
    report = _swept(compare_ledger)
    published = write_report(report, lang="en", output=None, data_dir=tmp_path)
    assert published.page is None
    book = load_workbook(tmp_path / "compare.xlsx", read_only=True)
    for table in report.tables():
        rows = list(book[table.name[:31]].iter_rows(values_only=True))
        expected = list(csv.reader(io.StringIO((tmp_path / f"{table.name}.csv").read_text(encoding="utf-8"))))
        assert [str(h).removesuffix(" (UTC)") for h in rows[0]] == expected[0]
        assert len(rows) == len(expected), table.name
        for got, want in zip(rows[1:], expected[1:], strict=True):
            padded = list(got) + [None] * (len(want) - len(got))
            assert all(_same(g, w) for g, w in zip(padded, want, strict=True)), (table.name, got, want)
        assert pq.read_table(tmp_path / f"{table.name}.parquet").equals(table.data)


def test_page_shows_the_numbers_of_the_data_files(compare_ledger: Ledger) -> None:
    report = _report(compare_ledger)
    parser = _Tables()
    parser.feed(render(report, "en"))
    page = parser.tables["winners_losers"]
    data = _table(report, "winners_losers").to_pylist()
    assert page[0] == ["Outlet", "Amount under A", "Amount under B", "Change", "Rank under A", "Rank under B"]
    assert [row[0] for row in page[1:]] == [r["outlet"] for r in data]
    assert [Decimal(row[3].replace(",", "")) for row in page[1:]] == [r["delta"] for r in data]
    totals = [row[2] for row in parser.tables["metrics"][1:]]
    assert totals == ["KZT7,244.00", "KZT9,500.00", "KZT10,000.00", "KZT10,000.00"]


def test_lorenz_chart_draws_every_paying_scheme_and_the_diagonal(compare_ledger: Ledger) -> None:
    report = _report(compare_ledger)
    chart = next(b for b in _section(report, "lorenz").blocks if isinstance(b, Chart))
    assert [s.name for s in chart.series] == ["tariff", "pool", "weighted", "hybrid", "equality"]
    assert chart.x[0] == 0 and chart.x[-1] == 1 and len(chart.x) == 21
    assert all(s.values[0] == 0 and s.values[-1] == 1 for s in chart.series)
    assert all(list(s.values) == sorted(s.values) for s in chart.series)  # a Lorenz curve never falls
    svg = charts.render(chart, Locale("ru"))
    assert svg.count("<polyline") == 5 and svg.count('stroke-dasharray="6 4"') == 1
    assert all(f">{share}%</text>" in svg for share in (0, 25, 50, 75, 100))  # both axes are shares


def test_a_scheme_that_pays_nothing_gets_no_curve(compare_ledger: Ledger) -> None:
    text = SCHEMES + '\n[schemes.search_only]\nfamily = "per_fetch"\nprice = { search = 1 }\npurposes = ["user"]\n'
    report = _report(compare_ledger, text)
    section = _section(report, "lorenz")
    chart = next(b for b in section.blocks if isinstance(b, Chart))
    assert "search_only" not in [s.name for s in chart.series]
    assert "No curve for the schemes that paid nothing in this period: search_only." in render(report, "en")


def test_schemes_in_different_currencies_are_not_drawn_against_each_other(compare_ledger: Ledger) -> None:
    text = SCHEMES + '\n[schemes.dollars]\nfamily = "per_fetch"\ncurrency = "USD"\nprice = { training = 1 }\n'
    report = _report(compare_ledger, text, scheme_b="dollars")
    page = render(report, "en")
    assert "The schemes pay in different currencies (KZT, USD), so their totals are not drawn side by side." in page
    assert "tariff and dollars pay in different currencies" in page
    assert [b.title for s in report.sections for b in s.blocks if isinstance(b, Chart)] == ["chart.lorenz"]
    dollars = next(r for r in _table(report, "metrics").to_pylist() if r["scheme"] == "dollars")
    assert (dollars["currency"], dollars["total"]) == ("USD", Decimal("54.00"))  # $1 per training fetch: 30+12+8+3+1


def test_the_chosen_pair_is_oriented_from_a_to_b(compare_ledger: Ledger) -> None:
    forward = _table(_report(compare_ledger), "winners_losers").to_pylist()
    report = _report(compare_ledger, scheme_a="pool", scheme_b="tariff")
    backward = _table(report, "winners_losers").to_pylist()
    assert {r["outlet"]: -r["delta"] for r in backward} == {r["outlet"]: r["delta"] for r in forward}
    assert [r["delta"] for r in backward] == sorted((r["delta"] for r in backward), reverse=True)
    assert _table(report, "pairs")["scheme_a"][0].as_py() == "pool"
    assert _table(report, "metrics")["scheme"].to_pylist() == ["pool", "tariff", "weighted", "hybrid"]
    assert "--scheme-a pool --scheme-b tariff" in report.command
    page = render(report, "en")
    assert "Scheme A is pool, scheme B is tariff. Under B, 2 outlets are paid more, 3 less and 1 the same" in page


def test_only_scheme_a_named_pairs_it_with_the_first_other_scheme(compare_ledger: Ledger) -> None:
    report = _report(compare_ledger, scheme_a="weighted")
    assert _table(report, "pairs").slice(0, 1).to_pylist()[0]["scheme_b"] == "tariff"


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_empty_period_gives_no_data_sections_in_every_language(
    compare_ledger: Ledger, tmp_path: Path, lang: str
) -> None:
    report = _report(compare_ledger, period=EMPTY, sweep="pool", param=SWEEP)
    page = render(report, lang)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    empty = [s.key for s in report.sections if s.empty]
    assert empty == ["lorenz", "metrics", "winners", "payouts", "sensitivity"]
    assert page.count('class="nodata-box"') == len(empty)
    assert "<svg" not in page
    assert Locale(lang).t("nodata.compare_usage") in page
    published = write_report(report, lang=lang, output=tmp_path / "page.html", data_dir=tmp_path / "data")
    assert {p.name for p in published.data} >= {"sensitivity.csv", "winners_losers.parquet", "compare.xlsx"}
    figures = {f.label: f.value for f in report.figures}
    assert figures["figure.qualifying_fetches"] == 0 and figures["figure.churn"] is None


def test_one_scheme_file_has_no_winners_and_losers(compare_ledger: Ledger) -> None:
    text = '[schemes.tariff]\nfamily = "per_fetch"\nprice = { training = 1 }\n'
    report = _report(compare_ledger, text)
    assert _section(report, "winners").empty == "nodata.one_scheme"
    assert _table(report, "winners_losers").num_rows == 0
    assert "Схемалар файлында бір ғана схема бар (tariff)" in render(report, "kk")


def test_sweep_lists_the_values_it_could_not_settle(compare_ledger: Ledger) -> None:
    report = _report(compare_ledger, sweep="pool", param=Axis.parse("admin_fee=0.5,1.5"))
    rows = _table(report, "sensitivity").to_pylist()
    assert len(rows) == 2 and rows[0]["status"] == "ok" and rows[1]["status"].startswith("invalid: ")
    assert "admin_fee" in rows[1]["status"]
    assert rows[0]["total"] == Decimal("5000.00")
    section = _section(report, "sensitivity")
    drawn = [b for b in section.blocks if isinstance(b, Chart)]
    assert drawn and all(c.x == (Decimal("0.5"),) for c in drawn)
    assert ">0,5</text>" in charts.render(drawn[0], Locale("ru"))  # the parameter's value, in the locale's form
    page = render(report, "en")
    assert "1 values could not be settled" in page
    assert report.command.endswith("--sweep pool --param admin_fee=0.5,1.5")


def test_sweep_amounts_chart_draws_the_best_paid_outlets_without_others() -> None:
    """Over many outlets, an 'others' line would dwarf the rest: only the best paid are drawn."""
    ok = [{"parameter_value": Decimal(v), "total": Decimal(100), "retained": Decimal(0)} for v in (1, 2)]
    payouts = [
        {"parameter_value": Decimal(v), "outlet": f"o{i:02d}", "amount": Decimal(i * v)}
        for v in (1, 2)
        for i in range(20)
    ]
    amounts = _sweep_charts(ok, payouts, "KZT")[-1]
    assert amounts.title == "chart.sensitivity_amounts"
    assert [s.name for s in amounts.series] == [f"o{i:02d}" for i in range(19, 11, -1)]
    assert amounts.series[0].values == (19.0, 38.0)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"scheme_a": "tarif"}, NotFoundError, "unknown scheme 'tarif'; did you mean 'tariff'?"),
        ({"scheme_b": "pol"}, NotFoundError, "unknown scheme 'pol'; did you mean 'pool'?"),
        ({"scheme_a": "pool", "scheme_b": "pool"}, ConfigError, "--scheme-a and --scheme-b both name 'pool'"),
        ({"sweep": "pool"}, ConfigError, "--sweep NAME and --param PATH=START:STOP:STEP go together"),
        ({"param": SWEEP}, ConfigError, "--sweep NAME and --param PATH=START:STOP:STEP go together"),
        ({"sweep": "pools", "param": SWEEP}, NotFoundError, "unknown scheme 'pools'; did you mean 'pool'?"),
    ],
)
def test_bad_options_fail_before_settling(
    compare_ledger: Ledger, options: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        _report(compare_ledger, **options)
    assert compare_ledger.rows("SELECT count(*) AS n FROM settlements")[0]["n"] == 0


def test_cli_writes_the_page_and_the_data_files(cli, compare_db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    schemes = tmp_path / "schemes.toml"
    schemes.write_text(SCHEMES, encoding="utf-8")
    page, data = tmp_path / "compare.html", tmp_path / "data"
    result = cli(
        *("report", "compare", "--schemes", str(schemes), "--period", "2026-10", "--sweep", "pool"),
        *("--param", "min_fetches=0:15:5", "-o", str(page), "--data-dir", str(data), "--lang", "kk"),
        *("--scheme-b", "weighted", "--generated-at", "2026-11-01T06:00:00Z"),
        db_path=compare_db,
    )
    assert result.code == 0, result.err
    assert result.out == ""
    text = page.read_text(encoding="utf-8")
    assert "Өтемақы схемаларын салыстыру: schemes.toml" in text and "A схемасы — tariff, B схемасы — weighted" in text
    document = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    assert document["kind"] == "compare" and document["generated_at"] == "2026-11-01T06:00:00Z"
    assert document["command"].endswith("--scheme-a tariff --scheme-b weighted --sweep pool --param min_fetches=0:15:5")
    assert [t["name"] for t in document["tables"]] == (GOLDEN / "tables.txt").read_text().split()
    for table in document["tables"]:
        assert pq.read_table(data / f"{table['name']}.parquet").num_rows == table["rows"]
    assert {t["name"]: t["rows"] for t in document["tables"]}["sensitivity"] == 4


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--param", "min_fetches=0:15"], EXIT_CONFIG, "--param"),
        (["--sweep", "pool", "--param", "min_fetches=a:b:c"], EXIT_CONFIG, "the values must be numbers"),
        (["--scheme-a", "nope"], EXIT_NOT_FOUND, "unknown scheme 'nope'"),
        (["--lang", "de"], 2, "de"),
    ],
)
def test_cli_errors(cli, compare_db: Path, tmp_path: Path, extra: list[str], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    schemes = tmp_path / "schemes.toml"
    schemes.write_text(SCHEMES, encoding="utf-8")
    result = cli("report", "compare", "--schemes", str(schemes), "--period", "2026-10", *extra, db_path=compare_db)
    assert result.code == code
    assert message in result.err
    assert "Traceback" not in result.err


@settings(max_examples=60, deadline=None)
@given(
    xs=st.lists(st.decimals(-1000, 1000, places=2), min_size=1, max_size=30, unique=True),
    data=st.data(),
    percent=st.booleans(),
)
def test_curves_stay_inside_the_picture(xs: list[Decimal], data: st.DataObject, percent: bool) -> None:
    """Whatever the numbers, every line and dot of a numeric line chart is drawn inside its viewBox."""
    xs = sorted(xs)
    if percent:
        xs = [Decimal(i) / max(len(xs) - 1, 1) for i in range(len(xs))]
    top = 1.0 if percent else 1e9
    values = st.floats(0 if percent else -top, top, allow_nan=False)
    series = tuple(
        Series(f"s{i}", tuple(data.draw(st.lists(values, min_size=len(xs), max_size=len(xs)))))
        for i in range(data.draw(st.integers(1, 3)))
    )
    chart = Chart(
        "line", "chart.lorenz", tuple(xs), series, value_kind="percent" if percent else "integer", percent=percent
    )
    svg = str(charts.render(chart, Locale("en")))
    width, height = (float(v) for v in re.search(r'viewBox="0 0 (\S+) (\S+)"', svg).groups())  # type: ignore[union-attr]
    points = [tuple(map(float, p.split(","))) for line in re.findall(r'points="([^"]+)"', svg) for p in line.split()]
    points += [tuple(map(float, c)) for c in re.findall(r'cx="([^"]+)" cy="([^"]+)"', svg)]
    assert points
    assert all(0 <= x <= width and 0 <= y <= height for x, y in points)


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "width"), [("en", 1100), ("kk", 390)])
def test_compare_renders_cleanly_in_chromium(compare_ledger: Ledger, tmp_path: Path, lang: str, width: int) -> None:
    report = _swept(compare_ledger)
    page_file = tmp_path / "compare.html"
    page_file.write_text(render(report, lang), encoding="utf-8")
    seen = _open(page_file, ARTIFACTS / f"report-compare-{lang}-{width}.png", width)
    assert seen["errors"] == [] and seen["foreign"] == []
    expected = sum(1 for _ in report.charts())
    assert expected == 7  # Lorenz, totals, gains, losses, and the sweep's metrics, totals and amounts
    assert len(seen["boxes"]) == expected  # type: ignore[arg-type]
    assert all(b and b["width"] > 50 and b["height"] > 20 for b in seen["boxes"])  # type: ignore[union-attr]
    assert seen["sections"] == len(report.sections)
    assert seen["overflow"] is False
    assert seen["breaks"] == "page"


@pytest.mark.slow
def test_compare_for_an_empty_period_renders_in_chromium(compare_ledger: Ledger, tmp_path: Path) -> None:
    report = _report(compare_ledger, period=EMPTY)
    page_file = tmp_path / "empty.html"
    page_file.write_text(render(report, "ru"), encoding="utf-8")
    seen = _open(page_file, ARTIFACTS / "report-compare-empty-ru.png", 390)
    assert seen["errors"] == [] and seen["foreign"] == []
    assert seen["boxes"] == []
    assert seen["nodata"] == len(report.sections) - 1  # all but the methodology
