"""`royalty uploads list|show|rejects`: what each upload brought, and every line it rejected, by number."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import EXIT_CONFIG, EXIT_NOT_FOUND
from ledger.store.db import Ledger

GOOD = (
    '66.249.66.1 - - [{day:02d}/Oct/2026:10:00:{s:02d} +0000] "GET /news/{n} HTTP/1.1" 200 512 "-" '
    '"Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)"'
)


def _log(day: int, bad: dict[int, str]) -> bytes:
    """Twelve lines of a day, line ``k`` replaced by ``bad[k]`` (1-based)."""
    lines = [bad.get(k + 1, GOOD.format(day=day, s=k, n=k)) for k in range(12)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def ledger_with_uploads(cli, tmp_path: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two outlets' uploads: one with three rejected lines of two reasons, one whole."""
    cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz")
    cli("outlets", "add", "kt", "--name", "KT", "--domain", "kt.kz")
    first = tmp_path / "access-01.log.gz"
    text = _log(1, {3: "not a log line", 7: "", 9: "also not a log line"})
    first.write_bytes(gzip.compress(text))
    second = tmp_path / "kt-02.log"
    second.write_bytes(_log(2, {}))
    assert cli("ingest", str(first), "--outlet", "dala", "--format", "combined").code == 0
    assert cli("ingest", str(second), "--outlet", "kt", "--format", "combined").code == 0
    uploads = json.loads(cli("uploads", "list", "-f", "json").out)
    return {"uploads": uploads, "sha": hashlib.sha256(text).hexdigest(), "first": first}


def test_list_gives_every_upload_with_its_line_accounting(cli, ledger_with_uploads) -> None:  # type: ignore[no-untyped-def]
    uploads = ledger_with_uploads["uploads"]
    assert [(u["source"].rsplit("/", 1)[-1], u["outlet"], u["lines"], u["parsed"], u["rejected"]) for u in uploads] == [
        ("access-01.log.gz", "dala", 12, 9, 3),
        ("kt-02.log", "kt", 12, 12, 0),
    ]
    assert uploads[0]["content_sha256"] == ledger_with_uploads["sha"]  # the digest of the text, as sha256sum gives
    assert uploads[0]["ai_fetches"] == 9 and uploads[0]["first_ts"] == "2026-10-01T10:00:00Z"
    only_kt = json.loads(cli("uploads", "list", "--outlet", "kt", "-f", "json").out)
    assert [u["outlet"] for u in only_kt] == ["kt"]
    assert json.loads(cli("uploads", "list", "--from", "2026-10-02", "--to", "2026-10-31", "-f", "json").out) == only_kt
    assert json.loads(cli("uploads", "list", "--period", "2026-11", "-f", "json").out) == []


def test_show_gives_the_row_and_the_rejects_per_reason(cli, ledger_with_uploads) -> None:  # type: ignore[no-untyped-def]
    upload_id = ledger_with_uploads["uploads"][0]["upload_id"]
    shown = json.loads(cli("uploads", "show", upload_id, "-f", "json").out)
    assert shown["upload"]["upload_id"] == upload_id and shown["upload"]["compression"] == "gzip"
    assert shown["upload"]["lines_parsed"] + shown["upload"]["lines_rejected"] == shown["upload"]["lines_total"]
    reasons = {r["reason"]: (r["lines"], r["first_line"], r["last_line"]) for r in shown["rejects_by_reason"]}
    assert sum(lines for lines, _, _ in reasons.values()) == 3
    assert reasons["empty line"] == (1, 7, 7)
    assert sorted((first, last) for lines, first, last in reasons.values() if lines == 2) == [(3, 9)]
    assert shown["outlets"] == [
        {
            "outlet": "dala",
            "first_ts": "2026-10-01T10:00:00Z",
            "last_ts": "2026-10-01T10:00:11Z",
            "lines": 9,
            "ai_bot": 9,
            "undeclared_ai": 0,
            "other_bot": 0,
            "human": 0,
        }
    ]
    table = cli("uploads", "show", upload_id).out
    assert "raw_sha256" in table and "rejected lines per reason" in table and "empty line" in table


