"""The ingest command's options: formats, --dry-run, --log-format, --overlap, and stdin."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import EXIT_INPUT, EXIT_NOT_FOUND
from ledger.store.db import Ledger
from royalty.launch import INGEST_FLAGS, INGEST_VALUES, ROOT_VALUES, first_input
from tests.conftest import IMC as IMC_PATH

IMC = str(IMC_PATH)


def test_formats_lists_every_preset_with_an_example(cli) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(cli("formats", "--format", "json").out)
    names = [r["format"] for r in rows]
    assert names[:2] == ["cloudfront", "w3c"] and names[-2:] == ["combined", "common"]
    assert all(r["example"] and r["description"] for r in rows)


def test_dry_run_shows_the_first_lines_and_writes_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("outlets", "add", "websitec", "--name", "Website C", "--domain", "websitec.com")
    result = cli("ingest", IMC, "--outlet", "websitec", "--dry-run", "--lines", "300", "--json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert len(rows) == 300 and "format combined (nothing written)" in result.err
    gptbot = [r for r in rows if r["bot"] == "GPTBot"]
    assert gptbot and gptbot[0]["class"] == "ai_bot" and gptbot[0]["verification"] == "verified"
    assert json.loads(cli("usage", "-f", "json").out) == []


@pytest.mark.parametrize(
    ("record", "said"),
    [
        ('{{"log":"{line}\\n","stream":"stdout","time":"2026-10-01T05:00:00Z"}}', "Docker's json-file records"),
        ("2026-10-01T05:00:00.1Z stdout F {line}", "the container runtime's prefixed lines"),
    ],
)
def test_dry_run_says_what_the_lines_were_read_out_of(cli, tmp_path: Path, record: str, said: str) -> None:  # type: ignore[no-untyped-def]
    cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz")
    line = "203.0.113.9 - - [01/Oct/2026:10:00:00 +0500] /a 200 5"  # a made layout: no quotes to escape
    path = tmp_path / "0.log"
    path.write_text("\n".join(record.format(line=line) for _ in range(3)) + "\n")
    result = cli("ingest", str(path), "--outlet", "dala", "--dry-run", "--log-format", "%h %l %u %t %U %>s %b")
    assert result.code == 0, result.err
    assert f"format custom, the lines read out of {said} (nothing written)" in result.err


def test_log_format_option(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "custom.log"
    log.write_text(
        '203.0.113.9 [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 200 12 "Mozilla/5.0 (compatible; GPTBot/1.1)" '
        "dala.kz\n"
    )
    cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz")
    fmt = '$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_user_agent" $host'
    result = cli("ingest", str(log), "--log-format", fmt, "--json")
    record = json.loads(result.out)
    assert (record["format"], record["parsed"], record["ai_fetches"]) == ("custom", 1, 1)


def test_stdin(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io
    import sys

    cli("outlets", "add", "websitec", "--name", "Website C", "--domain", "websitec.com")

    class FakeStdin:
        buffer = io.BufferedReader(io.BytesIO(Path(IMC).read_bytes()))  # type: ignore[arg-type]

    monkeypatch.setattr(sys, "stdin", FakeStdin)
    record = json.loads(cli("ingest", "-", "--outlet", "websitec", "--json").out)
    assert (record["source"], record["lines"]) == ("<stdin>", 4141)


def test_no_file_matches_a_glob(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("outlets", "add", "x", "--name", "X", "--domain", "x.kz")
    result = cli("ingest", str(tmp_path / "*.log.gz"), "--outlet", "x")
    assert result.code == EXIT_INPUT and "no file matches this pattern" in result.err


def test_the_command_keeps_numpy_blas_to_one_thread() -> None:
    """OpenBLAS threads spin while idle (1% of an ingest's CPU) and nothing here does linear algebra;
    a user's own setting wins."""
    probe = "import os, royalty, numpy; print(os.environ['OPENBLAS_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "OPENBLAS_NUM_THREADS": "4"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "4"


def test_the_console_script_exits_with_its_code_and_all_its_output(tmp_path: Path) -> None:
    """The console script (``royalty.launch``, which reads the file to ingest early) runs the command
    line, whose ``main`` skips Python's teardown: all that a command printed (megabytes through a pipe) is there,
    the exit code is the command's, the ledger it wrote is complete, and the exit handlers ran, with
    what they printed last."""
    db = str(tmp_path / "l.duckdb")
    script = (
        "import atexit, sys; atexit.register(lambda: sys.stdout.write('handler ran')); "
        "from royalty.launch import main; sys.argv = ['royalty'] + sys.argv[1:]; main()"
    )

    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as a user's shell has it

    def royalty(*args: str) -> tuple[int, str, str]:
        done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=buffered)
        assert done.stdout.endswith("handler ran"), done.stdout[-200:]
        return done.returncode, done.stdout.removesuffix("handler ran"), done.stderr

    code, _, errors = royalty("--db", db, "ingest", IMC, "--outlet", "imc")
    assert code == EXIT_NOT_FOUND and "imc" in errors  # no such outlet yet
    assert royalty("--db", db, "outlets", "add", "imc", "--name", "IMC", "--domain", "websitec.com")[0] == 0
    code, shown, _ = royalty("--db", db, "ingest", IMC, "--outlet", "imc", "--dry-run", "--lines", "10000", "--json")
    assert code == 0 and len(shown) > 1_000_000
    json.loads(shown)  # whole, to its last byte
    code, out, errors = royalty("--db", db, "ingest", IMC, "--outlet", "imc", "--json")
    assert code == 0, errors
    result = json.loads(out)
    with Ledger(db, read_only=True) as ledger:
        assert ledger.rows("SELECT lines_total FROM uploads")[0]["lines_total"] == result["lines"] > 4000
        assert ledger.rows("SELECT count(*) AS n FROM fetches WHERE ai")[0]["n"] == result["ai_fetches"] > 0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ingest", "a.log"], "a.log"),
        (["--db", "x.duckdb", "ingest", "--outlet", "o", "a.log.gz", "b.log"], "a.log.gz"),
        (["--db=x.duckdb", "ingest", "--format=combined", "--json", "a.log"], "a.log"),
        (["ingest", "--log-format", "$remote_addr [$time_local]", "--overlap", "keep", "a.log"], "a.log"),
        (["ingest", "--", "-odd-name.log"], "-odd-name.log"),
        (["ingest", "a.log", "--dry-run"], None),  # reads a few lines only
        (["ingest", "--help"], None),
        (["ingest", "-"], None),  # stdin
        (["ingest", "--an-option-not-known-here", "a.log"], None),
        (["usage", "a.log"], None),
        (["--version"], None),
        ([], None),
    ],
)
def test_the_console_script_reads_early_only_the_first_file_to_ingest(argv: list[str], expected: str | None) -> None:
    assert first_input(argv) == expected


