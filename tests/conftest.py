"""Shared fixtures: a real DuckDB ledger file per test, and the CLI run in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.outlets import Outlet, save_outlets, validate_outlet
from ledger.store.db import Ledger

DATA = Path(__file__).parent / "data"
# tests/data/imc25_access_websitec-com.log is respect-robots-txt/data/access_websitec-com.log from
# ucsdsysnet/ai-crawler-imc-25 @ 4de8f33036e4de1634fe9c97d41a869a3c5e67f2, the artefact of Liu et al.,
# "Somesite I Used To Crawl" (IMC 2025, arXiv 2411.15091). No licence is stated upstream; it is kept
# unchanged as a research fixture. Its AI-bot line counts, from shared/reference/README.md (counted there
# independently, with grep):
IMC = DATA / "imc25_access_websitec-com.log"
IMC_AI_BOTS = {
    "ChatGPT-User": 76,
    "GPTBot": 66,
    "CCBot": 5,
    "Amazonbot": 4,
    "OAI-SearchBot": 4,
    "Bytespider": 3,
    "ClaudeBot": 2,
    "Perplexity-User": 2,
    "Applebot": 3,
}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.duckdb") as opened:
        yield opened


def add_outlet(ledger: Ledger, slug: str, *domains: str) -> None:
    save_outlets(ledger, [validate_outlet(Outlet(slug, slug.title(), domains))])


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliResult]:
    """Runs `royalty --db <tmp>/cli.duckdb ARGS...` in-process and captures its output."""
    from royalty.cli import run

    monkeypatch.delenv("ROYALTY_DB", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    db = tmp_path / "cli.duckdb"

    def invoke(*args: str, db_path: Path | None = None) -> CliResult:
        code = run(["--db", str(db_path or db), *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke
