"""Build a report and write it out: the HTML page in one language, and its tables as data files.

``REPORTS`` maps a report kind to its builder; every builder takes the ledger, the period and a
``generated_at`` time (the caller's clock, never read here) plus its own options, and returns a
``Report``. A new report (the scheme comparison) is one more module with a ``build_*`` function and one
more entry here; rendering, languages and data files come with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger.period import Period
from ledger.store.db import Ledger
from reports import html
from reports.compare import build_compare
from reports.export import write_data
from reports.i18n import Locale
from reports.model import Report
from reports.outlet import build_outlet
from reports.regulator import build_regulator

REPORTS: dict[str, Callable[..., Report]] = {
    "regulator": build_regulator,
    "outlet": build_outlet,
    "compare": build_compare,
}


@dataclass(frozen=True)
class Published:
    report: Report
    html: Path | None  # where the page was written
    page: str | None  # the page itself, when rendered (with an output, or when no data directory was asked)
    data: tuple[Path, ...]


def manifest(report: Report) -> dict[str, Any]:
    """What the data files are: the report, its period, when it was generated, how to make it again."""
    return {
        "kind": report.kind,
        "subject": report.subject,
        "period": report.period.label,
        "start": report.period.start,
        "end": report.period.end,
        "generated_at": report.generated_at,
        "currency": report.currency,
        "command": report.command,
    }


def write_report(report: Report, *, lang: str, output: Path | None, data_dir: Path | None) -> Published:
    """Render the page and write it to ``output`` (without an output and without ``data_dir``, the page is
    only returned, for stdout); write the tables under ``data_dir`` when given."""
    page = html.render(report, lang) if output is not None or data_dir is None else None
    if output is not None and page is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(page, encoding="utf-8")
    files: list[Path] = []
    if data_dir is not None:
        files = write_data(((t.name, t.data) for t in report.tables()), data_dir, manifest(report))
    return Published(report, output, page, tuple(files))


def publish(
    ledger: Ledger,
    kind: str,
    period: Period,
    *,
    generated_at: datetime,
    lang: str = "en",
    output: Path | None = None,
    data_dir: Path | None = None,
    **options: Any,
) -> Published:
    """Build the ``kind`` report over ``period`` and write it (see ``write_report``)."""
    Locale(lang)  # an unknown language fails before the work
    report = REPORTS[kind](ledger, period, generated_at=generated_at, **options)
    return write_report(report, lang=lang, output=output, data_dir=data_dir)
