"""Report structure: empty periods, robots.txt with and without verdicts, the CLI and its data files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ledger.errors import EXIT_CONFIG, EXIT_NOT_FOUND, NotFoundError
from ledger.store.db import Ledger
from reports.html import render
from reports.outlet import build_outlet
from reports.regulator import build_regulator
from tests.reports.conftest import EMPTY, GENERATED_AT, OCTOBER


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_empty_period_gives_no_data_sections_in_every_language(report_ledger: Ledger, lang: str) -> None:
    for report in (
        build_regulator(report_ledger, EMPTY, generated_at=GENERATED_AT),
        build_outlet(report_ledger, EMPTY, "alpha", generated_at=GENERATED_AT),
    ):
        page = render(report, lang)
        assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
        empty = [s.key for s in report.sections if s.empty]
        assert set(empty) == {s.key for s in report.sections} - {"methodology"}
        assert page.count('class="nodata-box"') == len(empty)
        assert "<svg" not in page
        assert all(t.data.num_rows == 0 for t in report.tables() if t.name not in ("coverage_outlets", "coverage_gaps"))


def test_page_is_self_contained(report_ledger: Ledger) -> None:
    page = render(build_regulator(report_ledger, OCTOBER, generated_at=GENERATED_AT), "en")
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page  # no CDN, font or image from elsewhere
    assert "@media print" in page and "break-before: page" in page
    assert "Nov 1, 2026, 6:00:00\u202fAM UTC" in page  # the injected generation time, not the clock


def test_robots_section_without_the_verdicts_table(report_ledger: Ledger) -> None:
    report_ledger.execute("DROP VIEW IF EXISTS robots_verdicts_latest")
    report_ledger.execute("DROP TABLE IF EXISTS robots_verdicts")
    report = build_regulator(report_ledger, OCTOBER, generated_at=GENERATED_AT)
    robots = next(s for s in report.sections if s.key == "robots")
    assert robots.empty == "nodata.robots_table"
    assert "No robots.txt snapshots yet: this ledger has no robots.txt verdicts table" in render(report, "en")


def test_robots_section_counts_the_latest_verdicts(report_ledger: Ledger) -> None:
    if not report_ledger.rows("SELECT 1 FROM information_schema.tables WHERE table_name = 'robots_verdicts'"):
        report_ledger.execute(
            "CREATE TABLE robots_verdicts (upload_id VARCHAR, line_no BIGINT, snapshot_id VARCHAR, verdict VARCHAR,"
            " robots_group VARCHAR, directive VARCHAR, computed_at TIMESTAMPTZ)"
        )
        report_ledger.execute(
            "CREATE VIEW robots_verdicts_latest AS SELECT * FROM robots_verdicts QUALIFY row_number() OVER"
            " (PARTITION BY upload_id, line_no ORDER BY computed_at DESC) = 1"
        )
    fetches = report_ledger.rows(
        "SELECT upload_id, line_no, bot FROM fetches WHERE ai AND attribution = 'declared' AND outlet = 'alpha'"
        " ORDER BY ts"
    )
    gptbot = [f for f in fetches if f["bot"] == "GPTBot"]
    for i, f in enumerate(gptbot):  # first judged allowed, later re-judged disallowed for every other one
        report_ledger.execute(
            "INSERT INTO robots_verdicts VALUES (?, ?, 's1', 'allowed', '*', NULL,"
            " TIMESTAMPTZ '2026-11-01 00:00:00+00')",
            [f["upload_id"], f["line_no"]],
        )
        if i % 2 == 0:
            report_ledger.execute(
                "INSERT INTO robots_verdicts VALUES (?, ?, 's2', 'disallowed', 'GPTBot', 'Disallow: /',"
                " TIMESTAMPTZ '2026-11-02 00:00:00+00')",
                [f["upload_id"], f["line_no"]],
            )
    report = build_regulator(report_ledger, OCTOBER, generated_at=GENERATED_AT)
    robots = next(t for t in report.tables() if t.name == "robots").data.to_pylist()
    openai = next(r for r in robots if r["operator"] == "OpenAI")
    disallowed = (len(gptbot) + 1) // 2
    assert (openai["disallowed"], openai["allowed"]) == (disallowed, len(gptbot) - disallowed)
    assert openai["unchecked"] == openai["fetches"] - len(gptbot)
    section = next(s for s in report.sections if s.key == "robots")
    assert section.empty is None


def test_unknown_outlet_names_the_known_ones(report_ledger: Ledger) -> None:
    with pytest.raises(NotFoundError, match=re.escape("unknown outlet 'alpah'; did you mean 'alpha'?")):
        build_outlet(report_ledger, OCTOBER, "alpah", generated_at=GENERATED_AT)


def test_cli_writes_the_page_and_the_data_files(cli, report_db: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page, data = tmp_path / "r.html", tmp_path / "data"
    args = [
        "report",
        "regulator",
        "--period",
        "2026-10",
        "-o",
        str(page),
        "--data-dir",
        str(data),
        "--lang",
        "ru",
        "--generated-at",
        "2026-11-01T06:00:00Z",
    ]
    result = cli(*args, db_path=report_db)
    assert result.code == 0, result.err
    assert result.out == ""
    assert "Отчёт об использовании контента ИИ-краулерами" in page.read_text(encoding="utf-8")
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generated_at"] == "2026-11-01T06:00:00Z" and manifest["period"] == "2026-10"
    for table in manifest["tables"]:
        assert pq.read_table(data / f"{table['name']}.parquet").num_rows == table["rows"]
    assert (data / "regulator.xlsx").exists()


def test_cli_prints_the_page_without_an_output(cli, report_db: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("report", "outlet", "beta", "--from", "2026-10-01", "--to", "2026-10-07", db_path=report_db)
    assert result.code == 0, result.err
    assert result.out.startswith("<!DOCTYPE html>") and "Beta Times" in result.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["report", "regulator"], EXIT_CONFIG, "a report needs a period"),
        (["report", "outlet", "nope", "--period", "2026-10"], EXIT_NOT_FOUND, "unknown outlet 'nope'"),
        (["report", "regulator", "--period", "2026-10", "--generated-at", "soon"], EXIT_CONFIG, "--generated-at"),
        *(  # an OverflowError when made UTC, or a time no ledger holds: a clear error, not an internal one
            (
                ["report", "regulator", "--period", "2026-10", "--generated-at", when],
                EXIT_CONFIG,
                f"--generated-at: '{when}' is outside the times a ledger holds (1970-01-01 to 9998-12-31, UTC)",
            )
            for when in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "1969-12-31T23:59:59Z")
        ),
        (["report", "regulator", "--period", "2026-10", "--lang", "de"], 2, "de"),
    ],
)
def test_cli_errors(cli, report_db: Path, args: list[str], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    result = cli(*args, db_path=report_db)
    assert result.code == code
    assert message in result.err
    assert "Traceback" not in result.err
