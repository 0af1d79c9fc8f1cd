"""What one run shares between the caller and its pipelines: the open ledger and what was found.

Scrapy copies its settings deeply, so the ledger (a DuckDB connection) cannot travel in them; the
settings carry a run id instead, and pipelines look the run up here.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field

from crawler.config import CrawlConfig
from crawler.failures import CrawlFailure
from ledger.iplist_refresh import DEFAULT_MAX_SHRINK, FetchedList, ListOutcome, RefreshResult
from ledger.robots import CheckRecord
from ledger.store.db import Ledger


@dataclass
class RunContext:
    ledger: Ledger
    config: CrawlConfig
    failures: list[CrawlFailure] = field(default_factory=list)
    checks: list[CheckRecord] = field(default_factory=list)
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)  # (outlet, source) -> observations
    stored: Counter[str] = field(default_factory=Counter)  # outlet -> new article rows
    sitemaps: Counter[str] = field(default_factory=Counter)  # outlet -> sitemap documents read
    lists: list[FetchedList] = field(default_factory=list)
    skipped_lists: list[ListOutcome] = field(default_factory=list)
    force: bool = False
    max_shrink: float = DEFAULT_MAX_SHRINK
    refresh: RefreshResult | None = None
    error: BaseException | None = None


_runs: dict[str, RunContext] = {}
_lock = threading.Lock()


def register(context: RunContext) -> str:
    run_id = secrets.token_hex(8)
    with _lock:
        _runs[run_id] = context
    return run_id


def lookup(run_id: str) -> RunContext:
    with _lock:
        return _runs[run_id]


def release(run_id: str) -> None:
    with _lock:
        _runs.pop(run_id, None)