def test_show_splits_a_vhost_log_per_outlet(cli, ledger_with_uploads, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A vhost log names no outlet: each line's comes from its host, and show counts them per outlet."""
    browser = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
    )
    lines = [
        f'{host}:443 203.0.113.{k} - - [05/Oct/2026:08:00:{k:02d} +0000] "GET /a/{k} HTTP/1.1" 200 9 "-" "{agent}"'
        for k, (host, agent) in enumerate(
            [("dala.kz", browser)] * 3 + [("kt.kz", browser), ("kt.kz", "curl/8.4.0"), ("www.kt.kz", browser)]
        )
    ]
    path = tmp_path / "vhosts.log"
    path.write_text("\n".join(lines) + "\n")
    assert cli("ingest", str(path), "--format", "vhost_combined").code == 0
    shown = json.loads(cli("uploads", "show", "vhosts.log", "-f", "json").out)
    assert shown["upload"]["outlet"] is None
    assert [(o["outlet"], o["lines"], o["human"], o["other_bot"]) for o in shown["outlets"]] == [
        ("dala", 3, 3, 0),  # by lines, then by name
        ("kt", 3, 2, 1),
    ]
    assert [u["outlet"] for u in json.loads(cli("uploads", "list", "--outlet", "dala", "-f", "json").out)] == [
        "dala",
        "(by host)",
    ]


@pytest.mark.parametrize("how", ["id", "id prefix", "sha prefix", "file name", "path"])
def test_an_upload_is_named_by_id_digest_or_file(cli, ledger_with_uploads, how: str) -> None:  # type: ignore[no-untyped-def]
    upload_id = ledger_with_uploads["uploads"][0]["upload_id"]
    ref = {
        "id": upload_id,
        "id prefix": upload_id[:-3],
        "sha prefix": ledger_with_uploads["sha"][:10].upper(),
        "file name": "access-01.log.gz",
        "path": str(ledger_with_uploads["first"]),
    }[how]
    shown = json.loads(cli("uploads", "show", ref, "-f", "json").out)
    assert shown["upload"]["upload_id"] == upload_id


def test_rejects_gives_each_rejected_line_with_its_number_and_reason(cli, ledger_with_uploads) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("uploads", "rejects", "access-01.log.gz", "-f", "json").out)
    assert [(r["line_no"], r["raw"]) for r in rows] == [
        (3, "not a log line"),
        (7, ""),
        (9, "also not a log line"),
    ]
    assert rows[1]["reason"] == "empty line" and rows[0]["reason"] == rows[2]["reason"] != "empty line"
    one = json.loads(
        cli("uploads", "rejects", "access-01.log.gz", "--reason", rows[0]["reason"], "--limit", "1", "-f", "json").out
    )
    assert one == rows[:1]
    csv = cli("uploads", "rejects", "access-01.log.gz", "-f", "csv").out.splitlines()
    assert csv[0] == "line_no,reason,raw" and csv[1].startswith("3,") and len(csv) == 4
    assert json.loads(cli("uploads", "rejects", "kt-02.log", "-f", "json").out) == []


