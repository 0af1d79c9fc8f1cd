"""The preset log formats, compiled from ``presets.toml`` (data, not code)."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from ledger.errors import ConfigError
from ledger.formats.layout import compile_layout
from ledger.formats.spec import CLF, LogFormat

_SOURCE = "ledger/formats/presets.toml"
_KEYS = {
    "name",
    "kind",
    "description",
    "example",
    "format",
    "regex",
    "time",
    "sniff",
    "paths",
    "prefix",
    "separator",
    "plus_is_space",
    "url_encoded",
    "default_fields",
}


def _regex_format(entry: dict[str, Any]) -> LogFormat:
    regex = entry["regex"]
    fields = tuple(re.compile(regex).groupindex)
    return LogFormat(
        name=entry["name"],
        kind="text",
        description=entry.get("description", ""),
        example=entry.get("example", ""),
        format_string=regex,
        time_kind=entry.get("time", CLF),
        fields=fields,
        regex=regex,
        plan=None,
        sniff=regex,
    )


def _json_format(entry: dict[str, Any]) -> LogFormat:
    paths = tuple(sorted(entry.get("paths", {}).items()))
    return LogFormat(
        name=entry["name"],
        kind="json",
        description=entry.get("description", ""),
        example=entry.get("example", ""),
        time_kind=entry.get("time", "iso8601"),
        fields=tuple(k for k, _ in paths),
        paths=paths,
        prefix=entry.get("prefix", ""),
        url_encoded=tuple(entry.get("url_encoded", ())),
        sniff=entry.get("sniff", r"^\s*\{"),
    )


def _w3c_format(entry: dict[str, Any]) -> LogFormat:
    return LogFormat(
        name=entry["name"],
        kind="w3c",
        description=entry.get("description", ""),
        example=entry.get("example", ""),
        time_kind="iso8601",
        fields=(
            "client",
            "time",
            "date",
            "method",
            "path",
            "query",
            "status",
            "bytes",
            "referer",
            "user_agent",
            "host",
            "forwarded_for",
            "content_type",
        ),
        format_string=entry.get("default_fields", ""),
        separator=entry.get("separator", " "),
        plus_is_space=bool(entry.get("plus_is_space", False)),
        url_encoded=tuple(entry.get("url_encoded", ())),
        sniff=entry.get("sniff", r"^#Fields:"),
    )


def _compile(entry: dict[str, Any]) -> LogFormat:
    unknown = set(entry) - _KEYS
    if unknown:
        raise ConfigError(
            "unknown key", path=_SOURCE, key=f"{entry.get('name')}.{sorted(unknown)[0]}", allowed=sorted(_KEYS)
        )
    kind = entry.get("kind")
    if kind in ("apache", "nginx"):
        return compile_layout(
            entry["name"],
            entry["format"],
            syntax=kind,
            example=entry.get("example", ""),
            description=entry.get("description", ""),
        )
    if kind == "regex":
        return _regex_format(entry)
    if kind == "json":
        return _json_format(entry)
    if kind == "w3c":
        return _w3c_format(entry)
    raise ConfigError(
        f"unknown kind {kind!r}",
        path=_SOURCE,
        key=f"{entry.get('name')}.kind",
        allowed=["apache", "nginx", "regex", "json", "w3c"],
    )


@cache
def presets() -> dict[str, LogFormat]:
    text = resources.files("ledger.formats").joinpath("presets.toml").read_text(encoding="utf-8")
    return {entry["name"]: _compile(entry) for entry in tomllib.loads(text)["format"]}


PRESETS = presets()
SNIFF_ORDER = tuple(PRESETS)
FORMAT_CHOICES = ("auto", *PRESETS)


def get_format(name: str) -> LogFormat:
    if name not in PRESETS:
        raise ConfigError(f"unknown format '{name}'", key="--format", allowed=FORMAT_CHOICES, value=name)
    return PRESETS[name]
