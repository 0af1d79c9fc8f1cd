"""The demo job: seeded sample logs -> ingest -> detect -> verify -> ledger -> settle two schemes -> compare.

Everything lands in one folder: the generated logs, the DuckDB ledger, the schemes file used, and CSV
exports of every table shown. The ledger's counts are checked against the generator's ground truth.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

from ledger.ingest import IngestResult, ingest_paths
from ledger.outlets import save_outlets
from ledger.period import Period
from ledger.store.db import Ledger
from ledger.usage import referrals, usage

if TYPE_CHECKING:
    from ledger.compare import Comparison
    from ledger.sample import GroundTruth

DEMO_LINES = 1_000_000
DEMO_SEED = 20261001


@dataclass(frozen=True)
class DemoResult:
    directory: Path
    db: Path
    schemes: Path
    period: str
    uploads: tuple[IngestResult, ...]
    usage: pa.Table
    referrals: pa.Table
    comparison: Comparison
    truth_mismatches: tuple[str, ...]
    truth_checks: int
    exports: tuple[Path, ...]
    seconds: dict[str, float]


def run_demo(
    directory: Path,
    *,
    lines: int = DEMO_LINES,
    seed: int = DEMO_SEED,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    from ledger.sample import generate  # the generator is only needed here

    step = on_step or (lambda message: None)
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "royalty.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)  # the demo's own ledger: rebuilt from scratch every run
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    step(f"generating {lines:,} sample log lines (seed {seed})")
    sample = generate(directory / "logs", lines=lines, seed=seed)
    seconds["generate"] = time.perf_counter() - clock
    schemes_path = directory / "schemes.toml"
    schemes_path.write_text(
        resources.files("ledger.examples").joinpath("schemes.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    period = Period.month(sample.truth.period)
    with Ledger(db) as ledger:
        save_outlets(ledger, list(sample.outlets))
        clock = time.perf_counter()
        uploads: list[IngestResult] = []
        for file in sample.files:
            step(f"ingesting {file.path.name}")
            uploads += ingest_paths(ledger, [str(file.path)], outlet=file.outlet)
        seconds["ingest"] = time.perf_counter() - clock
        clock = time.perf_counter()
        step("settling and comparing the schemes")
        from ledger.compare import compare  # imported here: the CLI loads this module for every command
        from ledger.schemes import load_schemes

        comparison = compare(ledger, load_schemes(schemes_path), period)
        seconds["settle+compare"] = time.perf_counter() - clock
        usage_table = usage(ledger, period, ["operator", "purpose"])
        referral_table = referrals(ledger, period, ["outlet", "operator", "product"])
        checks, mismatches = check_truth(ledger, sample.truth)
        exports = _export(directory / "exports", ledger, usage_table, referral_table, comparison)
    return DemoResult(
        directory,
        db,
        schemes_path,
        period.label,
        tuple(uploads),
        usage_table,
        referral_table,
        comparison,
        tuple(mismatches),
        checks,
        exports,
        seconds,
    )


def check_truth(ledger: Ledger, truth: GroundTruth) -> tuple[int, list[str]]:
    """Compare the ledger's counts with the generator's ground truth; returns (checks, mismatches)."""
    found: dict[str, dict[str, int]] = {
        "fetches": _counts(
            ledger,
            "SELECT outlet || '|' || bot || '|' || verification AS k, count(*) AS n"
            " FROM fetches WHERE attribution = 'declared' GROUP BY k",
        ),
        "ip_attributed": _counts(
            ledger,
            "SELECT outlet || '|' || operator AS k, count(*) AS n FROM fetches"
            " WHERE attribution = 'ip_attributed' GROUP BY k",
        ),
        "referrals": _counts(ledger, "SELECT outlet || '|' || product AS k, count(*) AS n FROM referrals GROUP BY k"),
        "traffic": _counts(
            ledger, "SELECT outlet || '|' || class AS k, sum(requests) AS n FROM traffic_daily GROUP BY k"
        ),
    }
    totals = ledger.rows(
        "SELECT sum(lines_total) AS lines, sum(lines_parsed) AS parsed, sum(lines_rejected) AS rejected FROM uploads"
    )[0]
    mismatches = []
    checks = 0
    for name, expected in (("lines", truth.lines), ("parsed", truth.parsed), ("rejected", truth.rejected)):
        checks += 1
        if int(totals[name] or 0) != expected:
            mismatches.append(f"{name}: expected {expected}, ledger has {totals[name]}")
    for table, got in found.items():
        expected_counts: dict[str, int] = getattr(truth, table)
        for key in sorted(set(expected_counts) | set(got)):
            checks += 1
            if expected_counts.get(key, 0) != got.get(key, 0):
                mismatches.append(
                    f"{table} {key}: expected {expected_counts.get(key, 0)}, ledger has {got.get(key, 0)}"
                )
    return checks, mismatches


def _counts(ledger: Ledger, sql: str) -> dict[str, int]:
    return {row["k"]: int(row["n"]) for row in ledger.rows(sql)}


def _export(
    folder: Path, ledger: Ledger, usage_table: pa.Table, referral_table: pa.Table, comparison: Comparison
) -> tuple[Path, ...]:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    tables = {
        "usage-by-operator-purpose.csv": usage_table,
        "usage-by-outlet-operator.csv": usage(ledger, Period.month(comparison.period), ["outlet", "operator"]),
        "referrals.csv": referral_table,
        "compare-payouts.csv": comparison.payouts,
        "compare-metrics.csv": comparison.metrics,
        "uploads.csv": ledger.arrow("SELECT * FROM uploads ORDER BY source"),
        "rejects.csv": ledger.arrow("SELECT * FROM rejects ORDER BY upload_id, line_no"),
    }
    for run in comparison.settlements:
        tables[f"settlement-{run.scheme}.csv"] = run.payouts
    written = []
    for name, table in tables.items():
        pacsv.write_csv(table, folder / name)
        written.append(folder / name)
    return tuple(written)