def test_rejected_lines_are_shown_as_they_are_brackets_and_all(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A table showed "2026/10/01 [error] 29#29" as "2026/10/01  29#29" (rich took [error] for a style), a
    line with "[/x]" in it failed the command, and an IPv6 address's ":1234:" became an emoji."""
    cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz")
    bad = {
        2: "2026/10/01 10:00:00 [error] 29#29: *1 open() failed",
        4: "GET /a[/b] [bold]x[/bold] [/]",
        6: "fd00:1234:5678::5a24 :smile: not a log line",  # ":1234:" was shown as an emoji
    }
    path = tmp_path / "brackets.log"
    path.write_bytes(_log(1, bad))
    assert cli("ingest", str(path), "--outlet", "dala", "--format", "combined").code == 0
    shown = cli("uploads", "rejects", "brackets.log")
    assert shown.code == 0
    table = "".join(shown.out.split())  # the table wraps long cells: compared without the layout's blanks
    for line in bad.values():
        assert "".join(line.split()) in table.replace("│", "")


def test_bad_names_and_options_say_what_is_known(cli, ledger_with_uploads) -> None:  # type: ignore[no-untyped-def]
    unknown = cli("uploads", "show", "nothing-like-it")
    assert unknown.code == EXIT_NOT_FOUND and "unknown upload 'nothing-like-it'" in unknown.err
    assert "royalty uploads list" in unknown.err
    ambiguous = cli("uploads", "show", "2")  # both ids start with the year
    assert ambiguous.code == EXIT_CONFIG and "names 2 uploads" in ambiguous.err and "access-01.log.gz" in ambiguous.err
    short_sha = cli("uploads", "show", ledger_with_uploads["sha"][:6])
    assert short_sha.code == EXIT_NOT_FOUND  # six hex digits name no upload: too few to be a digest
    reason = cli("uploads", "rejects", "access-01.log.gz", "--reason", "empty lines")
    assert reason.code == EXIT_CONFIG and "did you mean 'empty line'" in reason.err
    limit = cli("uploads", "rejects", "access-01.log.gz", "--limit", "0")
    assert limit.code == EXIT_CONFIG and "--limit" in limit.err


def test_the_commands_need_a_ledger(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("uploads", "list", db_path=tmp_path / "none.duckdb")
    assert result.code != 0 and "no ledger here yet" in result.err


def test_the_ingest_says_where_its_rejected_lines_are(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz")
    paths = []
    for day, bad in ((1, {2: "junk"}), (2, {}), (3, {5: "junk"})):
        paths.append(tmp_path / f"d{day}.log")
        paths[-1].write_bytes(_log(day, bad))
    one = cli("ingest", str(paths[0]), "--outlet", "dala", "--format", "combined")
    upload_id = json.loads(cli("uploads", "list", "-f", "json").out)[0]["upload_id"]
    assert f"royalty uploads rejects {upload_id} (per reason: royalty uploads show {upload_id})" in one.err
    assert "uploads rejects" not in cli("ingest", str(paths[0]), "--outlet", "dala").err  # a duplicate: nothing new
    assert "uploads rejects" not in cli("ingest", str(paths[1]), "--outlet", "dala").err  # nothing rejected
    several = cli("ingest", str(paths[2]), str(paths[0]), "--outlet", "dala", "--overlap", "keep")
    assert "rejects UPLOAD" not in several.err and f"uploads rejects {upload_id}" not in several.err
    assert "uploads rejects 2" in several.err  # the one new upload with rejects (the other a duplicate), by its id
    both = [tmp_path / "d5.log", tmp_path / "d6.log"]
    for day, path in zip((5, 6), both, strict=True):
        path.write_bytes(_log(day, {1: "junk"}))
    assert "royalty uploads rejects UPLOAD" in cli("ingest", *map(str, both), "--outlet", "dala").err
    fourth = tmp_path / "d4.log"
    fourth.write_bytes(_log(4, {1: "junk"}))
    as_json = cli("ingest", str(fourth), "--outlet", "dala", "--json")  # a machine reads it: nothing but the JSON
    assert json.loads(as_json.out)["rejected"] == 1 and "uploads rejects" not in as_json.err + as_json.out


TABLES = (
    "fetches",
    "referrals",
    "rejects",
    "traffic_daily",
    "upload_windows",
    "uploads",
    "robots_verdicts",
    "rdns_verdicts",
)


def _counts(db: Path, upload_id: str) -> dict[str, int]:
    with Ledger(db) as ledger:
        return {
            table: ledger.rows(f"SELECT count(*) AS n FROM {table} WHERE upload_id = ?", [upload_id])[0]["n"]
            for table in TABLES
        }


def test_a_mistaken_upload_is_removed_whole_and_its_file_can_come_again(  # type: ignore[no-untyped-def]
    cli, ledger_with_uploads, tmp_path: Path
) -> None:
    """Ingested with the wrong --outlet, a file was stuck: the same content again is a no-op. Removed, every
    row it brought goes, the removal is kept with its reason, and the file goes in again as it should."""
    db = tmp_path / "cli.duckdb"
    wrong = ledger_with_uploads["uploads"][0]
    with Ledger(db) as ledger:  # later judgements of its fetches (robots.txt, reverse DNS) go with it
        ledger.execute(
            "INSERT INTO robots_verdicts VALUES (?, 1, NULL, 'no_snapshot', NULL, NULL, now())", [wrong["upload_id"]]
        )
        ledger.execute(
            "INSERT INTO rdns_verdicts VALUES (?, 1, 'verified', '66.249.66.1', 'crawl.example', NULL, now())",
            [wrong["upload_id"]],
        )
    before = _counts(db, wrong["upload_id"])
    assert before["fetches"] == 9 and before["rejects"] == 3 and before["uploads"] == 1 and before["rdns_verdicts"] == 1
    again = cli("ingest", str(ledger_with_uploads["first"]), "--outlet", "kt")
    assert "already ingested" in again.err  # the trap: the same content is one upload
    removed = cli("uploads", "remove", "access-01.log.gz", "--reason", "ingested as dala's, is kt's")
    assert removed.code == 0, removed.err
    assert f"removed upload {wrong['upload_id']}" in removed.err and "12 lines, 9 AI fetches" in removed.err
    assert set(_counts(db, wrong["upload_id"]).values()) == {0}
    log = json.loads(cli("uploads", "list", "--removed", "-f", "json").out)
    assert [(r["upload_id"], r["content_sha256"], r["outlet"], r["lines_total"], r["reason"]) for r in log] == [
        (wrong["upload_id"], ledger_with_uploads["sha"], "dala", 12, "ingested as dala's, is kt's")
    ]
    assert json.loads(cli("usage", "--by", "outlet", "-f", "json").out) == [
        {"outlet": "kt", "fetches": 12, "unique_urls": 12}
    ]
    redone = cli("ingest", str(ledger_with_uploads["first"]), "--outlet", "kt", "--format", "combined", "--json")
    assert redone.code == 0 and json.loads(redone.out)["duplicate_upload"] is False
    usage = json.loads(cli("usage", "--by", "outlet", "-f", "json").out)
    assert usage == [{"outlet": "kt", "fetches": 21, "unique_urls": 12}]


def test_an_upload_a_settlement_read_stays(cli, ledger_with_uploads, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    schemes = tmp_path / "schemes.toml"
    schemes.write_text(
        '[schemes.tariff]\nfamily = "per_fetch"\nprice = { training = 5.00, search = 2.50, user = 1.00 }\n'
    )
    settled = cli("settle", "--schemes", str(schemes), "--scheme", "tariff", "--period", "2026-10", "-f", "json")
    assert settled.code == 0, settled.err
    upload_id = ledger_with_uploads["uploads"][0]["upload_id"]
    refused = cli("uploads", "remove", upload_id, "--reason", "too late")
    assert refused.code == EXIT_CONFIG and "read by 1 stored settlement run" in refused.err
    assert _counts(tmp_path / "cli.duckdb", upload_id)["fetches"] == 9
    assert json.loads(cli("uploads", "list", "--removed", "-f", "json").out) == []


def test_a_removal_says_why(cli, ledger_with_uploads) -> None:  # type: ignore[no-untyped-def]
    blank = cli("uploads", "remove", "kt-02.log", "--reason", "  ")
    assert blank.code == EXIT_CONFIG and "say why" in blank.err
    mixed = cli("uploads", "list", "--removed", "--outlet", "kt")
    assert mixed.code == EXIT_CONFIG and "--removed" in mixed.err
