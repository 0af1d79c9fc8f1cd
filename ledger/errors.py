"""One hierarchy for every error the ledger reports to a person.

Each error carries the facts a caller needs (path, line, key, allowed values) and a message that says
what to do next. ``exit_code`` is the CLI's exit status for that kind of error; the table lives here so
that the CLI maps errors to codes in one place (see docs/cli.md).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

# Exit codes (documented in docs/cli.md).
EXIT_OK = 0
EXIT_INPUT = 3  # a log file or CSV that cannot be read or parsed
EXIT_NOT_FOUND = 4  # an outlet, scheme, run or file that does not exist
EXIT_CONFIG = 5  # a schemes file, registry or option value that is invalid
EXIT_LEDGER = 6  # the DuckDB ledger cannot be opened or written
EXIT_INTERNAL = 70  # a bug: the step in progress was rolled back
EXIT_INTERRUPTED = 130


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """A short hint naming the closest allowed value, or an empty string."""
    close = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    exit_code = EXIT_CONFIG

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(LedgerError):
    """A file given by the user cannot be read or parsed."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, *, path: Path | str | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f":{line}"
            where += ": "
        super().__init__(where + message)
        self.path = path
        self.line = line


class EmptyInputError(InputError):
    """A file with no content at all (``null_bytes``: none but a hole of that many null bytes, as a
    copytruncate rotation leaves before the server's next line): nothing to ingest."""

    def __init__(self, path: Path | str, null_bytes: int = 0) -> None:
        self.what = (
            f"the file holds only null bytes ({null_bytes:,}: a hole, as a crash or a copytruncate rotation leaves)"
            if null_bytes
            else "the file is empty"
        )
        super().__init__(f"{self.what}; nothing to ingest", path=path)


class FormatDetectionError(InputError):
    """No known log format matches the start of a file."""

    def __init__(
        self,
        path: Path | str,
        tried: Iterable[str],
        first_bad_line: int,
        sample: str,
        given: str | None = None,
        binary: tuple[int, int] | None = None,
    ) -> None:
        """``given``: the option that named the one format tried (``--format`` or ``--log-format``), None
        when the formats were sniffed; ``first_bad_line``: the first line of those tried that is not blank;
        ``binary``: how many control characters there were among how many of the first lines' characters,
        when so many say this is no text (``binary_share``)."""
        tried = list(tried)
        if binary is not None:
            message = (
                f"binary data, not a text log: {binary[0]:,} of its first {binary[1]:,} characters are control "
                f"characters (line {first_bad_line}: {sample[:60]!r}); tried {', '.join(tried)}. Check that this "
                "is the access log itself (gzip, bzip2, xz and zstd files are read as the text they hold)."
            )
        elif given == "--log-format":
            message = (
                f"no line parses with the --log-format string from line {first_bad_line} on "
                f"({sample[:120]!r}); tried {', '.join(tried)}. Check the string against the server's own "
                "configuration (`royalty ingest --dry-run` shows how the first lines parse), or that this is an "
                "access log."
            )
        elif given is not None:
            message = (
                f"no line parses as the '{tried[0]}' format from line {first_bad_line} on ({sample[:120]!r}); "
                f"tried {', '.join(tried)}. Check that --format names this log's format (`royalty formats` lists "
                "them with an example line each, `royalty ingest --dry-run` shows how the first lines parse, "
                "--format auto sniffs it), or that this is an access log."
            )
        else:
            message = (
                f"no known log format matches line {first_bad_line} ({sample[:120]!r}); tried {', '.join(tried)}. "
                "Pass --format if the format is known; for a layout of the server's own, pass its format string "
                "with --log-format (Apache's LogFormat or nginx's log_format, as in its configuration); or check "
                "that this is an access log."
            )
        super().__init__(message, path=path)
        self.tried = tried
        self.first_bad_line = first_bad_line
        self.binary = binary


# How much of a file's first characters a text log never has as control characters (tab, carriage
# return, newline and the escape of terminal colours aside): nginx and Apache write them escaped, JSON as
# \uXXXX. Random bytes have about one in twenty (one byte in nine, and the bytes that are not UTF-8 become
# four-character \xHH escapes); an executable, more.
BINARY_SHARE = 0.03
BINARY_LOOK = 4096  # characters looked at


def binary_share(lines: Iterable[str]) -> tuple[int, int] | None:
    """(control characters, characters looked at) among the first BINARY_LOOK characters of ``lines``, when
    they are at least BINARY_SHARE of them: binary data, not a text log; else None."""
    pieces, size = [], 0
    for line in lines:  # up to BINARY_LOOK characters (a binary file's first "line" can be megabytes)
        pieces.append(line[: BINARY_LOOK - size])
        size += len(pieces[-1]) + 1
        if size >= BINARY_LOOK:
            break
    text = "\n".join(pieces)[:BINARY_LOOK]
    control = sum(1 for char in text if char < " " and char not in "\t\r\n\x1b")
    return (control, len(text)) if control >= 8 and control >= BINARY_SHARE * len(text) else None


class NotFoundError(LedgerError):
    """A named thing (outlet, scheme, run) does not exist."""

    exit_code = EXIT_NOT_FOUND

    def __init__(self, kind: str, name: str, known: Iterable[str] = (), hint: str = "") -> None:
        known = sorted(known)
        message = f"unknown {kind} '{name}'{did_you_mean(name, known)}"
        if known:
            shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
            message += f" known: {shown}"
        if hint:
            message += f". {hint}"
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.known = known


class ConfigError(LedgerError):
    """A configuration file or option value is invalid."""

    exit_code = EXIT_CONFIG

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        key: str | None = None,
        allowed: Iterable[str] | None = None,
        value: object = None,
    ) -> None:
        parts = []
        if path is not None:
            parts.append(str(path))
        if key is not None:
            parts.append(key)
        text = (": ".join(parts) + ": " if parts else "") + message
        if allowed is not None:
            allowed = list(allowed)
            if isinstance(value, str):
                text += did_you_mean(value, allowed)
            text += f" (allowed: {', '.join(allowed)})"
        super().__init__(text)
        self.path = path
        self.key = key
        self.allowed = allowed
        self.value = value


class SchemeError(ConfigError):
    """One or more problems in a schemes TOML file; ``problems`` lists every one of them."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{count}:\n  " + "\n  ".join(problems), path=path)
        self.problems = problems


class RegistryError(ConfigError):
    """The bot registry or an IP list is invalid."""


class LedgerStoreError(LedgerError):
    """The DuckDB ledger cannot be opened, migrated or written."""

    exit_code = EXIT_LEDGER