def test_the_console_script_knows_every_option_of_ingest_that_takes_a_value() -> None:
    """``first_input`` skips the values of options; an option added to ``ingest`` must be known to it."""
    import typer.main

    from royalty.cli import app

    root = typer.main.get_command(app)
    command = root.commands["ingest"]  # type: ignore[attr-defined]

    def options(params: list[Any], flags: bool) -> set[str]:  # click's (or typer's own copy of it)
        found = set()
        for param in params:
            if param.param_type_name == "option" and param.is_flag == flags:
                found.update(param.opts)
        return found

    assert options(root.params, flags=False) == ROOT_VALUES
    assert options(command.params, flags=False) == INGEST_VALUES
    assert options(command.params, flags=True) == INGEST_FLAGS | {"--dry-run"}


def test_the_console_script_starts_reading_before_it_imports_the_heavy_libraries(tmp_path: Path) -> None:
    """The point of reading early: nothing on the way to ``start_early`` imports what takes the time."""
    log = tmp_path / "a.log.gz"
    log.write_bytes(gzip.compress(b"line\n" * 1000))
    probe = (
        "import sys, royalty.launch, ledger.blocks\n"
        f"ledger.blocks.start_early(royalty.launch.first_input(['ingest', {str(log)!r}]))\n"
        "assert ledger.blocks._early is not None\n"
        "print(sorted(m for m in ('polars', 'numpy', 'pyarrow', 'duckdb', 'typer', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_timezone_reads_haproxy_s_local_times_from_the_command_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`--timezone Asia/Almaty`: HAProxy's 10:00 local is 05:00 UTC, in the dry run and in the ledger."""
    log = tmp_path / "haproxy.log"
    log.write_text(
        "203.0.113.9:14853 [01/Oct/2026:10:00:00.127] https-in~ web/node1 170/0/0/3/173 200 739 - - --NN "
        '0/0/0/0/0 0/0 "GET /news/1 HTTP/1.1"\n'
    )
    assert cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz").code == 0
    args = ["ingest", str(log), "--outlet", "dala", "--format", "haproxy", "--timezone", "Asia/Almaty"]
    shown = cli(*args, "--dry-run", "--json")
    assert shown.code == 0, shown.err
    assert json.loads(shown.out)[0]["ts"] == "2026-10-01T05:00:00.127000Z"
    done = cli(*args)
    assert done.code == 0, done.err
    with Ledger(tmp_path / "cli.duckdb") as ledger:
        assert str(ledger.rows("SELECT first_ts FROM uploads")[0]["first_ts"]) == "2026-10-01 05:00:00.127000+00:00"


def test_an_empty_file_in_a_directory_is_reported_skipped(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """In each of the command's outputs (text, JSON, --dry-run) the empty file is named, with why it was
    skipped; the exit code is 0. Named on its own, it is an input error."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_bytes(b"")
    (logs / "access.log.1").write_bytes(Path(IMC).read_bytes()[:20_000].rsplit(b"\n", 1)[0] + b"\n")
    cli("outlets", "add", "websitec", "--name", "Website C", "--domain", "websitec.com")
    dry = cli("ingest", str(logs), "--outlet", "websitec", "--dry-run")
    assert dry.code == 0 and f"{logs / 'access.log'}: skipped: the file is empty, nothing to ingest" in dry.err
    result = cli("ingest", str(logs), "--outlet", "websitec", "--json")
    assert result.code == 0, result.err
    empty, written = (json.loads(line) for line in result.out.splitlines())
    assert (empty["source"], empty["upload_id"], empty["lines"]) == (str(logs / "access.log"), None, 0)
    assert empty["skipped"] == "the file is empty, nothing to ingest"
    assert written["skipped"] is None and written["parsed"] > 0 and not written["duplicate_upload"]
    again = cli("ingest", str(logs), "--outlet", "websitec")
    assert again.code == 0 and f"{logs / 'access.log'}: skipped: the file is empty, nothing to ingest" in again.err
    alone = cli("ingest", str(logs / "access.log"), "--outlet", "websitec")
    assert alone.code == EXIT_INPUT and "the file is empty; nothing to ingest" in alone.err


def test_holes_of_null_bytes_are_taken_out_and_on_record(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A copytruncate rotation's hole before the first line, and a crash's in the middle of a line: the
    lines written after them are read whole (the address is the bot's, not nulls glued to it, so it is
    verified as the others), the upload keeps the holes' counts, and the command says what was cut."""
    gptbot = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
    lines = [
        f'20.171.207.{n} - - [01/Oct/2026:00:00:0{n} +0000] "GET /news/a{n} HTTP/1.1" 200 512 "-" "{gptbot}"'.encode()
        for n in range(4)
    ]
    log = tmp_path / "access.log"
    crash = lines[1][:30] + b"\0" * 4096  # the start of line 1 written, the rest of the block never was
    log.write_bytes(b"\0" * 9000 + lines[0] + b"\n" + crash + lines[2] + b"\n" + lines[3] + b"\n")
    cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz")
    result = cli("ingest", str(log), "--outlet", "dala")
    assert result.code == 0, result.err
    assert (
        f"{log}: 2 runs of null bytes (13,096 bytes) taken out (holes a crash or a copytruncate rotation leaves "
        "in a log): the lines were read from after them; on 1 line(s), the text before one was cut off by it and "
        "not read"
    ) in " ".join(result.err.split())
    with Ledger(tmp_path / "cli.duckdb") as ledger:
        fetches = ledger.con.execute("SELECT line_no, client_ip, verification, path FROM fetches ORDER BY 1").fetchall()
        upload = ledger.con.execute("SELECT lines_total, lines_rejected, null_runs, null_bytes, null_cuts FROM uploads")
        assert upload.fetchall() == [(3, 0, 2, 13096, 1)]
    assert fetches == [
        (1, "20.171.207.0", "verified", "/news/a0"),
        (2, "20.171.207.2", "verified", "/news/a2"),
        (3, "20.171.207.3", "verified", "/news/a3"),
    ]
    record = json.loads(cli("ingest", str(log), "--outlet", "dala", "--json").out)
    assert record["duplicate_upload"] and record["null_runs"] == 0  # nothing read again


def test_a_file_of_null_bytes_only_says_so(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Right after a copytruncate rotation, before the server's next line, a log is only a hole."""
    (tmp_path / "logs").mkdir()
    log = tmp_path / "logs" / "access.log"
    log.write_bytes(b"\0" * 5000)
    cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz")
    alone = cli("ingest", str(log), "--outlet", "dala")
    message = "the file holds only null bytes (5,000: a hole, as a crash or a copytruncate rotation leaves)"
    assert alone.code == EXIT_INPUT and f"{message}; nothing to ingest" in " ".join(alone.err.split())
    found = cli("ingest", str(tmp_path / "logs"), "--outlet", "dala", "--json")
    assert found.code == 0 and json.loads(found.out)["skipped"] == f"{message}, nothing to ingest"
