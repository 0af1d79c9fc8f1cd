"""The `royalty` console script's first step, before the command line is imported.

Importing the command line (typer, polars, DuckDB, pyarrow, numpy) takes about a quarter of a second
with one core busy. For `royalty ingest FILE`, the file is opened first and its first blocks read (the
other core decompresses and hashes them: ``ledger.blocks.start_early``) while that import runs; the ingest
takes them over. The arguments are only looked at here, not checked: the command line parses them as
always, and an early reading the ingest does not take (another file first, a file changed since) is
dropped.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

# The options that take a value, of the root command and of `royalty ingest`, and the flags of `ingest`
# that do not stop an early reading (tests/test_cli.py checks them against the command line's own).
ROOT_VALUES = frozenset({"--db"})
INGEST_VALUES = frozenset({"--outlet", "--format", "--log-format", "--overlap", "--timezone", "--lines"})
INGEST_FLAGS = frozenset({"--json"})


def first_input(argv: Sequence[str]) -> str | None:
    """The first input of `royalty ingest` in ``argv``, when it is one to read early: not stdin, not with
    ``--dry-run`` or ``--help``, and nothing in the arguments this does not know."""
    args = iter(argv)
    for arg in args:
        if arg in ROOT_VALUES:
            next(args, None)
        elif arg.split("=", 1)[0] not in ROOT_VALUES:
            if arg != "ingest":
                return None  # another command, or --version, --help
            break
    else:
        return None
    found = None
    for arg in args:
        if arg == "--":
            found = found or next(args, None)
            break
        if arg in INGEST_VALUES:
            next(args, None)
        elif arg.startswith("-") and arg != "-":
            if arg.split("=", 1)[0] not in INGEST_VALUES and arg not in INGEST_FLAGS:
                return None  # --dry-run, --help, or an option not known here
        else:
            found = found or arg
    return found if found != "-" else None


def main() -> None:
    """Start reading the file to ingest, then run the command line."""
    path = first_input(sys.argv[1:])
    if path is not None:
        from ledger.blocks import start_early

        start_early(path)
    from royalty.cli import main as cli_main

    cli_main()
