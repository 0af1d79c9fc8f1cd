"""Seeded sample data: access logs of fictional Kazakh outlets, with the exact answer a correct ingest gives.

``generate(directory, lines=..., seed=...)`` writes

- ``access-vhost.log.gz``: a shared ``vhost_combined`` log (nginx style, gzip) for most outlets, ingested
  without ``--outlet`` so the host decides the outlet;
- ``tamyr-media.access.log`` (plain) and ``aqtobe-zhuldyzy.access.log.gz``: two outlets' own ``combined``
  logs (Apache style), ingested with ``--outlet``;
- ``outlets.csv`` (for ``royalty outlets import``) and ``truth.json`` (``GroundTruth.as_dict()`` plus the
  per-file counts).

The same seed gives byte-identical files (gzip headers carry no name and mtime 0). The ground truth is
counted from the generator's own arrays while the lines are written, never by parsing the output. Bots are
taken by token from the bot registry, addresses from the operators' published lists, AI referrers from
``referrers.toml``; any address meant to be outside every list is checked against all of them.

Proportions, as shares of all lines (humans take the remainder; an outlet's human and crawler shares differ
because crawlers follow the size of an archive, people its popularity):

- ~76% human page views and assets: real browser user agents (Chrome, Safari, Firefox, Edge, Yandex Browser,
  Samsung Internet, desktop and mobile, a few in-app ones and one wrapped in escaped quotes ``\\"``),
  about 6% of visitors on IPv6; referers direct ``-``, Google, Yandex, Facebook, Telegram, internal;
  statuses 200/304/301/404; some tracking parameters (``utm_source=facebook``, ``fbclid``) that are *not*
  AI referrals; a few requests with ``\\"`` inside the URL.
- 1.5% AI referrals: 1.2% by Referer (chatgpt.com 50%, perplexity.ai, gemini.google.com, copilot, DeepSeek,
  claude.ai, Alice) and 0.3% by ``?utm_source=`` (chatgpt.com, perplexity, copilot.com).
- ~14.5% AI crawlers and agents (GPTBot 2.6, ClaudeBot 2.1, meta-externalagent 2.1, ChatGPT-User 1.3,
  Amazonbot 1.2, Bytespider 1.2, OAI-SearchBot 0.8, Applebot 0.8, PerplexityBot 0.6, CCBot 0.6, Google's AI
  fetchers 0.3, Claude-SearchBot 0.3, Perplexity-User 0.3, Claude-User 0.2, DeepSeekBot 0.15). Of each bot
  that verifies by IP: 10% spoofed (a data-centre address outside every published list, 10% of them IPv6),
  0.5% from the load balancer's 10.x address (``unknown``), the rest from a uniformly drawn address of a
  uniformly drawn CIDR of the bot's own lists (IPv6 where the lists have it). Bots that publish nothing
  (or verify by rDNS, which ingest does not do) come out ``unverifiable``.
- 5% other declared crawlers, all genuine: Googlebot 2.2, YandexBot 1.1, bingbot 0.9, AhrefsBot 0.5,
  SemrushBot 0.3.
- 3% other automation: HTTP libraries and headless browsers 1.6 (python-requests, curl, Go-http-client,
  HeadlessChrome, ...), no user agent (``"-"`` or ``""``) 0.9, TLS handshakes on the HTTP port
  (``"\\x16\\x03\\x01..." 400``) 0.25, ``"-"`` requests with status 400 0.25; half of them probe
  ``/wp-login.php``, ``/.env`` and the like. All of these are well-formed log lines: parsed, ``other_bot``.
- 0.1% undeclared AI: browser (and a few library) user agents from AI-only published ranges
  (ChatGPT-User's, Perplexity-User's, Anthropic's) -> ``ip_attributed`` to the list's operator.
- 0.1% junk, rejected by ingest: empty lines, lines truncated inside the user agent, random garbage, a
  timestamp with a Russian month name (``окт``), and in the shared log a host no outlet owns.
- 0.3% of parsed lines carry an X-Forwarded-For chain in the address field (``203.0.113.9, 10.0.0.7``).

Times: UTC seconds inside the month, written in local time ``+0500``. Hours follow a daily cycle for people
(night trough, evening peak) and are flat for crawlers; each file is in time order. The first line of every
UTC day is at local 05:00:00 and the last at 04:59:59, so a line dated ``01/Nov/...04:59:59 +0500`` belongs
to October: counting by local date would be wrong. Generation is vectorised (numpy + polars) in chunks of
100,000 lines, so memory stays flat for any ``lines`` (about 350 MB peak RSS at 5M lines).
"""

from __future__ import annotations

import bisect
import csv
import ipaddress
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from isal import isal_zlib

from ledger.detect.iplists import NON_PUBLIC, IpLists, load_ip_lists
from ledger.detect.referrals import Referrers, load_referrers
from ledger.detect.registry import AI_PURPOSES, Bot, Registry, load_registry
from ledger.errors import ConfigError, RegistryError
from ledger.outlets import CSV_COLUMNS, Outlet

CHUNK = 100_000
TZ_HOURS = 5
TZ = "+0500"
CLASSES = ("human", "ai_bot", "other_bot", "undeclared_ai")
VERDICTS = ("verified", "spoofed", "unverifiable", "unknown")
VHOST_FILE = "access-vhost.log.gz"

# ---------------------------------------------------------------------------------------------- outlets


def _outlet(
    slug: str, name: str, domains: tuple[str, ...], language: str, fte: str, regional: str, group: str
) -> Outlet:
    return Outlet(slug, name, domains, "KZ", language, Decimal(fte), Decimal(regional), group)


SAMPLE_OUTLETS: tuple[Outlet, ...] = (
    _outlet("dala-news", "Dala News", ("dalanews.kz", "dala.news"), "kk", "142.5", "18", "private"),
    _outlet("steppe-times", "Steppe Times", ("steppetimes.kz",), "ru", "96", "12", "private"),
    _outlet("el-arnasy", "El Arnasy", ("elarnasy.kz",), "kk", "210", "64", "public_broadcaster"),
    _outlet("aitys-tv", "Aitys TV", ("aitystv.kz",), "kk", "88", "9.5", "broadcaster"),
    _outlet("tamyr-media", "Tamyr Media", ("tamyr.media", "tamyrmedia.kz"), "ru", "34", "4", "private"),
    _outlet("almaty-kuni", "Almaty Kuni", ("almatykuni.kz",), "kk", "21", "21", "private"),
    _outlet("saryarqa-radio", "Saryarqa Radio", ("saryarqaradio.kz",), "kk", "18", "18", "public_broadcaster"),
    _outlet("aqtobe-zhuldyzy", "Aqtobe Zhuldyzy", ("zhuldyzy-aqtobe.kz",), "kk", "6", "6", "private"),
)
# Relative audience (people, user-triggered agents) and archive size (crawlers), in SAMPLE_OUTLETS order.
_TRAFFIC = np.array([34, 22, 15, 12, 8, 5, 3, 1], dtype=float)
_CRAWL = np.array([22, 20, 18, 8, 12, 9, 7, 4], dtype=float)
# Outlets with their own combined log (ingested with --outlet); everyone else is in the shared vhost log.
_OWN_FILES = (
    ("tamyr-media", "tamyr-media.access.log", False),
    ("aqtobe-zhuldyzy", "aqtobe-zhuldyzy.access.log.gz", True),
)


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SampleFile:
    path: Path
    outlet: str | None  # the --outlet to ingest it with; None for the shared vhost log
    format: str
    lines: int
    parsed: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class GroundTruth:
    """What a correct ingest of all the sample files finds. Keys join fields with ``|``."""

    lines: int
    rejected: int
    parsed: int
    fetches: dict[str, int]  # "outlet|bot|verification", every declared-bot line (AI and non-AI)
    ip_attributed: dict[str, int]  # "outlet|operator"
    referrals: dict[str, int]  # "outlet|product"
    traffic: dict[str, int]  # "outlet|class", summing to parsed
    period: str
    days: dict[str, int] = field(default_factory=dict)  # "outlet|YYYY-MM-DD" (UTC) -> parsed lines

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroundTruth:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Sample:
    files: tuple[SampleFile, ...]
    outlets: tuple[Outlet, ...]
    truth: GroundTruth


