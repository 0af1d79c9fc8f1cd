"""The seeded sample generator: deterministic bytes, and a ground truth that a real ingest reproduces exactly."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.detect.registry import load_registry, parse_registry
from ledger.errors import ConfigError, RegistryError
from ledger.ingest import IngestResult, ingest_paths
from ledger.outlets import read_outlets_csv, save_outlets
from ledger.sample import SAMPLE_OUTLETS, GroundTruth, Sample, generate
from ledger.store.db import Ledger

LINES = 50_000


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def _read_lines(sample: Sample) -> list[str]:
    lines: list[str] = []
    for file in sample.files:
        raw = file.path.read_bytes()
        text = (gzip.decompress(raw) if file.path.suffix == ".gz" else raw).decode("utf-8")
        lines += text.split("\n")[:-1]
    return lines


@dataclass
class Ingested:
    sample: Sample
    ledger: Ledger
    results: list[IngestResult]

    def counts(self, sql: str) -> dict[str, int]:
        rows = self.ledger.execute(sql).fetchall()
        return {"|".join(str(v) for v in row[:-1]): int(row[-1]) for row in rows}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    base = tmp_path_factory.mktemp("sample")
    sample = generate(base / "logs", lines=LINES, seed=7)
    with Ledger(base / "ledger.duckdb") as ledger:
        save_outlets(ledger, list(sample.outlets))
        results = [r for f in sample.files for r in ingest_paths(ledger, [str(f.path)], outlet=f.outlet)]
        yield Ingested(sample, ledger, results)


# ---------------------------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", lines=5_000, seed=11)
    generate(tmp_path / "b", lines=5_000, seed=11)
    generate(tmp_path / "c", lines=5_000, seed=12)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    other = _digests(tmp_path / "c")
    assert all(other[name] != digest for name, digest in _digests(tmp_path / "a").items() if name != "outlets.csv")
    assert sum(f.lines for f in first.files) == first.truth.lines == 5_000


def test_files_outlets_and_truth_json(tmp_path: Path) -> None:
    sample = generate(tmp_path, lines=5_000)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "access-vhost.log.gz",
        "aqtobe-zhuldyzy.access.log.gz",
        "outlets.csv",
        "tamyr-media.access.log",
        "truth.json",
    ]
    assert [(f.format, f.outlet) for f in sample.files] == [
        ("vhost_combined", None),
        ("combined", "tamyr-media"),
        ("combined", "aqtobe-zhuldyzy"),
    ]
    assert tuple(read_outlets_csv(tmp_path / "outlets.csv")) == SAMPLE_OUTLETS
    document = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert GroundTruth.from_dict(document) == sample.truth
    assert [f["lines"] for f in document["files"]] == [f.lines for f in sample.files]
    truth = sample.truth
    assert truth.parsed + truth.rejected == truth.lines == 5_000
    assert sum(truth.traffic.values()) == truth.parsed == sum(truth.days.values())
    assert truth.period == "2026-10"


def test_outlets_are_valid_and_unequal() -> None:
    assert len({o.slug for o in SAMPLE_OUTLETS}) == len(SAMPLE_OUTLETS) >= 8
    assert {o.group for o in SAMPLE_OUTLETS} == {"private", "broadcaster", "public_broadcaster"}
    assert all(o.country == "KZ" and o.language in ("kk", "ru") for o in SAMPLE_OUTLETS)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="month '2026-13'"):
        generate(tmp_path, lines=5_000, month="2026-13")
    with pytest.raises(ConfigError, match="at least 1000"):
        generate(tmp_path, lines=10)


def test_a_registry_without_a_needed_bot_is_refused(tmp_path: Path) -> None:
    registry = parse_registry(
        '[[bot]]\ntoken = "FooBot"\noperator = "Foo"\npurpose = "training"\nexamples = ["FooBot/1.0"]\n', "tiny.toml"
    )
    with pytest.raises(RegistryError, match=r"needs these bots.*GPTBot.*ClaudeBot"):
        generate(tmp_path, lines=5_000, registry=registry)


def test_lines_show_the_quirks(tmp_path: Path) -> None:
    sample = generate(tmp_path, lines=20_000, seed=3)
    lines = _read_lines(sample)
    assert len(lines) == 20_000
    assert "" in lines
    assert any('\\"' in line for line in lines)  # escaped quotes in a user agent or URL
    assert any('"\\x16\\x03\\x01' in line for line in lines)  # TLS handshake
    assert any('] "-" 400 ' in line for line in lines)
    assert any("utm_source=chatgpt.com" in line for line in lines)
    assert any(":04:59:59 +0500]" in line for line in lines) and any(":05:00:00 +0500]" in line for line in lines)
    assert any(line.split(" ")[1].count(":") >= 2 for line in lines if line)  # an IPv6 client in the vhost log


# ---------------------------------------------------------------------------------------------- the truth


def test_every_line_is_accounted_for(ingested: Ingested) -> None:
    truth = ingested.sample.truth
    by_source = {r.source: r for r in ingested.results}
    for file in ingested.sample.files:
        result = by_source[str(file.path)]
        assert not result.duplicate_upload
        assert (result.lines, result.parsed, result.rejected) == (file.lines, file.parsed, file.rejected), file
    totals = ingested.ledger.execute(
        "SELECT sum(lines_total), sum(lines_parsed), sum(lines_rejected) FROM uploads"
    ).fetchone()
    assert totals == (truth.lines, truth.parsed, truth.rejected)
    assert truth.parsed + truth.rejected == truth.lines == LINES
    assert ingested.counts("SELECT 'rejects', count(*) FROM rejects") == {"rejects": truth.rejected}


def test_fetches_match(ingested: Ingested) -> None:
    got = ingested.counts(
        "SELECT outlet, bot, verification, count(*) FROM fetches WHERE attribution = 'declared' GROUP BY ALL"
    )
    assert got == ingested.sample.truth.fetches
    verdicts = {key.rsplit("|", 1)[1] for key in got}
    assert verdicts == {"verified", "spoofed", "unverifiable", "unknown"}


def test_ip_attributed_match(ingested: Ingested) -> None:
    got = ingested.counts(
        "SELECT outlet, operator, count(*) FROM fetches WHERE attribution = 'ip_attributed' GROUP BY ALL"
    )
    assert got == ingested.sample.truth.ip_attributed
    assert got


def test_referrals_match(ingested: Ingested) -> None:
    got = ingested.counts("SELECT outlet, product, count(*) FROM referrals GROUP BY ALL")
    assert got == ingested.sample.truth.referrals
    assert {key.split("|")[1] for key in got} >= {"ChatGPT", "Perplexity", "Gemini", "Copilot", "DeepSeek", "Claude"}


def test_traffic_match_per_outlet_class_and_utc_day(ingested: Ingested) -> None:
    truth = ingested.sample.truth
    assert ingested.counts("SELECT outlet, class, sum(requests) FROM traffic_daily GROUP BY ALL") == truth.traffic
    days = ingested.counts("SELECT outlet, strftime(day, '%Y-%m-%d'), sum(requests) FROM traffic_daily GROUP BY ALL")
    assert days == truth.days
    assert all(key.split("|")[1].startswith("2026-10-") for key in days)
    first, last = ingested.ledger.execute("SELECT min(first_ts), max(last_ts) FROM uploads").fetchone()
    assert (first.isoformat(), last.isoformat()) == ("2026-10-01T00:00:00+00:00", "2026-10-31T23:59:59+00:00")


def test_verdicts_follow_the_registry(ingested: Ingested) -> None:
    truth = ingested.sample.truth
    bots = {b.token: b for b in load_registry().fetchers}
    for key in truth.fetches:
        _, token, verdict = key.split("|")
        if bots[token].verification != "ip":
            assert verdict == "unverifiable", key
    for token in ("GPTBot", "ClaudeBot", "ChatGPT-User", "PerplexityBot", "meta-externalagent", "Amazonbot"):
        assert sum(n for k, n in truth.fetches.items() if k.split("|")[1:] == [token, "spoofed"]) > 0, token
    spoofed = ingested.counts("SELECT bot, count(*) FROM fetches WHERE verification = 'spoofed' GROUP BY ALL")
    assert spoofed == {
        t: sum(n for k, n in truth.fetches.items() if k.split("|")[1:] == [t, "spoofed"]) for t in spoofed
    }


def test_reingest_is_a_duplicate_and_changes_nothing(ingested: Ingested) -> None:
    tables = ("uploads", "fetches", "referrals", "traffic_daily", "rejects")
    before = {t: ingested.ledger.execute(f"SELECT count(*) FROM {t}").fetchone() for t in tables}
    for file in ingested.sample.files:
        (again,) = ingest_paths(ingested.ledger, [str(file.path)], outlet=file.outlet)
        assert again.duplicate_upload
        assert (again.lines, again.parsed, again.rejected) == (file.lines, file.parsed, file.rejected)
    assert {t: ingested.ledger.execute(f"SELECT count(*) FROM {t}").fetchone() for t in tables} == before
