"""The sample generator's static pools and proportions, declared as data in ``pools.toml``.

Read once, at import. A missing, unknown or mistyped key is a ``ConfigError`` naming the file and the key.
Weights are relative within their list; shares are % of all lines. Order matters: the generator draws by index.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from ledger.errors import ConfigError

SOURCE = "ledger/sample/pools.toml"
Weighted = tuple[tuple[str, float], ...]

_KEYS = {
    "shares": {"referral", "utm", "automation", "undeclared", "junk", "people_hours"},
    "bots": {"ai", "optional_ai", "google_ai", "other", "spoofed", "spoofed_v6", "private", "attributed_lists"},
    "visitors": {"browsers", "referers", "tracking"},
    "ai_referrals": {"referers", "utm"},
    "automation": {"libraries"},
    "site": {"sections", "assets", "crawl_files", "probes", "unknown_hosts", "words"},
    "addresses": {"human_v4", "human_v6", "dc_v4", "dc_v6"},
}


def _load() -> dict[str, dict[str, Any]]:
    text = resources.files("ledger.sample").joinpath("pools.toml").read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=SOURCE) from exc
    extra = sorted(set(data) - set(_KEYS))
    if extra:
        raise ConfigError("unknown section", path=SOURCE, key=f"[{extra[0]}]", allowed=sorted(_KEYS), value=extra[0])
    for section, keys in _KEYS.items():
        found = data.get(section)
        if not isinstance(found, dict) or set(found) != keys:
            got = sorted(found) if isinstance(found, dict) else "nothing"
            raise ConfigError(f"needs exactly the keys {sorted(keys)}, found {got}", path=SOURCE, key=f"[{section}]")
    return data


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(section: str, key: str) -> float:
    value = _DATA[section][key]
    if not _is_number(value):
        raise ConfigError(f"must be a number, got {value!r}", path=SOURCE, key=f"{section}.{key}")
    return float(value)


def _numbers(section: str, key: str, length: int) -> tuple[float, ...]:
    value = _DATA[section][key]
    if not isinstance(value, list) or len(value) != length or not all(_is_number(v) for v in value):
        raise ConfigError(f"must be a list of {length} numbers", path=SOURCE, key=f"{section}.{key}")
    return tuple(float(v) for v in value)


def _strings(section: str, key: str) -> tuple[str, ...]:
    value = _DATA[section][key]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigError("must be a non-empty list of strings", path=SOURCE, key=f"{section}.{key}")
    return tuple(value)


def _weighted(section: str, key: str, name: str, weight: str = "weight", *, optional: bool = False) -> Weighted:
    """A list of ``{ <name> = "...", <weight> = <number> }`` as (name, weight) pairs."""
    value = _DATA[section][key]
    if not isinstance(value, list) or not (value or optional):
        raise ConfigError(f"must be a non-empty list of {{ {name}, {weight} }}", path=SOURCE, key=f"{section}.{key}")
    pairs = []
    for n, entry in enumerate(value, start=1):
        if not (
            isinstance(entry, dict)
            and set(entry) == {name, weight}
            and isinstance(entry[name], str)
            and _is_number(entry[weight])
        ):
            raise ConfigError(
                f'needs {{ {name} = "...", {weight} = <number> }}, got {entry!r}',
                path=SOURCE,
                key=f"{section}.{key}#{n}",
            )
        pairs.append((entry[name], float(entry[weight])))
    return tuple(pairs)


_DATA = _load()

LINE_SHARES = {name: _number("shares", name) for name in ("referral", "utm", "automation", "undeclared", "junk")}
PEOPLE_HOURS = _numbers("shares", "people_hours", 24)

AI_BOTS = _weighted("bots", "ai", "token", "share")
OPTIONAL_AI = _weighted("bots", "optional_ai", "token", "share", optional=True)
GOOGLE_AI_SHARE = _number("bots", "google_ai")
OTHER_BOTS = _weighted("bots", "other", "token", "share")
SPOOFED = _number("bots", "spoofed")
SPOOF_V6 = _number("bots", "spoofed_v6")
PRIVATE_SHARE = _number("bots", "private")
ATTRIBUTED_LISTS = _strings("bots", "attributed_lists")

BROWSERS = _weighted("visitors", "browsers", "agent")
HUMAN_REFERERS = _weighted("visitors", "referers", "referer")
TRACKING = _strings("visitors", "tracking")
AI_REFERERS = _weighted("ai_referrals", "referers", "referer")
AI_UTM = _weighted("ai_referrals", "utm", "source")
LIBRARIES = _strings("automation", "libraries")

SECTIONS = _strings("site", "sections")
ASSETS = _strings("site", "assets")
CRAWL_FILES = _strings("site", "crawl_files")
PROBES = _strings("site", "probes")
UNKNOWN_HOSTS = _strings("site", "unknown_hosts")
WORDS = _strings("site", "words")

HUMAN_V4 = _strings("addresses", "human_v4")
HUMAN_V6 = _strings("addresses", "human_v6")
DC_V4 = _strings("addresses", "dc_v4")
DC_V6 = _strings("addresses", "dc_v6")
