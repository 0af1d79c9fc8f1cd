"""Shared fixtures: a real DuckDB ledger file per test, and the CLI run in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.outlets import Outlet, save_outlets, validate_outlet
from ledger.store.db import Ledger

DATA = Path(__file__).parent / "data"


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
