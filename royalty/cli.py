"""The `royalty` command: one typer sub-app per group, each command a call into the library.

Errors from the library are printed as one line on stderr and mapped to the exit codes of
``ledger.errors`` (documented in docs/cli.md); there are no tracebacks for expected failures.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from ledger import __version__
from ledger.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, LedgerError
from royalty.commands import crawl, demo, formats, ingest, outlets, robots, schemes, settle, uploads, usage, verify
from royalty.commands import report as report_commands
from royalty.output import err

app = typer.Typer(
    name="royalty",
    help="AI-crawler attribution and royalty ledger: ingest logs, verify AI bots, settle compensation schemes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"royalty {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[Path, typer.Option("--db", envvar="ROYALTY_DB", help="The DuckDB ledger file.")] = Path(
        "royalty.duckdb"
    ),
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Example: royalty --db market.duckdb usage --period 2026-10 --by outlet,operator"""
    ctx.obj = {"db": db}


app.add_typer(outlets.app, name="outlets")
app.add_typer(report_commands.app, name="report")
app.command("ingest")(ingest.ingest)
app.add_typer(uploads.app, name="uploads")
app.command("formats")(formats.formats)
app.command("usage")(usage.usage)
app.command("referrals")(usage.referrals)
app.command("settle")(settle.settle)
app.command("compare")(settle.compare)
app.command("sweep")(settle.sweep)
app.command("statement")(settle.statement)
app.add_typer(schemes.app, name="schemes")
app.add_typer(schemes.operators_app, name="operators")
app.command("demo")(demo.demo)
app.add_typer(crawl.app, name="crawl")
app.add_typer(robots.app, name="robots")
app.command("verify")(verify.verify)


def run(argv: list[str]) -> int:
    """Run the CLI with ``argv``; returns the exit code instead of exiting.

    Usage errors are typer's (exit 2); the library's errors are one line on stderr with the code of
    their kind; an interrupt leaves the ledger as it was before the step that was running.
    """
    try:
        app(args=argv, prog_name="royalty")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except LedgerError as exc:
        err.print(Text("error: ", style="bold red") + Text(exc.message), soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted; the ledger is as it was before the interrupted step")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get("ROYALTY_DEBUG"):
            raise
        err.print(
            Text("internal error: ", style="bold red")
            + Text(
                f"{type(exc).__name__}: {exc}. The step in progress was rolled back. Please report this with the"
                " command you ran; set ROYALTY_DEBUG=1 to see the traceback."
            ),
            soft_wrap=True,
        )
        return EXIT_INTERNAL
    return 0


def main() -> None:
    """The console script: ``run`` and exit with its code.

    The exit handlers run (open files, temporary directories, logging), but not Python's teardown, which
    frees every object one at a time: 0.1 s after a large ingest, for memory the OS takes back at once.
    Every ledger is closed by the command that opened it."""
    code = run(sys.argv[1:])
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`royalty usage | head`), a closed stream
            stream.flush()
    os._exit(code)