# ---------------------------------------------------------------------------------------------- static pools

_BROWSERS: tuple[tuple[str, float], ...] = (
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile "
        "Safari/537.36",
        28,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.6 Mobile/15E148 Safari/604.1",
        18,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 "
        "Safari/537.36",
        14,
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 "
        "YaBrowser/25.8.3.90 Mobile Safari/537.36",
        8,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 "
        "YaBrowser/25.8.0.0 Safari/537.36",
        6,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36",
        5,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 "
        "Safari/537.36 Edg/141.0.0.0",
        4,
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:143.0) Gecko/20100101 Firefox/143.0", 3),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 "
        "Safari/605.1.15",
        3,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 "
        "Safari/537.36",
        3,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/141.0.7390.41 Mobile/15E148 Safari/604.1",
        2,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 "
        "Safari/537.36 OPR/124.0.0.0",
        2,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 [FBAN/FBIOS;FBAV/480.0.0.40.108;FBBV/712345678;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;"
        "FBSV/18.5;FBSS/3;FBLC/ru_RU]",
        1.5,
    ),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:143.0) Gecko/20100101 Firefox/143.0", 1),
    ("Mozilla/5.0 (Android 14; Mobile; rv:143.0) Gecko/143.0 Firefox/143.0", 1),
    # Some clients send the header wrapped in quotes; servers log them escaped: "\"Mozilla/5.0 ...\"".
    (
        '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 '
        'Safari/537.36"',
        0.5,
    ),
)
_LIBRARIES = (
    "python-requests/2.32.3",
    "curl/8.7.1",
    "Go-http-client/1.1",
    "Go-http-client/2.0",
    "Wget/1.21.4",
    "okhttp/4.12.0",
    "axios/1.7.7",
    "Java/21.0.4",
    "Apache-HttpClient/4.5.14 (Java/17.0.12)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/139.0.0.0 Safari/537.36",
)
_NO_AGENT = ("-", "")
_HUMAN_REFERERS = (  # (referer, weight); "{site}" is the outlet's own address
    ("-", 45),
    ("https://www.google.com/", 12),
    ("https://www.google.kz/", 6),
    ("https://yandex.kz/", 6),
    ("https://yandex.ru/search/?text=%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8", 3),
    ("https://l.facebook.com/", 3),
    ("https://m.facebook.com/", 1),
    ("https://t.me/", 3),
    ("{site}", 21),
)
_AI_REFERERS = (
    ("https://chatgpt.com/", 50),
    ("https://www.perplexity.ai/", 12),
    ("https://gemini.google.com/", 12),
    ("https://copilot.microsoft.com/", 8),
    ("https://chat.deepseek.com/", 6),
    ("https://claude.ai/", 4),
    ("https://alice.yandex.ru/", 4),
    ("https://chat.openai.com/", 4),
)
_AI_UTM = (("chatgpt.com", 80), ("perplexity", 12), ("copilot.com", 8))
_TRACKING = ("?utm_source=facebook&utm_medium=social", "?fbclid=IwAR2x7kQm9Zb", "?utm_source=telegram")
_SECTIONS = (
    "/",
    "/news",
    "/politics",
    "/economy",
    "/society",
    "/sport",
    "/culture",
    "/world",
    "/regions",
    "/kk",
    "/ru",
    "/news?page=2",
)
_ASSETS = (
    "/static/css/main.4f1c9a2e.css",
    "/static/js/app.8d3b7e10.js",
    "/static/js/vendor.1a2b3c4d.js",
    "/static/fonts/inter-var.woff2",
    "/favicon.ico",
    "/apple-touch-icon.png",
    "/manifest.json",
)
_CRAWL_FILES = ("/robots.txt", "/sitemap.xml", "/sitemap-news.xml", "/rss", "/feed/")
_PROBES = ("/wp-login.php", "/.env", "/xmlrpc.php", "/.git/config", "/phpmyadmin/", "/admin/", "/wp-admin/")
_UNKNOWN_HOSTS = ("_", "localhost", "185.22.64.10", "staging.cms-internal.kz", "old.dala-archive.kz")
_WORDS = (
    "astana",
    "almaty",
    "parlament",
    "maslikhat",
    "akimat",
    "byudzhet",
    "tenge",
    "neft",
    "zhol",
    "metro",
    "mektep",
    "universitet",
    "saylau",
    "ekonomika",
    "inflyatsiya",
    "nauryz",
    "futbol",
    "boks",
    "pogoda",
    "qar",
    "zhanbyr",
    "turizm",
    "baikonur",
    "kaspiy",
    "zher",
    "auyl",
    "densaulyq",
    "tarif",
    "ipoteka",
    "avtobus",
    "aeroport",
    "temir-zhol",
    "shymkent",
    "karaganda",
    "aktobe",
    "bank",
    "investitsiya",
    "eksport",
    "bidai",
    "su",
    "elektr",
    "gaz",
    "zavod",
    "zholdau",
    "ministr",
    "sot",
    "politsiya",
    "festival",
    "kino",
)
_RU_MONTHS = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")

# Address space for people (Kazakh and Russian access ISPs) and for data centres (VPS and cloud hosts).
# Every block is checked against all published lists; blocks that touch one are dropped.
_HUMAN_V4 = (
    "2.132.0.0/14",
    "37.150.0.0/15",
    "89.218.0.0/16",
    "92.46.0.0/15",
    "95.56.0.0/14",
    "147.30.0.0/16",
    "178.88.0.0/14",
    "5.76.0.0/14",
    "95.24.0.0/15",
)
_HUMAN_V6 = ("2a03:32c0::/32", "2a02:2698::/32", "2a00:1370::/32", "2a0d:b201::/32")
_DC_V4 = (
    "5.9.0.0/16",
    "88.198.0.0/16",
    "95.216.0.0/16",
    "159.89.0.0/16",
    "167.99.0.0/16",
    "46.101.0.0/16",
    "185.22.64.0/22",
    "51.68.0.0/16",
    "45.147.0.0/16",
)
_DC_V6 = ("2a03:b0c0:3::/48", "2604:a880:400::/48", "2604:a880:800::/48", "2001:41d0:8::/48", "2a01:4f9:c010::/48")
_PRIVATE = ("10.0.0.0/8",)

