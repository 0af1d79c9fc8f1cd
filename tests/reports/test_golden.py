"""Golden files of the report data: every table of each report as CSV and JSON (and the XLSX read back
with openpyxl), built from the small hand-written ledger with the generation time pinned. Tables are
language-neutral, ordered by the queries, and times are UTC; the page shows the same numbers.

Regenerate after an intended change with ROYALTY_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from ledger.schemes import parse_schemes
from ledger.store.db import Ledger
from reports.export import to_csv, to_json
from reports.html import render
from reports.model import Report
from reports.outlet import build_outlet
from reports.publish import manifest, write_report
from reports.regulator import build_regulator
from tests.reports.conftest import GENERATED_AT, OCTOBER

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ROYALTY_UPDATE_GOLDEN") == "1"
# Columns that follow the bot registry's or the ledger's version rather than the data: checked elsewhere.
VOLATILE = {"registry_versions": None, "uploads": ("registry_version",), "scheme_trace": ("run_id",)}
SCHEMES = """
[schemes.tariff]
family = "per_fetch"
price = { training = 5.00, search = 2.50, user = 1.00 }
"""


def _stable(name: str, table: pa.Table) -> pa.Table | None:
    if name in VOLATILE and VOLATILE[name] is None:
        return None
    drop = [c for c in VOLATILE.get(name) or () if c in table.column_names]
    return table.drop_columns(drop) if drop else table


def _reports(ledger: Ledger) -> dict[str, Report]:
    return {
        "regulator": build_regulator(ledger, OCTOBER, generated_at=GENERATED_AT),
        "outlet": build_outlet(
            ledger, OCTOBER, "alpha", generated_at=GENERATED_AT, schemes=parse_schemes(SCHEMES, "s.toml")
        ),
    }


def _check(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with ROYALTY_UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from its golden file"


@pytest.mark.parametrize("kind", ["regulator", "outlet"])
def test_tables_match_golden_files(report_ledger: Ledger, kind: str) -> None:
    report = _reports(report_ledger)[kind]
    names = []
    for table in report.tables():
        stable = _stable(table.name, table.data)
        if stable is None:
            continue
        names.append(table.name)
        _check(GOLDEN / kind / f"{table.name}.csv", to_csv(stable))
        _check(GOLDEN / kind / f"{table.name}.json", to_json(stable))
    _check(GOLDEN / kind / "tables.txt", "\n".join(names) + "\n")
    document = {k: str(v) for k, v in manifest(report).items()}
    _check(GOLDEN / kind / "manifest.json", json.dumps(document, indent=2, sort_keys=True) + "\n")


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_golden_numbers_are_the_hand_counted_ones() -> None:
    """The golden files are not just snapshots: the key figures are counted by hand from conftest's lines."""
    verification = _rows(GOLDEN / "regulator" / "verification.csv")
    openai = next(r for r in verification if r["operator"] == "OpenAI")
    # alpha: 3 days x (2 verified GPTBot pages + 1 asset) = 9 verified, 3 spoofed, 3 unknown; beta: 4 verified
    assert (openai["fetches"], openai["verified"], openai["spoofed"], openai["unknown"]) == ("19", "13", "3", "3")
    ratio = {r["operator"]: r for r in _rows(GOLDEN / "regulator" / "crawl_to_refer.csv")}
    # HTML fetches: OpenAI 19 - 3 assets = 16; referred from ChatGPT: 3 -> 5.3
    assert (ratio["OpenAI"]["html_fetches"], ratio["OpenAI"]["referrals"], ratio["OpenAI"]["crawls_per_referral"]) == (
        "16",
        "3",
        "5.3",
    )
    gaps = _rows(GOLDEN / "regulator" / "coverage_gaps.csv")
    assert {"outlet": "alpha", "first_missing": "2026-10-03", "last_missing": "2026-10-03", "days": "1"} in gaps
    assert {"outlet": "gamma", "first_missing": "2026-10-01", "last_missing": "2026-10-31", "days": "31"} in gaps


def _same(got: object, want: str) -> bool:
    """An XLSX cell read back against the CSV text of the same cell."""
    if got is None:
        return want == ""
    if isinstance(got, bool):
        return str(got).lower() == want
    if isinstance(got, int | float):
        return Decimal(str(got)) == Decimal(want)
    if isinstance(got, datetime):
        if "T" not in want:
            return got.date().isoformat() == want
        expected = datetime.fromisoformat(want.replace("Z", "+00:00")).replace(tzinfo=None)
        return abs((got - expected).total_seconds()) < 0.001  # Excel keeps times to the millisecond
    return str(got) == want


@pytest.mark.parametrize("kind", ["regulator", "outlet"])
def test_xlsx_holds_the_same_numbers_as_the_csv(report_ledger: Ledger, tmp_path: Path, kind: str) -> None:
    report = _reports(report_ledger)[kind]
    published = write_report(report, lang="en", output=None, data_dir=tmp_path)
    assert published.page is None  # with a data directory and no -o, no page is rendered
    book = load_workbook(tmp_path / f"{kind}.xlsx", read_only=True)
    for table in report.tables():
        rows = list(book[table.name[:31]].iter_rows(values_only=True))
        expected = list(csv.reader(io.StringIO((tmp_path / f"{table.name}.csv").read_text(encoding="utf-8"))))
        assert [str(h).removesuffix(" (UTC)") for h in rows[0]] == expected[0]
        assert len(rows) == len(expected), table.name
        for got, want in zip(rows[1:], expected[1:], strict=True):
            padded = list(got) + [None] * (len(want) - len(got))
            assert all(_same(g, w) for g, w in zip(padded, want, strict=True)), (table.name, got, want)


class _Tables(HTMLParser):
    """Cells of every <div data-table=...> table on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._name: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "div" and attributes.get("data-table"):
            self._name = attributes["data-table"]
            self.tables[self._name] = []
        elif tag == "tr" and self._name:
            self.tables[self._name].append([])
        elif tag in ("td", "th") and self._name:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._name and self._cell is not None:
            self.tables[self._name][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "div" and self._name and self._cell is None:
            self._name = None if tag == "div" else self._name

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_page_shows_the_numbers_of_the_data_files(report_ledger: Ledger) -> None:
    report = _reports(report_ledger)["regulator"]
    parser = _Tables()
    parser.feed(render(report, "en"))
    page = parser.tables["top_outlets"]
    data = next(t for t in report.tables() if t.name == "top_outlets").data.to_pylist()
    assert len(page) == len(data) + 1
    for row, record in zip(page[1:], data, strict=True):
        assert row[0] == record["outlet"]
        assert int(re.sub(r"\D", "", row[2])) == record["fetches"]
        assert Decimal(row[-1].rstrip("%")) == (record["market_share"] * 100).quantize(Decimal("0.1"))
