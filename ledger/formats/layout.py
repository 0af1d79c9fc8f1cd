"""Text log layouts from format strings: Apache ``LogFormat`` (``%h %t "%r"``) and nginx ``log_format``
(``$remote_addr [$time_local] "$request"``), compiled once into a full regex and a split plan.

Quoted values accept the servers' escapes (``\\"``, ``\\\\``, ``\\xHH``). Extra fields after the
layout's last directive are tolerated (many servers append ``$request_time`` or a forwarded-for list)
and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ledger.errors import ConfigError
from ledger.formats.spec import CLF, LogFormat, Piece, SplitPlan, Step

QUOTED_BODY = r'(?:[^"\\]|\\.)*'
TOKEN = r"\S+"
CLIENT = r"\S+?(?:,\s*\S+?)*"  # an X-Forwarded-For chain written into the address field
# The same in the split plan's quick pieces, for plain chains only: elements without commas, each but the
# last followed by a comma and maybe blanks. Read greedily (the native splitter takes the whole chain),
# it ends where the full regex's lazy pattern ends too when a blank, the end or the trailer follows
# (its repeat is greedy, and an element cannot be cut short before a comma); a chain with an empty
# element ("a,,b", "a, ,b", "a,") takes the full regex, where the lazy elements read commas too.
QUICK_CLIENT = r"[^\s,]+(?:,\s*[^\s,]+)*"
HOST = r"[^\s:\"]+(?::\d+)?"
TRAILING = r"(?:\s.*)?"
# What may precede a line: a docker compose prefix ("web_1  | "), a syslog header (RFC 3164 or 5424), or
# the container runtime's (CRI: Kubernetes' /var/log/pods files, "2026-10-01T10:00:00.1Z stdout F ").
PREFIX = (
    r"(?:\S+\s+\|\s"
    r"|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s:]+: "
    r"|\d{4}-\d\d-\d\dT\S+ \S+ [^\s:]+: "
    r"|\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [FP] )?"
)


@dataclass(frozen=True)
class Directive:
    field: str | None
    value: str  # regex of the value when it is not quoted
    time_kind: str | None = None
    bracketed: bool = False  # Apache's %t writes its own [brackets]


_APACHE: dict[str, Directive] = {
    "h": Directive("client", CLIENT),
    "a": Directive("client", CLIENT),
    "l": Directive(None, TOKEN),
    "u": Directive(None, TOKEN),
    "t": Directive("time", r"[^\]]+", "clf", bracketed=True),
    "r": Directive("request", QUOTED_BODY),
    "m": Directive("method", r"[A-Za-z]+|-"),
    "U": Directive("path", TOKEN),
    "q": Directive("query", r"\S*"),
    "H": Directive("protocol", TOKEN),
    "s": Directive("status", r"\d{3}"),
    ">s": Directive("status", r"\d{3}"),
    "<s": Directive("status", r"\d{3}"),
    "b": Directive("bytes", r"\d+|-"),
    "B": Directive("bytes", r"\d+"),
    "O": Directive("bytes", r"\d+|-"),
    "I": Directive(None, r"\d+|-"),
    "v": Directive("host", HOST),
    "V": Directive("host", HOST),
    "D": Directive(None, r"\d+|-"),
    "T": Directive(None, r"[\d.]+|-"),
    "p": Directive(None, r"\d+|-"),
    "P": Directive(None, r"\d+|-"),
    "X": Directive(None, r"[-+X]"),
    "k": Directive(None, r"\d+"),
    "L": Directive(None, TOKEN),
}
_APACHE_HEADERS = {
    "referer": "referer",
    "user-agent": "user_agent",
    "host": "host",
    "x-forwarded-for": "forwarded_for",
    "x-real-ip": "forwarded_for",  # a proxy's one-address forwarded field
}
_NGINX: dict[str, Directive] = {
    "remote_addr": Directive("client", CLIENT),
    "realip_remote_addr": Directive("client", CLIENT),
    "remote_user": Directive(None, TOKEN),
    "time_local": Directive("time", r"[^\]]+", "clf"),
    "time_iso8601": Directive("time", r"[^\s\"]+", "iso8601"),
    "msec": Directive("time", r"\d+(?:\.\d+)?", "epoch"),
    "request": Directive("request", QUOTED_BODY),
    "request_method": Directive("method", r"[A-Za-z]+|-"),
    "request_uri": Directive("path", TOKEN),
    "uri": Directive("path", TOKEN),
    "args": Directive("query", r"\S*"),
    "query_string": Directive("query", r"\S*"),
    "server_protocol": Directive("protocol", TOKEN),
    "status": Directive("status", r"\d{3}"),
    "body_bytes_sent": Directive("bytes", r"\d+|-"),
    "bytes_sent": Directive("bytes", r"\d+|-"),
    "http_referer": Directive("referer", QUOTED_BODY),
    "http_user_agent": Directive("user_agent", QUOTED_BODY),
    "host": Directive("host", HOST),
    "http_host": Directive("host", HOST),
    "server_name": Directive("host", HOST),
    "http_x_forwarded_for": Directive("forwarded_for", r"\S+(?:,\s*\S+)*"),
    "proxy_add_x_forwarded_for": Directive("forwarded_for", r"\S+(?:,\s*\S+)*"),  # the chain, $remote_addr last
    "http_x_real_ip": Directive("forwarded_for", TOKEN),
    "sent_http_content_type": Directive("content_type", TOKEN),
}
_APACHE_RE = re.compile(r"%(?:\{([^}]*)\})?([<>]?[a-zA-Z%])")
_NGINX_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")

Item = str | Directive  # a literal, or a directive


# Apache's %{format}t: strftime(3) codes, each read with its regex and the strptime code polars reads
# it with; or one of the tokens Apache adds (mod_log_config), each alone in its %{...}t.
_STRFTIME: dict[str, tuple[str, str]] = {
    "Y": (r"\d{4}", "%Y"),
    "y": (r"\d{2}", "%y"),
    "m": (r"\d{1,2}", "%m"),
    "d": (r"\d{1,2}", "%d"),
    "e": (r" ?\d{1,2}", "%e"),
    "j": (r"\d{3}", "%j"),
    "H": (r"\d{1,2}", "%H"),
    "I": (r"\d{1,2}", "%I"),
    "p": (r"[AaPp][Mm]", "%p"),
    "M": (r"\d{1,2}", "%M"),
    "S": (r"\d{1,2}", "%S"),
    "z": (r"[+-]\d{2}:?\d{2}", "%z"),
    "b": (r"[A-Za-z]{3}", "%b"),
    "h": (r"[A-Za-z]{3}", "%b"),
    "B": (r"[A-Za-z]+", "%B"),
    "a": (r"[A-Za-z]{3}", "%a"),
    "A": (r"[A-Za-z]+", "%A"),
    "T": (r"\d{1,2}:\d{2}:\d{2}", "%H:%M:%S"),
    "F": (r"\d{4}-\d{1,2}-\d{1,2}", "%Y-%m-%d"),
    "D": (r"\d{1,2}/\d{1,2}/\d{2}", "%m/%d/%y"),
    "s": (r"\d+", "%s"),
    "%": ("%", "%%"),
}
_TIME_TOKENS = {"msec_frac": (r"\d{3}", "%3f"), "usec_frac": (r"\d{6}", "%6f")}  # a fraction of a second
_EPOCH_TOKENS = ("sec", "msec", "usec")  # the whole time as a number since the epoch
_CODE = re.compile(r"%(.)|[^%]+|%$")


@dataclass(frozen=True)
class _TimePart:
    """One ``%{argument}t`` of an Apache format string, before the parts of a time are put together."""

    argument: str

    @property
    def token(self) -> str:
        return self.argument.removeprefix("begin:").removeprefix("end:")


def _strftime(text: str, format_string: str) -> tuple[str, str]:
    """The regex and the strptime format of a stretch of a strftime format (or of the text between two
    ``%{...}t``, which has no codes)."""
    regex, strptime = "", ""
    for match in _CODE.finditer(text):
        code = match.group(1)
        if code is None and match.group(0) == "%":
            raise ConfigError(f"'%{{{text}}}t' ends with a lone %", key=format_string)
        if code is None:
            regex += _literal(match.group(0))
            strptime += match.group(0)
        elif code in _STRFTIME:
            regex += _STRFTIME[code][0]
            strptime += _STRFTIME[code][1]
        else:
            raise ConfigError(
                f"'%{code}' in '%{{{text}}}t' is not a strftime code the parser reads",
                key=format_string,
                allowed=[f"%{c}" for c in _STRFTIME] + [*_TIME_TOKENS, *_EPOCH_TOKENS],
            )
    return regex, strptime


def _times(items: list[Item | _TimePart], format_string: str) -> list[Item]:
    """The ``%{format}t`` parts made one time directive: a time may be written in parts, as in Apache's
    own ``%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t``, with text but no other directive between them."""
    at = [n for n, item in enumerate(items) if isinstance(item, _TimePart)]
    if not at:
        return [item for item in items if not isinstance(item, _TimePart)]
    if any(isinstance(item, Directive) and item.field == "time" for item in items):
        raise ConfigError("the time is written twice: use either %t or %{format}t", key=format_string)
    span = items[at[0] : at[-1] + 1]
    if any(isinstance(item, Directive) for item in span):
        raise ConfigError(
            "a time written in several %{format}t parts can only have text between them", key=format_string
        )
    parts = [item for item in span if isinstance(item, _TimePart)]
    if any(part.token in _EPOCH_TOKENS for part in parts):
        if len(parts) > 1:
            raise ConfigError(
                "%{sec}t, %{msec}t and %{usec}t cannot be combined with other time formats (as in Apache)",
                key=format_string,
            )
        time = Directive("time", r"\d+", "epoch")
    else:
        regex, strptime = "", ""
        for item in span:
            if isinstance(item, _TimePart) and item.token in _TIME_TOKENS:
                regex, strptime = regex + _TIME_TOKENS[item.token][0], strptime + _TIME_TOKENS[item.token][1]
            else:
                text = item.token if isinstance(item, _TimePart) else str(item).replace("%", "%%")
                more = _strftime(text, format_string)
                regex, strptime = regex + more[0], strptime + more[1]
        if not re.search(r"%[YyFDs]", strptime):
            raise ConfigError("the %{format}t time has no year (%Y, %y, %F, %D) nor %s", key=format_string)
        time = Directive("time", regex, strptime)
    kept = [item for item in items[: at[0]] if not isinstance(item, _TimePart)]
    return [*kept, time, *(item for item in items[at[-1] + 1 :] if not isinstance(item, _TimePart))]


def apache_items(format_string: str) -> list[Item]:
    items: list[Item | _TimePart] = []
    position = 0
    for match in _APACHE_RE.finditer(format_string):
        items.append(format_string[position : match.start()])
        argument, code = match.group(1), match.group(2)
        if code == "%":
            items.append("%")
        elif argument is not None and code == "i":
            items.append(Directive(_APACHE_HEADERS.get(argument.lower()), QUOTED_BODY))
        elif argument is not None and code == "o":  # a response header: the content type is the one kept
            items.append(Directive("content_type" if argument.lower() == "content-type" else None, QUOTED_BODY))
        elif argument is not None and code == "t":
            items.append(_TimePart(argument))
        elif argument is not None:
            items.append(Directive(None, QUOTED_BODY))
        elif code in _APACHE:
            items.append(_APACHE[code])
        else:
            raise ConfigError(
                f"unsupported directive '%{code}' in format string",
                key=format_string,
                allowed=sorted(_APACHE),
                value=code,
            )
        position = match.end()
    items.append(format_string[position:])
    return _times([i for i in items if i != ""], format_string)


def nginx_items(format_string: str) -> list[Item]:
    items: list[Item] = []
    position = 0
    for match in _NGINX_RE.finditer(format_string):
        items.append(format_string[position : match.start()])
        name = match.group(1) or match.group(2)
        if name.startswith("http_") and name not in _NGINX:
            items.append(Directive(None, QUOTED_BODY))
        else:
            items.append(_NGINX.get(name, Directive(None, r"\S*")))
        position = match.end()
    items.append(format_string[position:])
    return [i for i in items if i != ""]


def _value(directive: Directive, quoted: bool) -> str:
    return QUOTED_BODY if quoted else directive.value


def _group(directive: Directive, quoted: bool, seen: list[str], *, quick: bool = False) -> str:
    value = _value(directive, quoted)
    if quick and value == CLIENT:
        value = QUICK_CLIENT  # the split plan's quick pieces: no prefix, and a plainer chain
    if directive.field is None or directive.field in seen:
        group = f"(?:{value})"
    else:
        seen.append(directive.field)
        group = f"(?P<{directive.field}>{value})"
    return rf"\[{group}\]" if directive.bracketed else group


def _literal(text: str) -> str:
    return re.escape(text).replace(r"\ ", " ")


def full_regex(items: list[Item]) -> tuple[str, tuple[str, ...]]:
    """One anchored regex for the whole line, and the canonical fields it captures."""
    seen: list[str] = []
    parts = []
    quoted = False
    for item in items:
        if isinstance(item, str):
            parts.append(_literal(item))
            quoted ^= item.count('"') % 2 == 1
        else:
            parts.append(_group(item, quoted, seen))
    return "^" + PREFIX + "".join(parts) + TRAILING + "$", tuple(seen)


def split_plan(items: list[Item]) -> SplitPlan | None:
    """The quote-split plan, or None when a quoted stretch holds anything but one directive.

    Its pieces are the quick form of the layout: no prefix, and an X-Forwarded-For chain in the address
    field only as ``QUICK_CLIENT`` reads it. A line they do not fit (a syslog prefix) takes the full
    regex instead.
    """
    stretches: list[list[Item]] = [[]]
    for item in items:
        if isinstance(item, str):
            chunks = item.split('"')
            for n, chunk in enumerate(chunks):
                if n:
                    stretches.append([])
                if chunk:
                    stretches[-1].append(chunk)
        else:
            stretches[-1].append(item)
    seen: list[str] = []
    pieces: list[Piece] = []
    values: list[str | None] = []
    for position, stretch in enumerate(stretches):
        if position % 2:  # inside quotes
            if len(stretch) != 1 or not isinstance(stretch[0], Directive):
                return None
            field = stretch[0].field
            values.append(field if field not in seen else None)
            if field is not None and field not in seen:
                seen.append(field)
            continue
        before = len(seen)
        steps: list[Step] = []
        body = ""
        for item in stretch:
            steps += _steps(item, seen)
            body += _literal(item) if isinstance(item, str) else _group(item, False, seen, quick=True)
        last = position == len(stretches) - 1
        if last:
            steps.append(("trail", "", None))
        pieces.append(Piece("^" + body + (TRAILING if last else "") + "$", tuple(seen[before:]), tuple(steps)))
    if len(stretches) % 2 == 0:
        return None  # an unbalanced quote in the format string
    return SplitPlan(quotes=len(stretches) - 1, pieces=tuple(pieces), values=tuple(values))


def _steps(item: Item, seen: list[str]) -> list[Step]:
    """The steps of one item of a piece, before ``_group`` records its field as seen."""
    if isinstance(item, str):
        return [("lit", char, None) for char in item]
    value = QUICK_CLIENT if item.value == CLIENT else item.value  # as in the quick pieces
    field = item.field if item.field is not None and item.field not in seen else None
    step: Step = ("val", value, field)
    return [("lit", "[", None), step, ("lit", "]", None)] if item.bracketed else [step]


def compile_layout(
    name: str, format_string: str, *, syntax: str = "apache", example: str = "", description: str = ""
) -> LogFormat:
    """A text LogFormat from an Apache or nginx format string."""
    items = apache_items(format_string) if syntax == "apache" else nginx_items(format_string)
    regex, fields = full_regex(items)
    try:
        re.compile(regex)
    except re.error as exc:
        raise ConfigError(f"cannot compile format string: {exc}", key=name) from exc
    if "time" not in fields:
        raise ConfigError("the format has no time field (%t, $time_local, $time_iso8601 or $msec)", key=name)
    kinds = [i.time_kind for i in items if isinstance(i, Directive) and i.time_kind]
    return LogFormat(
        name=name,
        kind="text",
        description=description,
        example=example,
        format_string=format_string,
        time_kind=CLF if kinds[0] == "clf" else kinds[0],
        fields=fields,
        regex=regex,
        plan=split_plan(items),
        sniff=regex,
    )


def custom_layout(format_string: str) -> LogFormat:
    """``--log-format``: nginx syntax when it uses $variables, Apache syntax when it uses %directives.

    The string may be given as it stands in the server's configuration, inside its quotes:
    ``%h %l %u %t \\"%r\\" %>s %b`` from an Apache ``LogFormat "..."`` line reads as ``%h %l %u %t "%r"
    %>s %b``, as the server itself reads it (``\\"``, ``\\'``, ``\\\\`` and ``\\t`` are the escapes both
    servers' configuration strings take)."""
    layout = _CONFIG_ESCAPE.sub(lambda m: _CONFIG_ESCAPES[m.group(1)], format_string)
    syntax = "nginx" if _NGINX_RE.search(layout) and not _APACHE_RE.search(layout) else "apache"
    fmt = compile_layout("custom", layout, syntax=syntax, description=f"custom {syntax} format")
    return replace(fmt, format_string=format_string)


_CONFIG_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t"}
_CONFIG_ESCAPE = re.compile(r"\\([\"'\\t])")