# Bots: (token, share of all lines in %). Agents acting for a user (purpose "user") follow an outlet's audience,
# crawlers the size of its archive.
_AI_BOTS = (
    ("GPTBot", 2.6),
    ("ClaudeBot", 2.1),
    ("meta-externalagent", 2.1),
    ("ChatGPT-User", 1.3),
    ("Amazonbot", 1.2),
    ("Bytespider", 1.2),
    ("OAI-SearchBot", 0.8),
    ("Applebot", 0.8),
    ("PerplexityBot", 0.6),
    ("CCBot", 0.6),
    ("Claude-SearchBot", 0.3),
    ("Perplexity-User", 0.3),
    ("Claude-User", 0.2),
)
_OPTIONAL_AI = (("DeepSeekBot", 0.15),)
_GOOGLE_AI_SHARE = 0.3  # split over whatever AI fetchers the registry lists for Google
_OTHER_BOTS = (("Googlebot", 2.2), ("YandexBot", 1.1), ("bingbot", 0.9), ("AhrefsBot", 0.5), ("SemrushBot", 0.3))
_SPOOFED, _PRIVATE_SHARE, _SPOOF_V6 = 0.10, 0.005, 0.10
_ATTRIBUTED_LISTS = ("openai-chatgpt-user", "perplexity-user", "anthropic")

# Line types besides one per bot, with their share of all lines in %.
T_HUMAN, T_REFERRAL, T_UTM, T_AUTOMATION, T_UNDECLARED, T_JUNK = range(6)
_FIXED_SHARES = {T_REFERRAL: 1.2, T_UTM: 0.3, T_AUTOMATION: 3.0, T_UNDECLARED: 0.1, T_JUNK: 0.1}
N_FIXED = 6
# Local-hour profile of people (a news site: night trough, morning and evening peaks).
_PEOPLE_HOURS = np.array([3, 2, 1.5, 1, 1, 1.5, 3, 5, 7, 8, 8, 7.5, 7.5, 7, 7, 7, 7, 7.5, 8, 9, 9.5, 9, 7, 5])


# ---------------------------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class _Blocks:
    """CIDR blocks of all pools, as arrays; pool p is blocks[start[p] : start[p] + count[p]]."""

    v6: np.ndarray
    hi: np.ndarray
    lo: np.ndarray
    hi_mask: np.ndarray
    lo_mask: np.ndarray
    start: np.ndarray
    count: np.ndarray


def _interval(cidr: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(cidr, strict=False)
    return net.version, int(net.network_address), int(net.broadcast_address)


class _Taken:
    """Merged intervals of every published list (and the non-public ranges), per IP version."""

    def __init__(self, cidrs: Sequence[str]) -> None:
        spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for cidr in cidrs:
            version, first, last = _interval(cidr)
            spans[version].append((first, last))
        self.starts: dict[int, list[int]] = {}
        self.ends: dict[int, list[int]] = {}
        for version, items in spans.items():
            merged: list[tuple[int, int]] = []
            for first, last in sorted(items):
                if merged and first <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], last))
                else:
                    merged.append((first, last))
            self.starts[version] = [m[0] for m in merged]
            self.ends[version] = [m[1] for m in merged]

    def touches(self, version: int, first: int, last: int) -> bool:
        i = bisect.bisect_right(self.starts[version], last) - 1
        return i >= 0 and self.ends[version][i] >= first


def _free_blocks(cidrs: Sequence[str], taken: _Taken, split_v4: int = 24) -> list[str]:
    """The /24s (IPv4) or whole prefixes (IPv6) of ``cidrs`` that touch no list."""
    free = []
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr)
        subnets = net.subnets(new_prefix=split_v4) if net.version == 4 and net.prefixlen < split_v4 else [net]
        for sub in subnets:
            if not taken.touches(sub.version, int(sub.network_address), int(sub.broadcast_address)):
                free.append(str(sub))
    return free


def _blocks(pools: Sequence[Sequence[str]]) -> _Blocks:
    rows = []
    for cidrs in pools:
        for cidr in cidrs:
            net = ipaddress.ip_network(cidr, strict=False)
            value, host_bits = int(net.network_address), net.max_prefixlen - net.prefixlen
            host = (1 << host_bits) - 1
            rows.append((net.version == 6, value >> 64, value & (2**64 - 1), host >> 64, host & (2**64 - 1)))
    columns = list(zip(*rows, strict=True))
    counts = np.array([len(p) for p in pools], dtype=np.int64)
    return _Blocks(
        v6=np.array(columns[0], dtype=bool),
        hi=np.array(columns[1], dtype=np.uint64),
        lo=np.array(columns[2], dtype=np.uint64),
        hi_mask=np.array(columns[3], dtype=np.uint64),
        lo_mask=np.array(columns[4], dtype=np.uint64),
        start=np.concatenate([[0], np.cumsum(counts)[:-1]]),
        count=counts,
    )


_HEX = pl.Series("hex", [format(i, "x") for i in range(1 << 16)])


