"""Writes one sample file: its lines drawn chunk by chunk, vectorised (numpy + polars), tallied as they go.

Times are UTC seconds inside the month, written in local time ``+0500``; hours follow a daily cycle for people
and are flat for crawlers, and each file is in time order. A chunk is ``CHUNK`` lines, so memory stays flat for
any number of lines. Gzip output has no name and mtime 0: the same seed gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
from isal import isal_zlib

from ledger.sample.addresses import addresses
from ledger.sample.outlets import CRAWL, SAMPLE_OUTLETS, TRAFFIC
from ledger.sample.pools import (
    AI_REFERERS,
    AI_UTM,
    ASSETS,
    CRAWL_FILES,
    HUMAN_REFERERS,
    PROBES,
    SECTIONS,
    SPOOF_V6,
    TRACKING,
    UNKNOWN_HOSTS,
    WORDS,
)
from ledger.sample.truth import Draws, Month, Tally, tally_chunk
from ledger.sample.world import (
    N_FIXED,
    P_DC4,
    P_DC6,
    P_HUMAN4,
    P_HUMAN6,
    P_PRIVATE,
    T_AUTOMATION,
    T_HUMAN,
    T_JUNK,
    T_REFERRAL,
    T_UNDECLARED,
    T_UTM,
    World,
    normalised,
)

CHUNK = 100_000
TZ_HOURS = 5
TZ = "+0500"
_RU_MONTHS = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")


@dataclass(frozen=True)
class FileSpec:
    """One file to write: its name, the outlets in it, whether it is gzipped, and how many lines."""

    name: str
    slug: str | None  # the --outlet, or None for the shared vhost log
    outlets: np.ndarray  # indices into SAMPLE_OUTLETS
    gzip: bool
    lines: int

    @property
    def vhost(self) -> bool:
        return self.slug is None


class FileWriter:
    """Generates one file's lines chunk by chunk and tallies what ingest must find."""

    def __init__(self, world: World, spec: FileSpec, month: Month, rng: np.random.Generator) -> None:
        self.w, self.spec, self.month, self.rng = world, spec, month, rng
        weights = np.where(
            world.follows_traffic[None, :],
            normalised(TRAFFIC)[spec.outlets, None],
            normalised(CRAWL)[spec.outlets, None],
        )  # (outlets of the file, line types)
        hourly = (weights * world.shares[None, :])[:, :, None] * world.profiles[None, :, :]
        self.table = hourly.reshape(-1, 24)  # row = outlet * types + type, column = local hour
        local_hours = (np.arange(month.days * 24) + TZ_HOURS) % 24
        counts = rng.multinomial(spec.lines, normalised(self.table.sum(axis=0)[local_hours]))
        self.bin_end = np.cumsum(counts)  # lines per UTC hour of the month
        self.bin_start = self.bin_end - counts
        n_visitors = int(min(max(spec.lines // 6, 500), 300_000))
        family = np.where(rng.random(n_visitors) < 0.06, P_HUMAN6, P_HUMAN4)
        self.visitor_ip = addresses(world.blocks, family, rng)
        self.visitor_ua = rng.choice(world.n_browsers, n_visitors, p=world.agent_weights)

    def chunks(self, tally: Tally) -> Iterator[memoryview]:
        for first in range(0, self.spec.lines, CHUNK):
            draws, text = self._chunk(first, min(first + CHUNK, self.spec.lines))
            tally_chunk(tally, self.w, draws)
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
            flat[rows] = self.rng.choice(self.table.shape[0], len(rows), p=normalised(self.table[:, hour]))
        return self.spec.outlets[flat // n_types], flat % n_types

    def _chunk(self, first: int, last: int) -> tuple[Draws, memoryview]:
        n, w, uniform = last - first, self.w, self._uniform
        seconds = self._times(first, last)
        outlet, kind = self._kinds(seconds)
        is_bot = kind >= N_FIXED
        bot = np.where(is_bot, kind - N_FIXED, 0)
        roll = uniform(n)
        spoof = is_bot & (roll < w.spoof_rate[bot])
        private = is_bot & ~spoof & (roll < w.spoof_rate[bot] + w.private_rate[bot])
        verdict = np.select([private, spoof], [w.verdict_private[bot], w.verdict_spoofed[bot]], w.verdict_genuine[bot])
        utm = _pick(AI_UTM, uniform(n))
        ai_ref = _pick(AI_REFERERS, uniform(n))
        product = np.select([kind == T_REFERRAL, kind == T_UTM], [w.ai_referer_product[ai_ref], w.utm_product[utm]], -1)
        junk = kind == T_JUNK
        junk_kind = np.where(junk, (uniform(n) * (5 if self.spec.vhost else 4)).astype(np.int64), -1)
        attributed = (uniform(n) * len(w.attributed_pool)).astype(np.int64)
        draws = Draws(seconds, outlet, kind, bot, verdict, attributed, product, junk)
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

    def _ips(self, d: Draws, spoof: np.ndarray, private: np.ndarray, visitor: np.ndarray) -> pl.Series:
        """Visitors' addresses for people; bots, automation and undeclared AI from their pools."""
        w, n, is_bot = self.w, len(d.kind), d.kind >= N_FIXED
        family = self._uniform(n)
        pool = np.select(
            [private, spoof, is_bot, d.kind == T_AUTOMATION, d.kind == T_UNDECLARED],
            [
                P_PRIVATE,
                np.where(family < SPOOF_V6, P_DC6, P_DC4),
                w.pool_genuine[d.bot],
                np.where(family < 0.05, P_DC6, P_DC4),
                w.attributed_pool[d.attributed],
            ],
            -1,
        )
        ip = self.visitor_ip.gather(visitor)
        pooled = np.flatnonzero(pool >= 0)
        if len(pooled):
            ip = ip.scatter(pooled, addresses(w.blocks, pool[pooled], self.rng))
        # a few servers log the X-Forwarded-For chain in the address field; the leftmost is the client
        chained = ~d.junk & (self._uniform(n) < 0.003)
        return ip + _CHAINS.gather(np.where(chained, (self._uniform(n) * 250).astype(np.int64) + 2, 0))

    def _agents(self, d: Draws, auto: np.ndarray, visitor: np.ndarray) -> np.ndarray:
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

    def _pages(self, d: Draws, auto: np.ndarray) -> _Pages:
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

    def _request(self, d: Draws, auto: np.ndarray, pages: _Pages, utm: np.ndarray) -> pl.Series:
        kind, n = d.kind, len(d.kind)
        path = self._paths(d, pages)
        tracking = (kind == T_HUMAN) & (pages.kinds == K_ARTICLE) & (self._uniform(n) < 0.04)
        query = np.select(
            [kind == T_UTM, tracking], [len(TRACKING) + utm, (self._uniform(n) * len(TRACKING)).astype(np.int64)], -1
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

    def _paths(self, d: Draws, pages: _Pages) -> pl.Series:
        articles, nw, kinds = 4000, len(WORDS), pages.kinds
        which = self._uniform(len(kinds))
        # crawlers walk the whole archive; people read what is popular
        article = np.where(pages.crawler, articles * which, articles * which**3).astype(np.int64)
        ids = pl.Series(100_000 * (d.outlet + 1) + article).cast(pl.String)
        words = pl.Series(WORDS)
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

    def _referers(self, d: Draws, ai_ref: np.ndarray, kinds: np.ndarray) -> pl.Series:
        n = len(d.kind)
        ordinary = _pick(HUMAN_REFERERS, self._uniform(n))
        site = len(HUMAN_REFERERS) + len(AI_REFERERS) + d.outlet
        own_page = (ordinary == _SITE) | (((kinds == K_ASSET) | (kinds == K_IMAGE)) & (self._uniform(n) < 0.85))
        human = np.where(own_page, site, ordinary)
        index = np.select([d.kind == T_HUMAN, d.kind == T_REFERRAL], [human, len(HUMAN_REFERERS) + ai_ref], 0)
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
        other = 4 * len(SAMPLE_OUTLETS) + (roll * len(UNKNOWN_HOSTS)).astype(np.int64)
        return _HOST_TABLE.gather(np.where(unknown, other, 4 * outlet + variant))


@dataclass(frozen=True)
class _Pages:
    kinds: np.ndarray  # K_*
    status: np.ndarray
    size: np.ndarray
    crawler: np.ndarray  # a crawler (walks the archive) rather than a person or an agent


K_ARTICLE, K_SECTION, K_ASSET, K_IMAGE, K_CRAWL, K_PROBE, K_SEARCH = range(7)
_SITE = next(i for i, (r, _) in enumerate(HUMAN_REFERERS) if r == "{site}")


def _pick(weighted: Sequence[tuple[str, float]], roll: np.ndarray) -> np.ndarray:
    """Index into ``weighted`` for each uniform in ``roll``."""
    cumulative = np.cumsum(normalised([w for _, w in weighted]))[:-1]
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
_QUERIES = pl.Series(list(TRACKING) + [f"?utm_source={s}" for s, _ in AI_UTM] + [""])
_STATIC_GROUPS = (SECTIONS, ASSETS, CRAWL_FILES, PROBES)
_STATICS = pl.Series([p for group in _STATIC_GROUPS for p in group])
_STATIC_SIZE = np.array([len(g) for g in _STATIC_GROUPS])
_STATIC_START = np.concatenate([[0], np.cumsum(_STATIC_SIZE)[:-1]])
_REFERER_TABLE = pl.Series(
    [r for r, _ in HUMAN_REFERERS] + [r for r, _ in AI_REFERERS] + [f"https://{o.domains[0]}/" for o in SAMPLE_OUTLETS]
)
_HOST_TABLE = pl.Series(_host_variants() + list(UNKNOWN_HOSTS))


def _buffer(text: pl.Series) -> memoryview:
    """The bytes of a String column whose values all end in a newline, without a copy per line."""
    array = text.rechunk().to_arrow()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    return memoryview(array.buffers()[2])[offsets[0] : offsets[-1]]


def write_file(path: Path, chunks: Iterator[memoryview], gzip: bool) -> None:
    with path.open("wb") as handle:
        if not gzip:
            for chunk in chunks:
                handle.write(chunk)
            return
        compressor = isal_zlib.compressobj(2, isal_zlib.DEFLATED, 31)  # gzip wrapper: no name, mtime 0
        for chunk in chunks:
            handle.write(compressor.compress(chunk))
        handle.write(compressor.flush())
