"""A small hand-written ledger for the report tests: two outlets, a few days of October 2026, every kind
of line the reports count (verified, spoofed, unverifiable and unknown AI fetches, assets, undeclared
traffic, AI referrals, a rejected line), ingested through the real ingest. Same lines, same tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger.ingest import ingest_paths
from ledger.outlets import Outlet, save_outlets, validate_outlet
from ledger.period import Period
from ledger.store.db import Ledger

GENERATED_AT = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
OCTOBER = Period.month("2026-10")
EMPTY = Period.month("2025-01")

GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; +https://openai.com/gptbot"
CHATGPT_USER = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot"
)
BYTESPIDER = (
    "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36"
    " (compatible; Bytespider; spider-feedback@bytedance.com)"
)
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36"
)


def _line(ip: str, day: int, hour: int, path: str, status: int, agent: str, referer: str = "-") -> str:
    return (
        f'{ip} - - [{day:02d}/Oct/2026:{hour:02d}:15:00 +0000] "GET {path} HTTP/1.1" {status} 5120 '
        f'"{referer}" "{agent}"'
    )


def alpha_lines() -> list[str]:
    """alpha.kz: days 1, 2 and 4 (3 is a gap)."""
    lines = []
    for day in (1, 2, 4):
        lines += [
            _line("132.196.86.10", day, 3, "/news/budget-2026", 200, GPTBOT),  # verified training
            _line("132.196.86.11", day, 4, f"/news/story-{day}", 200, GPTBOT),
            _line("1.1.1.1", day, 5, "/news/budget-2026", 200, GPTBOT),  # spoofed
            _line("110.249.201.4", day, 6, "/news/budget-2026", 200, BYTESPIDER),  # unverifiable
            _line("10.0.0.7", day, 7, "/news/budget-2026", 200, CHATGPT_USER),  # unknown (private address)
            _line("132.196.86.12", day, 8, "/static/app.js", 200, GPTBOT),  # an asset: not an HTML page
            _line("104.210.139.194", day, 9, "/news/story-1", 200, BROWSER),  # undeclared, ChatGPT-User range
            _line("95.56.12.1", day, 10, "/news/budget-2026", 200, BROWSER, "https://chatgpt.com/"),  # referral
            _line("95.56.12.2", day, 11, "/", 200, BROWSER),  # a person
        ]
    lines.append("this line is not a log line")
    return lines


def beta_lines() -> list[str]:
    """beta.kz: days 1 and 2 only."""
    return [
        _line("132.196.86.20", day, hour, f"/politics/item-{hour}", 200, GPTBOT) for day in (1, 2) for hour in (1, 2)
    ] + [_line("95.56.12.3", 2, 12, "/politics/item-1", 200, BROWSER, "https://www.perplexity.ai/search")]


def build_ledger(path: Path, logs: Path) -> Path:
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "alpha.log").write_text("\n".join(alpha_lines()) + "\n", encoding="utf-8")
    (logs / "beta.log").write_text("\n".join(beta_lines()) + "\n", encoding="utf-8")
    with Ledger(path) as ledger:
        save_outlets(
            ledger,
            [
                validate_outlet(Outlet("alpha", "Alpha News", ("alpha.kz",))),
                validate_outlet(Outlet("beta", "Beta Times", ("beta.kz",))),
                validate_outlet(Outlet("gamma", "Gamma Radio", ("gamma.kz",))),  # registered, never uploads
            ],
        )
        ingest_paths(ledger, ["alpha.log"], outlet="alpha", fmt="combined")
        ingest_paths(ledger, ["beta.log"], outlet="beta", fmt="combined")
    return path


@pytest.fixture(scope="session")
def report_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small ledger, built once per session (uploads are named by relative file names)."""
    import os

    root = tmp_path_factory.mktemp("report-ledger")
    before = Path.cwd()
    os.chdir(root)  # uploads keep the file names as given: relative names keep the tables stable
    try:
        return build_ledger(root / "reports.duckdb", root)
    finally:
        os.chdir(before)


@pytest.fixture
def report_ledger(report_db: Path, tmp_path: Path) -> Iterator[Ledger]:
    """A private copy of the small ledger (settling writes runs into it)."""
    import shutil

    copy = tmp_path / "ledger.duckdb"
    shutil.copy(report_db, copy)
    with Ledger(copy) as ledger:
        yield ledger
