"""Each report rendered in a real headless Chromium (Debian's package, installed by `make test`): no
console errors, every chart visible, no request to anything but the file itself. Screenshots are kept in
tests/artifacts/ (ignored by git) for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.schemes import parse_schemes
from ledger.store.db import Ledger
from reports.html import render
from reports.outlet import build_outlet
from reports.regulator import build_regulator
from tests.reports.conftest import EMPTY, GENERATED_AT, OCTOBER
from tests.reports.test_golden import SCHEMES

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _open(page_file: Path, shot: Path, width: int) -> dict[str, object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make chromium, or apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    foreign: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith("file://") else foreign.append(r.url))
            page.goto(page_file.as_uri())
            boxes = [svg.bounding_box() for svg in page.locator("svg.chart-svg").all()]
            sections = page.locator("section.section").count()
            nodata = page.locator(".nodata-box").count()
            overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            page.emulate_media(media="print")
            breaks = page.evaluate("getComputedStyle(document.querySelector('section.section')).breakBefore")
        finally:
            browser.close()
    return {
        "errors": errors,
        "foreign": foreign,
        "boxes": boxes,
        "sections": sections,
        "nodata": nodata,
        "overflow": overflow,
        "breaks": breaks,
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "lang", "width"),
    [("regulator", "en", 1100), ("regulator", "ru", 390), ("outlet", "kk", 390), ("outlet", "en", 1100)],
)
def test_report_renders_cleanly_in_chromium(
    report_ledger: Ledger, tmp_path: Path, kind: str, lang: str, width: int
) -> None:
    if kind == "regulator":
        report = build_regulator(report_ledger, OCTOBER, generated_at=GENERATED_AT)
    else:
        schemes = parse_schemes(SCHEMES, "s.toml")
        report = build_outlet(report_ledger, OCTOBER, "alpha", generated_at=GENERATED_AT, schemes=schemes)
    page_file = tmp_path / f"{kind}.html"
    page_file.write_text(render(report, lang), encoding="utf-8")
    seen = _open(page_file, ARTIFACTS / f"report-{kind}-{lang}-{width}.png", width)
    assert seen["errors"] == []
    assert seen["foreign"] == []
    expected = sum(1 for _ in report.charts())
    assert expected >= 6
    assert len(seen["boxes"]) == expected  # type: ignore[arg-type]
    assert all(b and b["width"] > 50 and b["height"] > 20 for b in seen["boxes"])  # type: ignore[union-attr]
    assert seen["sections"] == len(report.sections)
    assert seen["overflow"] is False  # nothing wider than a phone screen: wide tables scroll inside their box
    assert seen["breaks"] == "page"


@pytest.mark.slow
def test_empty_period_renders_no_data_sections_in_chromium(report_ledger: Ledger, tmp_path: Path) -> None:
    report = build_regulator(report_ledger, EMPTY, generated_at=GENERATED_AT)
    page_file = tmp_path / "empty.html"
    page_file.write_text(render(report, "kk"), encoding="utf-8")
    seen = _open(page_file, ARTIFACTS / "report-regulator-empty-kk.png", 390)
    assert seen["errors"] == [] and seen["foreign"] == []
    assert seen["boxes"] == []
    assert seen["nodata"] == len(report.sections) - 1  # all but the methodology