def _addresses(blocks: _Blocks, pool: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """One address per entry of ``pool``, uniform inside a uniformly chosen block of that pool."""
    n = len(pool)
    block = blocks.start[pool] + (rng.random(n) * blocks.count[pool]).astype(np.int64)
    top = np.iinfo(np.uint64).max
    hi = blocks.hi[block] | (rng.integers(0, top, n, dtype=np.uint64, endpoint=True) & blocks.hi_mask[block])
    lo = blocks.lo[block] | (rng.integers(0, top, n, dtype=np.uint64, endpoint=True) & blocks.lo_mask[block])
    octets = {f"o{i}": ((lo >> np.uint64(s)) & np.uint64(255)).astype(np.int64) for i, s in enumerate((24, 16, 8, 0))}
    text = (
        pl.DataFrame(octets)
        .select(pl.concat_str([pl.col(f"o{i}").cast(pl.String) for i in range(4)], separator="."))
        .to_series()
    )
    six = np.flatnonzero(blocks.v6[block])
    if len(six):
        groups = {
            f"h{i}": ((word[six] >> np.uint64(s)) & np.uint64(0xFFFF)).astype(np.int64)
            for i, (word, s) in enumerate((w, s) for w in (hi, lo) for s in (48, 32, 16, 0))
        }
        v6 = (
            pl.DataFrame(groups)
            .select(
                pl.concat_str([pl.lit(_HEX).gather(pl.col(f"h{i}")) for i in range(8)], separator=":").str.replace(
                    r"(?:^|:)0(?::0)+(?::|$)", "::"
                )
            )
            .to_series()
        )
        text = text.scatter(six, v6)
    return text


# ---------------------------------------------------------------------------------------------- the world


@dataclass
class _World:
    """Everything derived once from the registry, the IP lists and the referrers."""

    bots: list[Bot]
    shares: np.ndarray  # per line type, % of lines
    follows_traffic: np.ndarray  # per line type
    profiles: np.ndarray  # (types, 24 local hours), rows sum to 1
    blocks: _Blocks
    pool_genuine: np.ndarray  # per bot
    verdict_genuine: np.ndarray  # per bot, index into VERDICTS
    verdict_spoofed: np.ndarray
    verdict_private: np.ndarray
    spoof_rate: np.ndarray
    private_rate: np.ndarray
    bot_class: np.ndarray  # index into CLASSES
    bot_ua_start: np.ndarray
    bot_ua_count: np.ndarray
    agents: list[str]  # logged (escaped) user agents; browsers first, then libraries, no-agent, bots
    agent_weights: np.ndarray  # over the browsers
    n_browsers: int
    n_libraries: int
    attributed_ops: list[str]
    attributed_pool: np.ndarray
    products: list[str]
    ai_referer_product: np.ndarray
    utm_product: np.ndarray
    garbage: list[str]


P_DC4, P_DC6, P_PRIVATE, P_HUMAN4, P_HUMAN6 = range(5)


def _escape(agent: str) -> str:
    return agent.replace("\\", "\\\\").replace('"', '\\"')


def _pick_bots(registry: Registry) -> list[tuple[Bot, float]]:
    fetchers = {b.token.lower(): b for b in registry.fetchers}
    missing = [t for t, _ in _AI_BOTS + _OTHER_BOTS if t.lower() not in fetchers]
    if missing:
        raise RegistryError(
            f"the sample generator needs these bots, which the registry does not list as fetchers: "
            f"{', '.join(missing)}; add them to bots.toml (or pass a registry that has them)",
            path=registry.source,
        )
    chosen = [(fetchers[t.lower()], s) for t, s in _AI_BOTS]
    chosen += [(fetchers[t.lower()], s) for t, s in _OPTIONAL_AI if t.lower() in fetchers]
    named = {b.token for b, _ in chosen} | {t for t, _ in _OTHER_BOTS}
    google = [b for b in registry.fetchers if b.operator == "Google" and b.ai and b.token not in named]
    chosen += [(b, _GOOGLE_AI_SHARE / len(google)) for b in google]
    chosen += [(fetchers[t.lower()], s) for t, s in _OTHER_BOTS]
    return chosen


def _own_examples(registry: Registry, bot: Bot) -> list[str]:
    """The bot's example user agents that the registry classifies as that bot."""
    found = registry.classify(list(bot.examples))
    good = [ua for ua, hit in zip(bot.examples, found, strict=True) if hit is not None and hit.token == bot.token]
    if not good:
        raise RegistryError(
            f"no example user agent of '{bot.token}' is classified as '{bot.token}'",
            path=registry.source,
            key=bot.token,
        )
    return good


def _check_agents(registry: Registry, agents: Sequence[str], automated: bool, what: str) -> None:
    """Browsers must be neither a registry bot nor generic automation; libraries must be generic automation."""
    found = registry.classify(list(agents))
    flags = registry.generic_series(pl.Series(list(agents), dtype=pl.String)).to_list()
    for agent, bot, flag in zip(agents, found, flags, strict=True):
        if bot is not None or bool(flag) != automated:
            got = f"bot '{bot.token}'" if bot else ("generic automation" if flag else "a browser")
            raise RegistryError(
                f"the sample's {what} user agent {agent!r} is classified as {got}", path=registry.source
            )


def _lists_for(bot: Bot, ip_lists: IpLists) -> list[str]:
    known = [lid for lid in bot.ip_lists if lid in ip_lists.lists]
    if bot.verification == "ip" and not known:
        raise RegistryError(
            f"'{bot.token}' verifies by IP but none of its lists {list(bot.ip_lists)} is known", key=bot.token
        )
    return known


def _attributable(
    registry: Registry, ip_lists: IpLists, taken_by_others: dict[str, _Taken]
) -> list[tuple[str, list[str]]]:
    """(list id, CIDRs in no other list) for the AI-only published lists the generator attributes from."""
    users: dict[str, list[str]] = {}
    for bot in registry.fetchers:
        for list_id in bot.ip_lists:
            users.setdefault(list_id, []).append(bot.purpose)
    found = []
    for list_id in _ATTRIBUTED_LISTS:
        ip_list = ip_lists.lists.get(list_id)
        purposes = users.get(list_id, [])
        if ip_list is None or ip_list.authority != "published" or not purposes:
            continue
        if not all(p in AI_PURPOSES for p in purposes):
            continue
        alone = [c for c in ip_list.cidrs if not taken_by_others[list_id].touches(*_interval(c))]
        if alone:
            found.append((list_id, alone))
    if not found:
        raise RegistryError(
            f"none of the lists {list(_ATTRIBUTED_LISTS)} is an AI-only published list with "
            "addresses of its own; the sample cannot show ip_attributed traffic"
        )
    return found


def _product_of(referrers: Referrers, host: str | None = None, utm: str | None = None) -> str:
    for product in referrers.products:
        if host is not None and any(host == h or host.endswith("." + h) for h in product.hosts):
            return product.product
        if utm is not None and utm.lower() in (u.lower() for u in product.utm_sources):
            return product.product
    raise RegistryError(f"referrers.toml names no AI product for {host or 'utm_source=' + str(utm)}")


def _build_world(registry: Registry, ip_lists: IpLists, referrers: Referrers, rng: np.random.Generator) -> _World:
    all_cidrs = [c for lst in ip_lists.lists.values() for c in lst.cidrs]
    taken = _Taken(all_cidrs + list(NON_PUBLIC))
    others = {
        lid: _Taken([c for o, lst in ip_lists.lists.items() if o != lid for c in lst.cidrs] + list(NON_PUBLIC))
        for lid in _ATTRIBUTED_LISTS
        if lid in ip_lists.lists
    }
    pools: list[list[str]] = []
    base: tuple[tuple[Sequence[str], str], ...] = (
        (_DC_V4, "data-centre IPv4"),
        (_DC_V6, "data-centre IPv6"),
        (_PRIVATE, "private"),
        (_HUMAN_V4, "visitor IPv4"),
        (_HUMAN_V6, "visitor IPv6"),
    )
    for cidrs, what in base:
        free = list(cidrs) if cidrs is _PRIVATE else _free_blocks(cidrs, taken)
        if not free:
            raise RegistryError(f"every {what} block of the sample generator is inside a published list")
        pools.append(free)

    picked = _pick_bots(registry)
    bots = [b for b, _ in picked]
    agents = [_escape(a) for a, _ in _BROWSERS] + [_escape(a) for a in _LIBRARIES] + list(_NO_AGENT)
    _check_agents(registry, [a for a, _ in _BROWSERS], False, "browser")
    _check_agents(registry, list(_LIBRARIES) + list(_NO_AGENT), True, "automation")
    ua_start, ua_count, pool_genuine = [], [], []
    verdicts: list[tuple[int, int, int]] = []
    for bot in bots:
        examples = _own_examples(registry, bot)
        ua_start.append(len(agents))
        ua_count.append(len(examples))
        agents += [_escape(e) for e in examples]
        lists = _lists_for(bot, ip_lists)
        if lists:
            pool_genuine.append(len(pools))
            pools.append([c for lid in lists for c in ip_lists.lists[lid].cidrs])
        else:
            pool_genuine.append(P_DC4)
        by_ip = bot.verification == "ip"
        verdicts.append((0, 1, 3) if by_ip else (2, 2, 2))
    attributed = _attributable(registry, ip_lists, others)
    attributed_pool = []
    for _, cidrs in attributed:
        attributed_pool.append(len(pools))
        pools.append(cidrs)

    shares = np.zeros(N_FIXED + len(bots))
    for t, share in _FIXED_SHARES.items():
        shares[t] = share
    shares[N_FIXED:] = [s for _, s in picked]
    shares[T_HUMAN] = 100.0 - shares.sum()
    follows = np.ones(len(shares), dtype=bool)
    follows[N_FIXED:] = [b.purpose == "user" for b in bots]
    people = _PEOPLE_HOURS / _PEOPLE_HOURS.sum()
    profiles = np.where(follows[:, None], people[None, :], 1 / 24)
    profiles[T_AUTOMATION] = profiles[T_JUNK] = 1 / 24
    ai_ip = np.array([b.ai and b.verification == "ip" for b in bots])
    products = sorted(
        {_product_of(referrers, host=_host(u)) for u, _ in _AI_REFERERS}
        | {_product_of(referrers, utm=u) for u, _ in _AI_UTM}
    )
    for referer, _ in _HUMAN_REFERERS:
        if referer.startswith("http") and _matches_product(referrers, _host(referer)):
            raise RegistryError(f"the sample's ordinary referer {referer} counts as an AI referral")
    garbage = [
        "".join(
            rng.choice(
                list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-_/%;:"), int(rng.integers(3, 90))
            )
        )
        for _ in range(48)
    ] + ["HELP", "batman", "Gh0st\\xad"]
    return _World(
        bots=bots,
        shares=shares,
        follows_traffic=follows,
        profiles=profiles,
        blocks=_blocks(pools),
        pool_genuine=np.array(pool_genuine),
        verdict_genuine=np.array([v[0] for v in verdicts]),
        verdict_spoofed=np.array([v[1] for v in verdicts]),
        verdict_private=np.array([v[2] for v in verdicts]),
        spoof_rate=np.where(ai_ip, _SPOOFED, 0.0),
        private_rate=np.where(ai_ip, _PRIVATE_SHARE, 0.0),
        bot_class=np.array([1 if b.ai else 2 for b in bots]),
        bot_ua_start=np.array(ua_start),
        bot_ua_count=np.array(ua_count),
        agents=agents,
        agent_weights=_normalised([w for _, w in _BROWSERS]),
        n_browsers=len(_BROWSERS),
        n_libraries=len(_LIBRARIES),
        attributed_ops=[ip_lists.lists[lid].operator for lid, _ in attributed],
        attributed_pool=np.array(attributed_pool),
        products=products,
        ai_referer_product=np.array([products.index(_product_of(referrers, host=_host(u))) for u, _ in _AI_REFERERS]),
        utm_product=np.array([products.index(_product_of(referrers, utm=u)) for u, _ in _AI_UTM]),
        garbage=garbage,
    )


def _host(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0].lower()


def _matches_product(referrers: Referrers, host: str) -> bool:
    return re.match(referrers.host_regex(), host) is not None


def _normalised(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(weights, dtype=float)
    return array / array.sum()


# ---------------------------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class _Month:
    year: int
    month: int
    start: int  # epoch seconds, UTC
    days: int

    @classmethod
    def parse(cls, text: str) -> _Month:
        match = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ConfigError(f"month '{text}' must look like 2026-10", key="month", value=text)
        year, month = int(match.group(1)), int(match.group(2))
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return cls(year, month, int(start.timestamp()), (end - start).days)


@dataclass(frozen=True)
class _FileSpec:
    name: str
    slug: str | None  # the --outlet, or None for the shared vhost log
    outlets: np.ndarray  # indices into SAMPLE_OUTLETS
    gzip: bool
    lines: int

    @property
    def vhost(self) -> bool:
        return self.slug is None


@dataclass
class _Tally:
    """Dense counters of the ground truth, filled chunk by chunk from the generator's arrays."""

    n_bots: int
    n_attributed: int
    n_products: int
    n_days: int
    lines: int = 0
    parsed: int = 0
    rejected: int = 0

    def __post_init__(self) -> None:
        o = len(SAMPLE_OUTLETS)
        self.fetches = np.zeros((o, self.n_bots, len(VERDICTS)), dtype=np.int64)
        self.attributed = np.zeros((o, self.n_attributed), dtype=np.int64)
        self.referrals = np.zeros((o, self.n_products), dtype=np.int64)
        self.traffic = np.zeros((o, len(CLASSES)), dtype=np.int64)
        self.days = np.zeros((o, self.n_days), dtype=np.int64)


def _bincount_into(target: np.ndarray, index: tuple[np.ndarray, ...]) -> None:
    flat = np.ravel_multi_index(index, target.shape)
    target += np.bincount(flat, minlength=target.size).reshape(target.shape)


@dataclass
class _Draws:
    """Per-line choices of one chunk (all vectorised)."""

    seconds: np.ndarray
    outlet: np.ndarray
    kind: np.ndarray
    bot: np.ndarray
    verdict: np.ndarray
    attributed: np.ndarray
    product: np.ndarray
    junk: np.ndarray


class _FileWriter:
    """Generates one file's lines chunk by chunk and tallies what ingest must find."""

    def __init__(self, world: _World, spec: _FileSpec, month: _Month, rng: np.random.Generator) -> None:
        self.w, self.spec, self.month, self.rng = world, spec, month, rng
        weights = np.where(
            world.follows_traffic[None, :],
            _normalised(_TRAFFIC)[spec.outlets, None],
            _normalised(_CRAWL)[spec.outlets, None],
        )  # (outlets of the file, line types)
        hourly = (weights * world.shares[None, :])[:, :, None] * world.profiles[None, :, :]
        self.table = hourly.reshape(-1, 24)  # row = outlet * types + type, column = local hour
        local_hours = (np.arange(month.days * 24) + TZ_HOURS) % 24
        counts = rng.multinomial(spec.lines, _normalised(self.table.sum(axis=0)[local_hours]))
        self.bin_end = np.cumsum(counts)  # lines per UTC hour of the month
        self.bin_start = self.bin_end - counts
        n_visitors = int(min(max(spec.lines // 6, 500), 300_000))
        family = np.where(rng.random(n_visitors) < 0.06, P_HUMAN6, P_HUMAN4)
        self.visitor_ip = _addresses(world.blocks, family, rng)
        self.visitor_ua = rng.choice(world.n_browsers, n_visitors, p=world.agent_weights)

    def chunks(self, tally: _Tally) -> Iterator[memoryview]:
        for first in range(0, self.spec.lines, CHUNK):
            draws, text = self._chunk(first, min(first + CHUNK, self.spec.lines))
            _tally(tally, self.w, draws)
            yield text

    def _times(self, first: int, last: int) -> np.ndarray:
        """Sorted UTC seconds since the month start; every UTC day starts at :00:00 and ends at :59:59."""
        index = np.arange(first, last)
        hour = np.searchsorted(self.bin_end, index, side="right")
        seconds = np.sort(hour * 3600 + self.rng.integers(0, 3600, last - first))
        day_first = (index == self.bin_start[hour]) & (hour % 24 == 0)
        day_last = (index == self.bin_end[hour] - 1) & (hour % 24 == 23)
        seconds[day_first] = hour[day_first] * 3600
        seconds[day_last] = hour[day_last] * 3600 + 3599
        return seconds

    def _kinds(self, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(outlet index into SAMPLE_OUTLETS, line type) per line, drawn given the line's local hour."""
        n_types = self.table.shape[0] // len(self.spec.outlets)
        local = (seconds // 3600 + TZ_HOURS) % 24
        flat = np.empty(len(seconds), dtype=np.int64)
        for hour in range(24):
            rows = np.flatnonzero(local == hour)
            flat[rows] = self.rng.choice(self.table.shape[0], len(rows), p=_normalised(self.table[:, hour]))
        return self.spec.outlets[flat // n_types], flat % n_types

    def _chunk(self, first: int, last: int) -> tuple[_Draws, memoryview]:
        n, w, uniform = last - first, self.w, self._uniform
        seconds = self._times(first, last)
        outlet, kind = self._kinds(seconds)
        is_bot = kind >= N_FIXED
        bot = np.where(is_bot, kind - N_FIXED, 0)
        roll = uniform(n)
        spoof = is_bot & (roll < w.spoof_rate[bot])
        private = is_bot & ~spoof & (roll < w.spoof_rate[bot] + w.private_rate[bot])
        verdict = np.select([private, spoof], [w.verdict_private[bot], w.verdict_spoofed[bot]], w.verdict_genuine[bot])
        utm = _pick(_AI_UTM, uniform(n))
        ai_ref = _pick(_AI_REFERERS, uniform(n))
        product = np.select([kind == T_REFERRAL, kind == T_UTM], [w.ai_referer_product[ai_ref], w.utm_product[utm]], -1)
        junk = kind == T_JUNK
        junk_kind = np.where(junk, (uniform(n) * (5 if self.spec.vhost else 4)).astype(np.int64), -1)
        attributed = (uniform(n) * len(w.attributed_pool)).astype(np.int64)
        draws = _Draws(seconds, outlet, kind, bot, verdict, attributed, product, junk)
        # automation: 0 library, 1 "-", 2 "", 3 TLS handshake, 4 "-" request
        auto = np.where(kind == T_AUTOMATION, np.searchsorted([0.53, 0.77, 0.83, 0.91], uniform(n)), -1)
        visitor = (len(self.visitor_ua) * uniform(n) ** 2).astype(np.int64)  # some visitors come back often
        agent = self._agents(draws, auto, visitor)
        pages = self._pages(draws, auto)
        frame = pl.DataFrame(
            {
                "ip": self._ips(draws, spoof, private, visitor),
                "time": self._clock(seconds, junk_kind == 3),
                "request": self._request(draws, auto, pages, utm),
                "status": pl.Series(pages.status).cast(pl.String),
                "size": pl.Series(np.where(pages.status == 304, "-", pages.size.astype(str))),
                "referer": self._referers(draws, ai_ref, pages.kinds),
                "agent": pl.Series(w.agents).gather(agent),
            }
        )
        if self.spec.vhost:
            frame = frame.with_columns(self._hosts(outlet, junk_kind == 4).alias("host"))
        line = pl.concat_str(
            ([pl.col("host"), pl.lit(" ")] if self.spec.vhost else [])
            + [
                pl.col("ip"),
                pl.lit(" - - "),
                pl.col("time"),
                pl.lit(' "'),
                pl.col("request"),
                pl.lit('" '),
                pl.col("status"),
                pl.lit(" "),
                pl.col("size"),
                pl.lit(' "'),
                pl.col("referer"),
                pl.lit('" "'),
                pl.col("agent"),
                pl.lit('"\n'),
            ]
        )
        text = frame.select(line.alias("line"))["line"]
        if junk.any():
            rows = np.flatnonzero(junk)
            text = text.scatter(rows, self._junk(text.gather(rows), agent[rows], junk_kind[rows]))
        return draws, _buffer(text)

    def _uniform(self, n: int) -> np.ndarray:
        return self.rng.random(n)

    def _junk(self, lines: pl.Series, agent: np.ndarray, kind: np.ndarray) -> pl.Series:
        """Empty (0), truncated inside the user agent (1), garbage (2); 3 and 4 are already in the line."""
        n = len(kind)
        agent_len = np.array([len(a) for a in self.w.agents])[agent]
        # drop the newline, the closing quote and part of the user agent
        cut = pl.Series((self._uniform(n) * np.maximum(agent_len - 1, 1)).astype(np.int64) + 2)
        garbage = pl.Series(self.w.garbage).gather((self._uniform(n) * len(self.w.garbage)).astype(np.int64))
        return pl.select(
            pl.when(pl.Series(kind == 0))
            .then(pl.lit("\n"))
            .when(pl.Series(kind == 1))
            .then(pl.lit(lines).str.slice(0, pl.lit(lines).str.len_chars() - cut) + "\n")
            .when(pl.Series(kind == 2))
            .then(garbage + "\n")
            .otherwise(pl.lit(lines))
        ).to_series()

    def _ips(self, d: _Draws, spoof: np.ndarray, private: np.ndarray, visitor: np.ndarray) -> pl.Series:
        """Visitors' addresses for people; bots, automation and undeclared AI from their pools."""
        w, n, is_bot = self.w, len(d.kind), d.kind >= N_FIXED
        family = self._uniform(n)
        pool = np.select(
            [private, spoof, is_bot, d.kind == T_AUTOMATION, d.kind == T_UNDECLARED],
            [
                P_PRIVATE,
                np.where(family < _SPOOF_V6, P_DC6, P_DC4),
                w.pool_genuine[d.bot],
                np.where(family < 0.05, P_DC6, P_DC4),
                w.attributed_pool[d.attributed],
            ],
            -1,
        )
        ip = self.visitor_ip.gather(visitor)
        pooled = np.flatnonzero(pool >= 0)
        if len(pooled):
            ip = ip.scatter(pooled, _addresses(w.blocks, pool[pooled], self.rng))
        # a few servers log the X-Forwarded-For chain in the address field; the leftmost is the client
        chained = ~d.junk & (self._uniform(n) < 0.003)
        return ip + _CHAINS.gather(np.where(chained, (self._uniform(n) * 250).astype(np.int64) + 2, 0))

    def _agents(self, d: _Draws, auto: np.ndarray, visitor: np.ndarray) -> np.ndarray:
        w, n = self.w, len(d.kind)
        browser = self.rng.choice(w.n_browsers, n, p=w.agent_weights)
        library = w.n_browsers + (self._uniform(n) * w.n_libraries).astype(np.int64)
        no_agent = w.n_browsers + w.n_libraries + (auto == 2)
        bot_agent = w.bot_ua_start[d.bot] + (self._uniform(n) * w.bot_ua_count[d.bot]).astype(np.int64)
        return np.select(
            [d.kind <= T_UTM, d.kind >= N_FIXED, auto == 0, auto > 0, d.kind == T_UNDECLARED],
            [
                self.visitor_ua[visitor],
                bot_agent,
                library,
                no_agent,
                np.where(self._uniform(n) < 0.2, library, browser),
            ],
            browser,  # junk
        )

    def _pages(self, d: _Draws, auto: np.ndarray) -> _Pages:
        """What each line asks for, with the status and size the server answers."""
        kind, n, uniform = d.kind, len(d.kind), self._uniform
        is_bot = kind >= N_FIXED
        user_bot = is_bot & self.w.follows_traffic[kind]
        pick = uniform(n)
        human = np.where(uniform(n) < 0.003, K_SEARCH, np.searchsorted(np.cumsum([0.45, 0.10, 0.28, 0.166]), pick))
        crawler = np.array([K_ARTICLE, K_SECTION, K_IMAGE, K_CRAWL])[np.searchsorted([0.80, 0.87, 0.92], pick)]
        kinds = np.select(
            [
                (kind == T_REFERRAL) | (kind == T_UTM) | (kind == T_UNDECLARED) | user_bot,
                kind == T_HUMAN,
                is_bot,
                kind == T_AUTOMATION,
            ],
            [K_ARTICLE, human, crawler, np.where(pick < 0.5, K_PROBE, K_ARTICLE)],
            K_ARTICLE,
        )
        roll = uniform(n)
        asset = (kinds == K_ASSET) | (kinds == K_IMAGE)
        status = np.select(
            [auto >= 3, kinds == K_PROBE, (kind == T_REFERRAL) | (kind == T_UTM), kinds == K_CRAWL, is_bot, asset],
            [
                400,
                404,
                200,
                200,
                np.array([200, 301, 404, 304])[np.searchsorted([0.91, 0.94, 0.99], roll)],
                np.array([200, 304, 404])[np.searchsorted([0.70, 0.98], roll)],
            ],
            np.array([200, 304, 301, 404])[np.searchsorted([0.88, 0.92, 0.95], roll)],
        )
        rng = self.rng
        body = np.select(
            [kinds == K_IMAGE, kinds == K_ASSET, kinds == K_CRAWL],
            [rng.lognormal(11.5, 0.8, n), rng.lognormal(9.5, 1.3, n), rng.lognormal(8.0, 1.2, n)],
            rng.lognormal(11.0, 0.5, n),
        ).astype(np.int64)
        size = np.select([status == 301, status == 404, auto == 3, auto == 4], [169, 548, 157, 0], body)
        return _Pages(kinds, status, size, is_bot & ~user_bot)

    def _request(self, d: _Draws, auto: np.ndarray, pages: _Pages, utm: np.ndarray) -> pl.Series:
        kind, n = d.kind, len(d.kind)
        path = self._paths(d, pages)
        tracking = (kind == T_HUMAN) & (pages.kinds == K_ARTICLE) & (self._uniform(n) < 0.04)
        query = np.select(
            [kind == T_UTM, tracking], [len(_TRACKING) + utm, (self._uniform(n) * len(_TRACKING)).astype(np.int64)], -1
        )
        path = path + _QUERIES.gather(np.where(query < 0, len(_QUERIES) - 1, query))  # the last one is empty
        method_roll = self._uniform(n)
        method = np.where(
            (kind >= N_FIXED) & (method_roll < 0.01),
            "HEAD",
            np.where((pages.kinds == K_PROBE) & (method_roll < 0.2), "POST", "GET"),
        )
        protocol = np.where((kind <= T_UTM) & (self._uniform(n) < 0.45), " HTTP/2.0", " HTTP/1.1")
        return pl.select(
            pl.when(pl.Series(auto == 3))
            .then(pl.lit(_TLS))
            .when(pl.Series(auto == 4))
            .then(pl.lit("-"))
            .otherwise(pl.Series(method) + " " + path + pl.Series(protocol))
        ).to_series()

    def _paths(self, d: _Draws, pages: _Pages) -> pl.Series:
        articles, nw, kinds = 4000, len(_WORDS), pages.kinds
        which = self._uniform(len(kinds))
        # crawlers walk the whole archive; people read what is popular
        article = np.where(pages.crawler, articles * which, articles * which**3).astype(np.int64)
        ids = pl.Series(100_000 * (d.outlet + 1) + article).cast(pl.String)
        words = pl.Series(_WORDS)
        slug = pl.concat_str(
            [words.gather(article % nw), words.gather((article * 7 + 3) % nw), words.gather((article * 13 + 5) % nw)],
            separator="-",
        )
        month = f"{self.month.year}/{self.month.month:02d}/"
        group = np.select([kinds == K_ASSET, kinds == K_CRAWL, kinds == K_PROBE], [1, 2, 3], 0)
        static = _STATIC_START[group] + (self._uniform(len(kinds)) * _STATIC_SIZE[group]).astype(np.int64)
        return pl.select(
            pl.when(pl.Series(kinds == K_ARTICLE))
            .then("/news/" + month + slug + "-" + ids)
            .when(pl.Series(kinds == K_IMAGE))
            .then("/images/" + month + ids + "_800.jpg")
            .when(pl.Series(kinds == K_SEARCH))
            .then('/search?q=\\"' + words.gather(article % nw) + '\\"')
            .otherwise(_STATICS.gather(static))
        ).to_series()

    def _referers(self, d: _Draws, ai_ref: np.ndarray, kinds: np.ndarray) -> pl.Series:
        n = len(d.kind)
        ordinary = _pick(_HUMAN_REFERERS, self._uniform(n))
        site = len(_HUMAN_REFERERS) + len(_AI_REFERERS) + d.outlet
        own_page = (ordinary == _SITE) | (((kinds == K_ASSET) | (kinds == K_IMAGE)) & (self._uniform(n) < 0.85))
        human = np.where(own_page, site, ordinary)
        index = np.select([d.kind == T_HUMAN, d.kind == T_REFERRAL], [human, len(_HUMAN_REFERERS) + ai_ref], 0)
        return _REFERER_TABLE.gather(index)

    def _clock(self, seconds: np.ndarray, localised: np.ndarray) -> pl.Series:
        local = pl.from_epoch(pl.Series(seconds + self.month.start + TZ_HOURS * 3600), time_unit="s")
        time = local.dt.strftime(f"[%d/%b/%Y:%H:%M:%S {TZ}]")
        if localised.any():  # a server with a Russian locale writes month names ingest cannot read
            rows = np.flatnonzero(localised)
            name = _RU_MONTHS[self.month.month - 1]
            time = time.scatter(rows, time.gather(rows).str.replace(r"/[A-Za-z]{3}/", f"/{name}/"))
        return time

    def _hosts(self, outlet: np.ndarray, unknown: np.ndarray) -> pl.Series:
        roll = self._uniform(len(outlet))
        variant = np.searchsorted([0.55, 0.85, 0.95], roll)  # domain, www., alias or m., www.:443
        other = 4 * len(SAMPLE_OUTLETS) + (roll * len(_UNKNOWN_HOSTS)).astype(np.int64)
        return _HOST_TABLE.gather(np.where(unknown, other, 4 * outlet + variant))


@dataclass(frozen=True)
class _Pages:
    kinds: np.ndarray  # K_*
    status: np.ndarray
    size: np.ndarray
    crawler: np.ndarray  # a crawler (walks the archive) rather than a person or an agent


K_ARTICLE, K_SECTION, K_ASSET, K_IMAGE, K_CRAWL, K_PROBE, K_SEARCH = range(7)
_SITE = next(i for i, (r, _) in enumerate(_HUMAN_REFERERS) if r == "{site}")


def _pick(weighted: Sequence[tuple[str, float]], roll: np.ndarray) -> np.ndarray:
    """Index into ``weighted`` for each uniform in ``roll``."""
    cumulative = np.cumsum(_normalised([w for _, w in weighted]))[:-1]
    return np.searchsorted(cumulative, roll, side="right")


def _host_variants() -> list[str]:
    variants = []
    for outlet in SAMPLE_OUTLETS:
        domain = outlet.domains[0]
        alias = outlet.domains[1] if len(outlet.domains) > 1 else f"m.{domain}"
        variants += [domain, f"www.{domain}", alias, f"www.{domain}:443"]
    return variants


_TLS = r"\x16\x03\x01\x00\xfc\x01\x00\x00\xf8\x03\x03\xa7\x9d\x1e"
_CHAINS = pl.Series([""] + [f", 10.0.0.{i}" for i in range(1, 256)])
_QUERIES = pl.Series(list(_TRACKING) + [f"?utm_source={s}" for s, _ in _AI_UTM] + [""])
_STATIC_GROUPS = (_SECTIONS, _ASSETS, _CRAWL_FILES, _PROBES)
_STATICS = pl.Series([p for group in _STATIC_GROUPS for p in group])
_STATIC_SIZE = np.array([len(g) for g in _STATIC_GROUPS])
_STATIC_START = np.concatenate([[0], np.cumsum(_STATIC_SIZE)[:-1]])
_REFERER_TABLE = pl.Series(
    [r for r, _ in _HUMAN_REFERERS]
    + [r for r, _ in _AI_REFERERS]
    + [f"https://{o.domains[0]}/" for o in SAMPLE_OUTLETS]
)
_HOST_TABLE = pl.Series(_host_variants() + list(_UNKNOWN_HOSTS))


def _buffer(text: pl.Series) -> memoryview:
    """The bytes of a String column whose values all end in a newline, without a copy per line."""
    array = text.rechunk().to_arrow()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    return memoryview(array.buffers()[2])[offsets[0] : offsets[-1]]


def _tally(t: _Tally, w: _World, d: _Draws) -> None:
    ok, is_bot = ~d.junk, d.kind >= N_FIXED
    t.lines += len(d.kind)
    t.rejected += int(d.junk.sum())
    t.parsed += int(ok.sum())
    cls = np.select([is_bot, d.kind == T_AUTOMATION, d.kind == T_UNDECLARED], [w.bot_class[d.bot], 2, 3], 0)
    _bincount_into(t.traffic, (d.outlet[ok], cls[ok]))
    _bincount_into(t.days, (d.outlet[ok], d.seconds[ok] // 86400))
    _bincount_into(t.fetches, (d.outlet[is_bot], d.bot[is_bot], d.verdict[is_bot]))
    undeclared = d.kind == T_UNDECLARED
    _bincount_into(t.attributed, (d.outlet[undeclared], d.attributed[undeclared]))
    referred = d.product >= 0
    _bincount_into(t.referrals, (d.outlet[referred], d.product[referred]))


# ---------------------------------------------------------------------------------------------- generate


def generate(
    directory: Path,
    *,
    lines: int = 1_000_000,
    seed: int = 20261001,
    month: str = "2026-10",
    registry: Registry | None = None,
    ip_lists: IpLists | None = None,
    referrers: Referrers | None = None,
) -> Sample:
    """Write the sample logs, ``outlets.csv`` and ``truth.json`` into ``directory``; same seed, same bytes."""
    if lines < 1000:
        raise ConfigError(f"lines must be at least 1000, got {lines}", key="lines", value=lines)
    period = _Month.parse(month)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed).spawn(2 + 1 + len(_OWN_FILES))
    world = _build_world(
        registry or load_registry(),
        ip_lists or load_ip_lists(),
        referrers or load_referrers(),
        np.random.default_rng(seeds[0]),
    )
    tally = _Tally(len(world.bots), len(world.attributed_pool), len(world.products), period.days)
    files = []
    for spec, child in zip(_split(world, lines, np.random.default_rng(seeds[1])), seeds[2:], strict=True):
        before = (tally.parsed, tally.rejected)
        writer = _FileWriter(world, spec, period, np.random.default_rng(child))
        path = directory / spec.name
        _write(path, writer.chunks(tally), spec.gzip)
        files.append(
            SampleFile(
                path,
                spec.slug,
                "vhost_combined" if spec.vhost else "combined",
                spec.lines,
                tally.parsed - before[0],
                tally.rejected - before[1],
            )
        )
    truth = _truth(tally, world, period, month)
    _write_outlets(directory / "outlets.csv")
    document = {
        **truth.as_dict(),
        "files": [
            {
                "name": f.path.name,
                "outlet": f.outlet,
                "format": f.format,
                "lines": f.lines,
                "parsed": f.parsed,
                "rejected": f.rejected,
            }
            for f in files
        ],
        "seed": seed,
    }
    (directory / "truth.json").write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return Sample(tuple(files), SAMPLE_OUTLETS, truth)


def _split(world: _World, lines: int, rng: np.random.Generator) -> list[_FileSpec]:
    """Lines per file, in proportion to the expected lines of the outlets in it (at least one each)."""
    slugs = [o.slug for o in SAMPLE_OUTLETS]
    own = [slugs.index(slug) for slug, _, _ in _OWN_FILES]
    shared = np.array([i for i in range(len(slugs)) if i not in own])
    weights = np.where(world.follows_traffic[None, :], _normalised(_TRAFFIC)[:, None], _normalised(_CRAWL)[:, None])
    per_outlet = (weights * world.shares[None, :]).sum(axis=1)
    groups = [shared] + [np.array([i]) for i in own]
    counts = rng.multinomial(lines, _normalised([per_outlet[g].sum() for g in groups]))
    for i in np.flatnonzero(counts == 0):
        counts[i], counts[0] = 1, counts[0] - 1
    specs = [_FileSpec(VHOST_FILE, None, shared, True, int(counts[0]))]
    for (slug, name, gz), index, count in zip(_OWN_FILES, own, counts[1:], strict=True):
        specs.append(_FileSpec(name, slug, np.array([index]), gz, int(count)))
    return specs


def _write(path: Path, chunks: Iterator[memoryview], gzip: bool) -> None:
    with path.open("wb") as handle:
        if not gzip:
            for chunk in chunks:
                handle.write(chunk)
            return
        compressor = isal_zlib.compressobj(2, isal_zlib.DEFLATED, 31)  # gzip wrapper: no name, mtime 0
        for chunk in chunks:
            handle.write(compressor.compress(chunk))
        handle.write(compressor.flush())


def _truth(t: _Tally, w: _World, period: _Month, month: str) -> GroundTruth:
    slugs = [o.slug for o in SAMPLE_OUTLETS]
    fetches = {f"{slugs[o]}|{w.bots[b].token}|{VERDICTS[v]}": int(c) for (o, b, v), c in np.ndenumerate(t.fetches) if c}
    attributed: dict[str, int] = {}
    for (o, a), c in np.ndenumerate(t.attributed):
        if c:
            key = f"{slugs[o]}|{w.attributed_ops[a]}"
            attributed[key] = attributed.get(key, 0) + int(c)
    first = datetime.fromtimestamp(period.start, UTC)
    days = {f"{slugs[o]}|{first.replace(day=d + 1):%Y-%m-%d}": int(c) for (o, d), c in np.ndenumerate(t.days) if c}
    return GroundTruth(
        lines=t.lines,
        rejected=t.rejected,
        parsed=t.parsed,
        fetches=dict(sorted(fetches.items())),
        ip_attributed=dict(sorted(attributed.items())),
        referrals={f"{slugs[o]}|{w.products[p]}": int(c) for (o, p), c in np.ndenumerate(t.referrals) if c},
        traffic={f"{slugs[o]}|{CLASSES[k]}": int(c) for (o, k), c in np.ndenumerate(t.traffic) if c},
        period=month,
        days=days,
    )


def _write_outlets(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for o in SAMPLE_OUTLETS:
            writer.writerow(
                [o.slug, o.name, ";".join(o.domains), o.country, o.language, o.fte, o.regional_fte, o.group]
            )
