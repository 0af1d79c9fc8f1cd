"""The bot registry: a reviewed data file (``ledger/registry/bots.toml``) and the matcher built from it.

Matching is whole-token and case-insensitive (unless an entry says otherwise): a pattern matches when the
characters around it are not part of a product token (letters, digits, ``_`` and ``-``). The first entry
in file order wins, so specific entries come before generic ones. Robots-only tokens (Google-Extended,
Applebot-Extended) are known, so robots.txt rules can name them, but are never matched as fetchers.

Classification runs on the distinct user agents of a batch, as polars expressions, and is cached, so
each distinct string is classified once per ingest however many lines carry it.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from ledger.errors import RegistryError

AI_PURPOSES = ("training", "search", "user")
OTHER_PURPOSES = ("search_engine", "seo", "archive", "other_bot")
PURPOSES = AI_PURPOSES + OTHER_PURPOSES
VERIFICATIONS = ("ip", "rdns", "none")

_TOKEN_CHARS = "A-Za-z0-9_-"
_BOT_KEYS = {
    "token",
    "operator",
    "purpose",
    "patterns",
    "case_sensitive",
    "robots_only",
    "robots_tokens",
    "docs",
    "verification",
    "ip_lists",
    "rdns_suffixes",
    "examples",
    "overlaps",
    "description",
}
_GENERIC_KEYS = {"name", "regex", "examples", "description"}


@dataclass(frozen=True)
class Bot:
    token: str
    operator: str
    purpose: str
    patterns: tuple[str, ...]
    case_sensitive: bool
    robots_only: bool
    robots_tokens: tuple[str, ...]
    docs: str
    verification: str
    ip_lists: tuple[str, ...]
    rdns_suffixes: tuple[str, ...]
    examples: tuple[str, ...]
    overlaps: tuple[str, ...]
    description: str

    @property
    def ai(self) -> bool:
        return self.purpose in AI_PURPOSES

    def regexes(self) -> list[str]:
        """One Rust/Python-compatible regex per pattern, implementing whole-token matching."""
        return [pattern_regex(p, self.case_sensitive) for p in self.patterns]


@dataclass(frozen=True)
class GenericRule:
    """A heuristic for undeclared automation (libraries, headless browsers, unnamed bots)."""

    name: str
    regex: str
    examples: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Registry:
    bots: tuple[Bot, ...]
    generic: tuple[GenericRule, ...]
    version: str
    source: str = field(compare=False)

    @property
    def fetchers(self) -> tuple[Bot, ...]:
        return tuple(b for b in self.bots if not b.robots_only)

    def by_token(self, token: str) -> Bot:
        for bot in self.bots:
            if bot.token == token:
                return bot
        from ledger.errors import NotFoundError

        raise NotFoundError("bot", token, [b.token for b in self.bots])

    def classify(self, user_agents: Sequence[str | None]) -> list[Bot | None]:
        """The registry entry each user agent belongs to, or None (browser, unknown or no UA)."""
        index = self.classify_series(pl.Series("ua", list(user_agents), dtype=pl.String))
        fetchers = self.fetchers
        return [fetchers[i] if i is not None else None for i in index.to_list()]

    def classify_series(self, user_agents: pl.Series) -> pl.Series:
        """Index into ``fetchers`` of the first matching entry for each UA (null when none matches).

        Each entry is a whole-token regex per pattern (hundreds in all): running all of them on every
        UA took 40 s for 75,000 distinct UAs. Instead one Aho-Corasick pass finds which patterns a UA
        holds as plain text (ASCII case-insensitively), and only those entries' regexes are run on it;
        the first entry that matches is the smallest index that does. A UA with a non-ASCII character
        takes every regex, since the regexes fold case by Unicode rules ('K', KELVIN SIGN, is 'k')."""
        ua = user_agents.cast(pl.String).rename("ua")
        index = pl.Series("bot_index", [None] * ua.len(), dtype=pl.UInt32)
        entries = self._pattern_entries
        if not self.fetchers or ua.len() == 0:
            return index
        frame = pl.DataFrame({"ua": ua}).with_row_index("row")
        if entries is None:
            return frame.select(_first_match_expr(self.fetchers).alias("bot_index")).to_series()
        odd = frame.filter(pl.col("ua").str.len_bytes() != pl.col("ua").str.len_chars())
        if odd.height:  # non-ASCII: every regex, in order
            matched = odd.select(_first_match_expr(self.fetchers)).to_series()
            index = index.scatter(odd["row"], matched)
        hits = (
            frame.filter(pl.col("ua").str.len_bytes() == pl.col("ua").str.len_chars())
            .with_columns(
                pl.col("ua")
                .str.extract_many(list(entries), ascii_case_insensitive=True, overlapping=True)
                .alias("found")
            )
            .filter(pl.col("found").list.len() > 0)
            .explode("found")
            .with_columns(pl.col("found").str.to_lowercase().replace_strict(entries, return_dtype=pl.List(pl.UInt32)))
            .explode("found")
            .unique(["row", "found"])
        )
        matches = []
        for (bot,), rows in hits.group_by("found"):
            regexes = self.fetchers[bot].regexes()
            test = pl.any_horizontal([pl.col("ua").str.contains(regex) for regex in regexes])
            matches.append(rows.filter(test.fill_null(False)).select("row", pl.col("found").alias("bot_index")))
        if matches:
            first = pl.concat(matches).group_by("row").agg(pl.col("bot_index").min())
            index = index.scatter(first["row"], first["bot_index"])
        return index

    @cached_property
    def _pattern_entries(self) -> dict[str, list[int]] | None:
        """Each pattern (lower case) -> the entries it belongs to (indices into ``fetchers``); None when a
        pattern is not ASCII (then every UA takes every regex)."""
        entries: dict[str, list[int]] = {}
        for position, bot in enumerate(self.fetchers):
            for pattern in bot.patterns:
                if not pattern.isascii():
                    return None
                entries.setdefault(pattern.lower(), []).append(position)
        return entries

    def generic_series(self, user_agents: pl.Series) -> pl.Series:
        """True where a UA looks automated although no registry entry names it."""
        frame = pl.DataFrame({"ua": user_agents.cast(pl.String)})
        expr = pl.lit(False)
        for rule in self.generic:
            expr = expr | pl.col("ua").str.contains(rule.regex)
        return frame.select(expr.fill_null(False).alias("generic")).to_series()


def pattern_regex(pattern: str, case_sensitive: bool = False) -> str:
    flags = "" if case_sensitive else "(?i)"
    head = f"(?:^|[^{_TOKEN_CHARS}])"
    tail = f"(?:$|[^{_TOKEN_CHARS}])" if re.match(rf"[{_TOKEN_CHARS}]", pattern[-1]) else ""
    return f"{flags}{head}{re.escape(pattern)}{tail}"


def _first_match_expr(bots: Sequence[Bot]) -> pl.Expr:
    branches = [
        pl.when(pl.col("ua").str.contains(regex)).then(pl.lit(i, dtype=pl.UInt32))
        for i, bot in enumerate(bots)
        for regex in bot.regexes()
    ]
    if not branches:
        return pl.lit(None, dtype=pl.UInt32)
    return pl.coalesce(branches)


def _tuple(value: Any, path: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegistryError("must be a list of strings", path=path, key=key)
    return tuple(value)


def _bot(entry: dict[str, Any], path: str, number: int) -> Bot:
    where = f"bot #{number} ({entry.get('token', '?')})"
    unknown = set(entry) - _BOT_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise RegistryError("unknown key", path=path, key=f"{where}.{key}", allowed=sorted(_BOT_KEYS), value=key)
    for key in ("token", "operator", "purpose"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise RegistryError("is required and must be a non-empty string", path=path, key=f"{where}.{key}")
    if entry["purpose"] not in PURPOSES:
        raise RegistryError(
            f"unknown purpose '{entry['purpose']}'",
            path=path,
            key=f"{where}.purpose",
            allowed=PURPOSES,
            value=entry["purpose"],
        )
    verification = entry.get("verification", "none")
    if verification not in VERIFICATIONS:
        raise RegistryError(
            f"unknown verification '{verification}'",
            path=path,
            key=f"{where}.verification",
            allowed=VERIFICATIONS,
            value=verification,
        )
    robots_only = bool(entry.get("robots_only", False))
    patterns = _tuple(entry.get("patterns"), path, f"{where}.patterns") or (entry["token"],)
    examples = _tuple(entry.get("examples"), path, f"{where}.examples")
    if not robots_only and not examples:
        raise RegistryError("a fetching entry needs at least one example UA", path=path, key=f"{where}.examples")
    if robots_only and examples:
        raise RegistryError(
            "robots-only entries are never matched, so take no examples", path=path, key=f"{where}.examples"
        )
    return Bot(
        token=entry["token"],
        operator=entry["operator"],
        purpose=entry["purpose"],
        patterns=patterns,
        case_sensitive=bool(entry.get("case_sensitive", False)),
        robots_only=robots_only,
        robots_tokens=_tuple(entry.get("robots_tokens"), path, f"{where}.robots_tokens") or (entry["token"],),
        docs=str(entry.get("docs", "")),
        verification=verification,
        ip_lists=_tuple(entry.get("ip_lists"), path, f"{where}.ip_lists"),
        rdns_suffixes=_tuple(entry.get("rdns_suffixes"), path, f"{where}.rdns_suffixes"),
        examples=examples,
        overlaps=_tuple(entry.get("overlaps"), path, f"{where}.overlaps"),
        description=str(entry.get("description", "")),
    )


def _generic(entry: dict[str, Any], path: str, number: int) -> GenericRule:
    where = f"generic #{number}"
    unknown = set(entry) - _GENERIC_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise RegistryError("unknown key", path=path, key=f"{where}.{key}", allowed=sorted(_GENERIC_KEYS), value=key)
    try:
        re.compile(entry["regex"])
    except (KeyError, re.error, TypeError) as exc:
        raise RegistryError(f"needs a valid 'regex' ({exc})", path=path, key=where) from exc
    return GenericRule(
        name=str(entry.get("name", f"generic-{number}")),
        regex=entry["regex"],
        examples=_tuple(entry.get("examples"), path, f"{where}.examples"),
        description=str(entry.get("description", "")),
    )


def _toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"not valid TOML: {exc}", path=source) from exc


def parse_registry(text: str, source: str = "bots.toml", generic_text: str = "", generic_source: str = "") -> Registry:
    data = _toml(text, source)
    bots = tuple(_bot(e, source, n) for n, e in enumerate(data.get("bot", []), start=1))
    rules = _toml(generic_text, generic_source).get("generic", [])
    generic = tuple(_generic(e, generic_source, n) for n, e in enumerate(rules, start=1))
    _check_unique(b.token for b in bots)
    version = hashlib.sha256((text + "\0" + generic_text).encode()).hexdigest()[:16]
    return Registry(bots=bots, generic=generic, version=version, source=source)


def _check_unique(tokens: Iterable[str]) -> None:
    seen: set[str] = set()
    for token in tokens:
        if token.lower() in seen:
            raise RegistryError(f"token '{token}' appears twice (tokens are case-insensitive)", key="bot.token")
        seen.add(token.lower())


@cache
def load_registry(path: Path | None = None) -> Registry:
    """The packaged registry (or one at ``path``), validated."""
    package = resources.files("ledger.registry")
    generic = package.joinpath("generic.toml").read_text(encoding="utf-8")
    if path is None:
        text = package.joinpath("bots.toml").read_text(encoding="utf-8")
        return parse_registry(text, "ledger/registry/bots.toml", generic, "ledger/registry/generic.toml")
    return parse_registry(Path(path).read_text(encoding="utf-8"), str(path), generic, "ledger/registry/generic.toml")
