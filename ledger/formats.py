"""Log formats as data: presets compiled from Apache ``LogFormat`` strings into one regex each.

A format string such as ``%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`` becomes a regex with
named groups for the fields the ledger uses (client, time, request, status, bytes, referer, user_agent,
host, forwarded_for); directives the ledger does not need match without capturing. Quoted fields accept
Apache/nginx escapes (``\\"``, ``\\\\``, ``\\xHH``). Extra fields after the format's last directive are
tolerated (many servers append ``$request_time`` or a forwarded-for list) and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ledger.errors import ConfigError

# Canonical fields a format may provide, and what fills them.
FIELDS = ("client", "time", "request", "status", "bytes", "referer", "user_agent", "host", "forwarded_for")

_QUOTED_BODY = r'(?:[^"\\]|\\.)*'
_TOKEN = r"\S+"
_CLIENT = r"\S+(?:,\s*\S+)*?"  # an X-Forwarded-For chain written into the address field
_TIME = r"[^\]]+"

# directive -> (field or None, regex of its value when unquoted)
_DIRECTIVES: dict[str, tuple[str | None, str]] = {
    "h": ("client", _CLIENT),
    "a": ("client", _CLIENT),
    "l": (None, _TOKEN),
    "u": (None, _TOKEN),
    "t": ("time", _TIME),
    "r": ("request", _QUOTED_BODY),
    "s": ("status", r"\d{3}"),
    ">s": ("status", r"\d{3}"),
    "<s": ("status", r"\d{3}"),
    "b": ("bytes", r"\d+|-"),
    "B": ("bytes", r"\d+"),
    "O": ("bytes", r"\d+|-"),
    "I": (None, r"\d+|-"),
    "v": ("host", r"[^\s:]+(?::\d+)?"),
    "V": ("host", r"[^\s:]+(?::\d+)?"),
    "D": (None, r"\d+|-"),
    "T": (None, r"[\d.]+|-"),
    "p": (None, r"\d+"),
}
_HEADERS = {
    "referer": "referer",
    "user-agent": "user_agent",
    "host": "host",
    "x-forwarded-for": "forwarded_for",
}
_DIRECTIVE_RE = re.compile(r"%(?:\{([^}]*)\})?([<>]?[a-zA-Z])")


@dataclass(frozen=True)
class LogFormat:
    name: str
    format_string: str
    regex: str
    fields: tuple[str, ...]
    time_format: str
    example: str
    description: str

    @property
    def has_host(self) -> bool:
        return "host" in self.fields


def compile_log_format(name: str, format_string: str, example: str = "", description: str = "") -> LogFormat:
    """Compile an Apache ``LogFormat`` string into a ``LogFormat`` with a single anchored regex."""
    parts: list[str] = []
    fields: list[str] = []
    position = 0
    for match in _DIRECTIVE_RE.finditer(format_string):
        parts.append(re.escape(format_string[position : match.start()]).replace(r"\ ", " "))
        parts.append(_directive_regex(match, format_string, fields))
        position = match.end()
    parts.append(re.escape(format_string[position:]).replace(r"\ ", " "))
    regex = "^" + "".join(parts) + r"(?:\s.*)?$"
    try:
        re.compile(regex)
    except re.error as exc:  # pragma: no cover - the directive table only yields valid regexes
        raise ConfigError(f"cannot compile format string: {exc}", key=name) from exc
    return LogFormat(name, format_string, regex, tuple(fields), "%d/%b/%Y:%H:%M:%S %z", example, description)


def _directive_regex(match: re.Match[str], format_string: str, fields: list[str]) -> str:
    argument, code = match.group(1), match.group(2)
    quoted = match.start() > 0 and format_string[match.start() - 1] == '"'
    if argument is not None and code == "i":
        field = _HEADERS.get(argument.lower())
        value = _QUOTED_BODY if quoted else _TOKEN
    elif argument is not None and code == "t":
        raise ConfigError(f"custom time format '%{{{argument}}}t' is not supported; use %t", key=format_string)
    elif code in _DIRECTIVES:
        field, value = _DIRECTIVES[code]
        if quoted and value not in (_QUOTED_BODY,):
            value = _QUOTED_BODY
    elif argument is not None:
        field, value = None, _QUOTED_BODY if quoted else _TOKEN
    else:
        raise ConfigError(
            f"unsupported directive '%{code}' in format string",
            key=format_string,
            allowed=sorted(_DIRECTIVES),
            value=code,
        )
    if field is None or field in fields:
        group = f"(?:{value})"
    else:
        fields.append(field)
        group = f"(?P<{field}>{value})"
    return rf"\[{group}\]" if code == "t" else group  # Apache writes %t as [time]


_COMBINED = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"'

PRESETS: dict[str, LogFormat] = {
    fmt.name: fmt
    for fmt in (
        compile_log_format(
            "vhost_combined",
            "%v " + _COMBINED,  # %v accepts an optional :port, so this is Apache's "%v:%p %h ..." too
            'news.example.kz:443 203.0.113.9 - - [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 200 512 '
            '"https://chatgpt.com/" "Mozilla/5.0"',
            "Apache's vhost_combined (%v:%p then combined); the :port is optional.",
        ),
        compile_log_format(
            "combined",
            _COMBINED,
            '203.0.113.9 - - [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 200 512 "-" "Mozilla/5.0"',
            "NCSA combined (Apache 'combined', nginx default 'combined').",
        ),
        compile_log_format(
            "common",
            '%h %l %u %t "%r" %>s %b',
            '203.0.113.9 - - [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 200 512',
            "NCSA common log format (no referer, no user agent).",
        ),
    )
}
FORMAT_CHOICES = ("auto", "combined", "common", "vhost_combined")
SNIFF_ORDER = ("vhost_combined", "combined", "common")


@cache
def get_format(name: str) -> LogFormat:
    if name not in PRESETS:
        raise ConfigError(f"unknown format '{name}'", key="--format", allowed=FORMAT_CHOICES, value=name)
    return PRESETS[name]
