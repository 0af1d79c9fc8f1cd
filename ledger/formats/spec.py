"""What a log format is: the fields it carries and how they are found, as plain data.

Three kinds of format:

- ``text``: a line layout compiled from a format string (Apache ``LogFormat`` or nginx ``log_format``)
  into one anchored regex with named groups, plus, when the layout allows it, a *split plan*: the line is
  cut at its double quotes and only the short unquoted pieces go through small regexes. The plan is an
  optimisation with the same result; a line it cannot handle takes the full regex.
- ``json``: one JSON object per line (nginx ``escape=json``, Caddy, Traefik, Cloudflare Logpush, Fastly),
  with a map from canonical fields to JSON paths, after an optional prefix (syslog, docker compose).
- ``w3c``: W3C extended logs (IIS, CloudFront) whose ``#Fields:`` directive names the columns and may
  change mid-file.

Canonical fields: client, forwarded_for, time, date, request, method, path, query, protocol, status,
bytes, referer, user_agent, host, content_type.
"""

from __future__ import annotations

from dataclasses import dataclass

CANONICAL = (
    "client",
    "forwarded_for",
    "time",
    "date",
    "request",
    "method",
    "path",
    "query",
    "protocol",
    "status",
    "bytes",
    "referer",
    "user_agent",
    "host",
    "content_type",
)
CLF = "%d/%b/%Y:%H:%M:%S %z"


# One item of a piece: ("lit", one character, None) | ("val", value regex, field or None) | ("trail", "", None)
Step = tuple[str, str, str | None]


@dataclass(frozen=True)
class Piece:
    """An unquoted stretch of a text layout, between two double quotes (or the line's ends)."""

    regex: str  # anchored; named groups for the canonical fields it holds
    fields: tuple[str, ...]
    steps: tuple[Step, ...] = ()  # the same pattern item by item, for the native splitter (ledger.parse.native)


@dataclass(frozen=True)
class SplitPlan:
    """Cut a line at its first ``quotes`` double quotes; pieces are unquoted, values are quoted fields."""

    quotes: int
    pieces: tuple[Piece, ...]  # at even positions of the split: 0, 2, 4, ...
    values: tuple[str | None, ...]  # the field of each quoted value (odd positions), None when unused


@dataclass(frozen=True)
class LogFormat:
    name: str
    kind: str  # text | json | w3c
    description: str = ""
    example: str = ""
    format_string: str = ""
    time_kind: str = CLF  # iso8601 | epoch | epoch_auto | auto, or a strptime format
    timezone: str | None = None  # the zone of times written without an offset (--timezone); else UTC
    fields: tuple[str, ...] = ()
    # text
    regex: str = ""
    plan: SplitPlan | None = None
    # json
    paths: tuple[tuple[str, str], ...] = ()  # (canonical field, dotted JSON path; [0] takes a list's first item)
    prefix: str = ""  # regex of what may precede the JSON object (syslog header, docker prefix)
    # w3c
    separator: str = " "
    plus_is_space: bool = False  # IIS writes spaces in the user agent as '+'
    url_encoded: tuple[str, ...] = ()  # fields written URL-encoded (CloudFront: once or twice; JSON: once)
    sniff: str = ""  # a regex a line of this format matches (for --format auto)

    @property
    def has_host(self) -> bool:
        return "host" in self.fields

    @property
    def zoned(self) -> bool:
        """Whether its times carry their zone (an offset, a Z, or the epoch); else they are read in
        ``timezone``. W3C times are UTC by the standard (IIS writes #GMT-Offset when they are not)."""
        return (
            self.kind == "w3c" or self.time_kind in ("iso8601", "epoch", "epoch_auto", "auto") or "%z" in self.time_kind
        )
