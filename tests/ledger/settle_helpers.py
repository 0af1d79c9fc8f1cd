"""Build small real DuckDB ledgers for the settlement and comparison tests.

A ledger is described compactly: ``{(outlet, operator, purpose, path): count, ...}`` gives ``count``
qualifying-looking fetches (GET, 200, declared, verified, AI, inside October 2026); a list of ``fetch(...)``
rows gives full control over one row. The upload row's content hash is derived from the rows, so two
ledgers with the same content get the same fingerprint and different content a different one.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from ledger.outlets import Outlet, save_outlets, validate_outlet
from ledger.period import Period
from ledger.schemes import Scheme, parse_schemes
from ledger.settle import Settlement
from ledger.store.db import Ledger

OCTOBER = Period.month("2026-10")
MID_OCTOBER = datetime(2026, 10, 15, 12, 0, tzinfo=UTC)
REGISTRY_VERSION = "registry-test-v1"

Usage = Mapping[tuple[str, str, str, str], int]

_FETCH_TYPES = {
    "upload_id": pa.string(),
    "line_no": pa.int64(),
    "ts": pa.timestamp("us", tz="UTC"),
    "outlet": pa.string(),
    "host": pa.string(),
    "path": pa.string(),
    "url": pa.string(),
    "method": pa.string(),
    "status": pa.int16(),
    "bytes": pa.int64(),
    "client_ip": pa.string(),
    "user_agent": pa.string(),
    "bot": pa.string(),
    "operator": pa.string(),
    "purpose": pa.string(),
    "ai": pa.bool_(),
    "attribution": pa.string(),
    "verification": pa.string(),
    "ip_list": pa.string(),
}


def fetch(
    outlet: str, operator: str = "OpenAI", purpose: str = "training", path: str = "/news/1", **overrides: Any
) -> dict[str, Any]:
    """One fetches row; everything not given is a verified, declared, successful GET in mid October 2026."""
    row = {
        "upload_id": "",
        "line_no": 0,
        "ts": MID_OCTOBER,
        "outlet": outlet,
        "host": f"{outlet}.kz",
        "path": path,
        "url": f"https://{outlet}.kz{path}",
        "method": "GET",
        "status": 200,
        "bytes": 1000,
        "client_ip": "192.0.2.1",
        "user_agent": f"{operator}Bot/1.0",
        "bot": f"{operator}Bot",
        "operator": operator,
        "purpose": purpose,
        "ai": True,
        "attribution": "declared",
        "verification": "verified",
        "ip_list": None,
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise TypeError(f"unknown fetch columns {sorted(unknown)}")
    row.update(overrides)
    return row


def expand(usage: Usage) -> list[dict[str, Any]]:
    """The compact ``{(outlet, operator, purpose, path): count}`` form as fetch rows."""
    return [fetch(o, op, p, path) for (o, op, p, path), n in usage.items() for _ in range(n)]


def _content_hash(rows: list[dict[str, Any]]) -> str:
    keys = sorted(repr(sorted((k, str(v)) for k, v in r.items() if k not in ("upload_id", "line_no"))) for r in rows)
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()


def add_outlets(ledger: Ledger, slugs: Iterable[str]) -> None:
    known = {r["slug"] for r in ledger.rows("SELECT slug FROM outlets")}
    new = [validate_outlet(Outlet(s, s.title(), (f"{s}.kz",))) for s in sorted(set(slugs) - known)]
    if new:
        save_outlets(ledger, new)


def add_upload(ledger: Ledger, rows: list[dict[str, Any]], *, salt: str = "") -> str:
    """Record an upload for ``rows`` (content hash from the rows and ``salt``) and insert the rows."""
    digest = _content_hash(rows) if not salt else hashlib.sha256((_content_hash(rows) + salt).encode()).hexdigest()
    upload_id = digest[:16]
    ledger.execute(
        "INSERT OR IGNORE INTO registry_versions VALUES (?, 'bots', 'ips', 'refs', 1, 1, ?)",
        [REGISTRY_VERSION, MID_OCTOBER],
    )
    ts = [r["ts"] for r in rows]
    ledger.execute(
        "INSERT INTO uploads (upload_id, source, content_sha256, raw_sha256, raw_bytes, content_bytes, compression,"
        " format, outlet, lines_total, lines_parsed, lines_rejected, ai_fetches, first_ts, last_ts, registry_version,"
        " ingested_at) VALUES (?, 'test.log', ?, ?, 0, 0, 'none', 'combined', NULL, ?, ?, 0, ?, ?, ?, ?, ?)",
        [
            upload_id,
            digest,
            digest,
            len(rows),
            len(rows),
            sum(r["ai"] for r in rows),
            min(ts, default=None),
            max(ts, default=None),
            REGISTRY_VERSION,
            MID_OCTOBER,
        ],
    )
    if rows:
        stamped = [{**r, "upload_id": upload_id, "line_no": i} for i, r in enumerate(rows, start=1)]
        table = pa.table({c: pa.array([r[c] for r in stamped], type=t) for c, t in _FETCH_TYPES.items()})
        ledger.insert_arrow("fetches", table)
    return upload_id


def build_ledger(path: Path | str, usage: Usage | list[dict[str, Any]] = (), *, outlets: Iterable[str] = ()) -> Ledger:
    """A real DuckDB ledger at ``path`` holding the described fetches in one upload."""
    rows = expand(usage) if isinstance(usage, Mapping) else list(usage)
    ledger = Ledger(path)
    add_outlets(ledger, {r["outlet"] for r in rows} | set(outlets))
    add_upload(ledger, rows)
    return ledger


def scheme(body: str, name: str = "s") -> Scheme:
    """One scheme from the body of its TOML table."""
    return parse_schemes(f"[schemes.{name}]\n{body}\n").get(name)


def column(run: Settlement, name: str = "amount") -> dict[str, object]:
    return dict(zip(run.payouts["outlet"].to_pylist(), run.payouts[name].to_pylist(), strict=True))


amounts = column


def assert_consistent(ledger: Ledger, run: Settlement) -> None:
    """Payouts add up to the stored total, per outlet and per cell."""
    head = ledger.rows("SELECT total, retained FROM settlements WHERE run_id = ?", [run.run_id])[0]
    cells = ledger.rows("SELECT coalesce(sum(amount), 0) AS s FROM payouts WHERE run_id = ?", [run.run_id])[0]["s"]
    assert sum(run.payouts["amount"].to_pylist(), Decimal(0)) == run.total == head["total"] == cells
    assert run.retained == head["retained"]


def csv_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer)
    return buffer.getvalue()


def register(ledger: Ledger, slug: str, **fields: Any) -> None:
    """An outlet with registry metadata (fte, regional_fte, group, rpm), added or updated."""
    values = {
        k: (Decimal(str(v)) if k in ("fte", "regional_fte", "rpm") and v is not None else v) for k, v in fields.items()
    }
    save_outlets(ledger, [validate_outlet(Outlet(slug, slug.title(), (f"{slug}.kz",), **values))], replace=True)


def add_referrals(ledger: Ledger, rows: list[tuple[str, str, int]], *, when: datetime = MID_OCTOBER) -> None:
    """``count`` referred visits per (outlet, operator), in one upload of their own."""
    upload = add_upload(ledger, [], salt=repr(rows))
    line = 0
    for outlet, operator, count in rows:
        for _ in range(count):
            line += 1
            ledger.execute(
                "INSERT INTO referrals (upload_id, line_no, ts, outlet, host, path, url, status, product, operator,"
                " referer_host) VALUES (?, ?, ?, ?, ?, '/r', NULL, 200, 'chat', ?, 'chat.example')",
                [upload, line, when, outlet, f"{outlet}.kz", operator],
            )


def figures(ledger: Ledger, tmp: Path, text: str, name: str = "operators.csv") -> None:
    """Import an operators' figures file with ``text`` (a CSV header and rows)."""
    from ledger.operators import import_operator_file

    path = tmp / name
    path.write_text(text, encoding="utf-8")
    import_operator_file(ledger, path)
