"""Detection: parsed lines -> traffic class, bot fetches with verification verdicts, AI referrals.

All of it is vectorised. User agents are classified once per distinct string (cached across batches);
addresses are turned into integers and matched against the published ranges with as-of joins.

Traffic classes (disjoint; they add up to the parsed lines):
``ai_bot`` a declared AI crawler; ``other_bot`` a declared non-AI crawler, an HTTP library, a generic
bot or no user agent at all; ``undeclared_ai`` a browser-like user agent from an AI operator's published
crawler ranges; ``human`` the rest. Human addresses never leave this module.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

import numpy as np
import polars as pl

from ledger.detect.addresses import effective_clients, resolve_addresses
from ledger.detect.iplists import (
    V4_PATTERN,
    CoverTable,
    IpLists,
    address_numbers,
    address_prefilter,
    addresses_to_int,
    cover,
    cover_table,
    load_ip_lists,
    match_lists,
    merge_intervals,
    non_public_cover,
    partitions,
    word_pairs,
)
from ledger.detect.referrals import Referrers, load_referrers, referral_columns
from ledger.detect.registry import AI_PURPOSES, Registry, load_registry
from ledger.frames import constant, put, rows_where
from ledger.parse.native import DECLARED, OTHER_BOT, PERSON, Hints, KnownAgents, triage_fields
from ledger.parse.native import urls as native_urls
from ledger.sources import arrow_series

TRACKING_PARAMS = (
    r"(?i)(?:^|&)(?:utm_[^=&]*|fbclid|gclid|yclid|dclid|msclkid|_openstat|mc_cid|mc_eid|igshid|ref_src)(?:=[^&]*)?"
)
FETCH_COLUMNS = (
    "line_no",
    "ts",
    "outlet",
    "host",
    "path",
    "url",
    "method",
    "status",
    "bytes",
    "client_ip",
    "forwarded_for",
    "user_agent",
    "content_type",
    "bot",
    "operator",
    "purpose",
    "ai",
    "attribution",
    "verification",
    "ip_list",
)
REFERRAL_COLUMNS = ("line_no", "ts", "outlet", "host", "path", "url", "status", "product", "operator", "referer_host")
_REFERRAL_FOUND = {"product": pl.String, "operator": pl.String, "referer_host": pl.String}  # the columns it adds
_REFERRAL_INPUTS = ("line_no", "ts", "outlet", "host", "path", "url", "status", "referer")  # what referrals() reads


@dataclass(frozen=True)
class Detected:
    fetches: pl.DataFrame
    referrals: pl.DataFrame
    traffic: pl.DataFrame  # outlet, day, class, requests


UA_CACHE_LIMIT = 200_000  # distinct user agents whose classification is kept (about 30 MB)


def _ua_hash(user_agent: pl.Expr) -> pl.Expr:
    """The key user agents are looked up by (a hit is then checked against the string itself)."""
    return user_agent.hash(seed=0).alias("_h")


class Detector:
    """Holds the registry, the IP lists and the AI referrers, plus per-ingest caches."""

    def __init__(
        self,
        registry: Registry | None = None,
        ip_lists: IpLists | None = None,
        referrers: Referrers | None = None,
    ) -> None:
        self.registry = registry or load_registry()
        self.ip_lists = ip_lists or load_ip_lists()
        self.referrers = referrers or load_referrers()
        self.fetchers = self.registry.fetchers
        self._ua_cache = pl.DataFrame(schema={"user_agent": pl.String, "bot_index": pl.UInt32, "generic": pl.Boolean})
        self._ua_lock = threading.Lock()  # ingest's workers classify concurrently (``quiet`` and ``detect``)
        self._ua_index: pl.DataFrame | None = None  # the cache keyed by hash, rebuilt when it grows
        self._known: _Known | None = None  # its user agents with their kinds, for the native lookups
        self._known_stale = False  # the cache has changed since ``_known`` was made
        self._bots = self._bot_table()
        self._bot_lists = pl.DataFrame(
            [(i, lid) for i, b in enumerate(self.fetchers) if b.verification == "ip" for lid in b.ip_lists],
            schema={"bot_index": pl.UInt32, "list_id": pl.String},
            orient="row",
        )
        self._attribution_lists = self._undeclared_lists()
        self._referrer_hosts = sorted({h.lower() for p in self.referrers.products for h in p.hosts})
        attributing = pl.col("list_id").is_in(self._attribution_lists["list_id"].implode())
        attribution = self.ip_lists.intervals.filter(attributing)
        self._attribution_all = partitions(attribution)
        self._attribution_prefilter = address_prefilter(attribution)
        self._split_hints = Hints(*_ranges(attribution), shortest_needles(self._referrer_hosts))
        self._verdicts = _Verdicts.of(self)  # None: the polars way

    @property
    def version(self) -> str:
        parts = (self.registry.version, self.ip_lists.version, self.referrers.version)
        return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]

    def _bot_table(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "bot_index": pl.Series(range(len(self.fetchers)), dtype=pl.UInt32),
                "bot": [b.token for b in self.fetchers],
                "operator": [b.operator for b in self.fetchers],
                "purpose": [b.purpose for b in self.fetchers],
                "ai": [b.ai for b in self.fetchers],
                "method_": [b.verification for b in self.fetchers],
            }
        )

    def _undeclared_lists(self) -> pl.DataFrame:
        """Published lists used only by AI bots: a browser UA from them is AI traffic, undeclared."""
        users: dict[str, list[str]] = {}
        for bot in self.fetchers:
            for list_id in bot.ip_lists:
                users.setdefault(list_id, []).append(bot.purpose)
        rows = []
        for list_id, purposes in sorted(users.items()):
            ip_list = self.ip_lists.lists.get(list_id)
            if ip_list and ip_list.authority == "published" and all(p in AI_PURPOSES for p in purposes):
                purpose = purposes[0] if len(set(purposes)) == 1 else None
                rows.append((list_id, ip_list.operator, purpose))
        return pl.DataFrame(
            rows, schema={"list_id": pl.String, "operator": pl.String, "purpose": pl.String}, orient="row"
        )

    def classify_agents(self, user_agents: pl.Series) -> pl.DataFrame:
        """user_agent -> bot_index, generic for (at least) every distinct string of ``user_agents``.

        Classifications are cached: ``UA_CACHE_LIMIT`` strings at most, so a log with millions of
        distinct user agents (randomised ones) does not grow it without bound; past it the cache starts
        again from this batch's strings. Cached strings are copies: a view into the batch's lines would
        keep the whole block of lines alive for as long as the cache holds it."""
        distinct = pl.DataFrame({"user_agent": user_agents}).unique().drop_nulls()
        with self._ua_lock:
            new = distinct.join(self._ua_cache, on="user_agent", how="anti")
            if new.height:
                strings = arrow_series("user_agent", new["user_agent"].to_arrow())  # a copy, see above
                bot_index = self.registry.classify_series(strings)
                generic = self.registry.generic_series(strings)
                fresh = pl.DataFrame([strings, bot_index.alias("bot_index"), generic.alias("generic")])
                if self._ua_cache.height + fresh.height > UA_CACHE_LIMIT:  # copied again: the old buffers go
                    kept = self._ua_cache.join(distinct, on="user_agent", how="semi")
                    self._ua_cache = pl.DataFrame(kept.to_arrow())
                self._ua_cache = pl.concat([self._ua_cache, fresh])
                self._ua_index = None
                self._known_stale = True
            return self._ua_cache

    def agent_classes(self, user_agents: pl.Series) -> pl.DataFrame:
        """``bot_index`` and ``generic`` of each user agent, row for row (nulls for a null one).

        Looked up natively among the cached strings (``KnownAgents.positions``: a hash table, each hit
        compared byte for byte), and the classes gathered by position: 4.4 -> 1.3 ms for the 28,000 lines
        of a block the triage leaves. Without the extension, by a 64-bit hash of the string joined with
        the cache's, then the cached string compared with the line's, so a hash shared by two strings can
        only send a line the slow way (``classify_agents`` and a join on the strings), never give it
        another's class. Either way most batches hold no new user agent."""
        known = self._known_table(stale_ok=True)
        positions = known.agents.positions(user_agents) if known is not None else None
        if known is not None and positions is not None:  # looked up natively in the cache's strings
            classes = known.classes[np.where(positions < 0, known.classes.height - 1, positions)]
            misses = pl.Series((positions < 0) & user_agents.is_not_null().to_numpy())
        else:
            keyed = pl.DataFrame({"user_agent": user_agents}).with_columns(_ua_hash(pl.col("user_agent")))
            joined = keyed.join(self._agent_index(), on="_h", how="left", maintain_order="left")
            found = (pl.col("_ua") == pl.col("user_agent")).fill_null(False)
            joined = joined.with_columns(found.alias("_found"))
            misses = joined.select((~pl.col("_found") & pl.col("user_agent").is_not_null()).alias("m")).to_series()
            classes = joined.select(
                pl.when("_found").then("bot_index").alias("bot_index"),
                pl.when("_found").then("generic").alias("generic"),
            )
        if misses.any():
            rows = misses.arg_true()
            strings = user_agents.gather(rows)
            cache = self.classify_agents(strings)
            slow = pl.DataFrame({"user_agent": strings}).join(cache, on="user_agent", how="left", maintain_order="left")
            classes = classes.with_columns(
                classes["bot_index"].scatter(rows, slow["bot_index"]), classes["generic"].scatter(rows, slow["generic"])
            )
        return classes

    def _agent_index(self) -> pl.DataFrame:
        """The cache keyed by hash (``_h``, ``_ua``, ``bot_index``, ``generic``); strings that share a hash
        are left out, and always take the slow way."""
        with self._ua_lock:
            if self._ua_index is None:
                self._ua_index = (
                    self._ua_cache.with_columns(_ua_hash(pl.col("user_agent")))
                    .unique("_h", keep="none")
                    .rename({"user_agent": "_ua"})
                )
            return self._ua_index

    def known_agents(self) -> KnownAgents | None:
        """The cached user agents, end to end, each of its kind: people's (no bot, not generic) and other
        bots' (generic, no declared bot), which make a line quiet, and declared bots'. The native splitter
        (or ``triage_fields``) marks the lines with one of them, and only the others are looked up here."""
        known = self._known_table()
        return known.agents if known is not None else None

    def _known_table(self, *, stale_ok: bool = False) -> _Known | None:
        """The cache's user agents as the native code looks them up, made again when the cache has changed;
        with ``stale_ok``, the last one made while it holds at least half of the cache: a table holds its
        own strings and their classes, which never change, so an older one is still right, and the
        strings it lacks take the slow way. (A log with a new user agent every few lines changes the cache
        in every batch; making the table again at each lookup took 14-38 ms with 200,000 of them.)"""
        with self._ua_lock:
            known = self._known
            if known is not None and stale_ok and 2 * (known.classes.height - 1) >= self._ua_cache.height:
                return known
            if (known is None or self._known_stale) and self._ua_cache.height:
                self._known_stale = False
                cache = self._ua_cache  # no null user agent in it
                kinds = (
                    pl.when(pl.col("bot_index").is_not_null())
                    .then(DECLARED)
                    .when(pl.col("generic"))
                    .then(OTHER_BOT)
                    .otherwise(PERSON)
                    .cast(pl.UInt8)
                )
                classes = cache.select("bot_index", "generic")
                self._known = _Known(
                    KnownAgents.of(cache["user_agent"], cache.select(kinds).to_series()),
                    pl.concat([classes, classes.clear(1)], rechunk=True),
                )
            return self._known

    def quiet(self, raw: pl.DataFrame) -> pl.Series:
        """The lines detection would only count, and as what: the triage that lets ingest skip them. The
        class each such line is counted in (``human`` or ``other_bot``), null for the lines that take the
        full path.

        ``raw`` holds well-formed lines with their fields as logged (``line``, ``client``, ``forwarded_for``,
        ``host``, ``user_agent``, ``referer``; for JSON and W3C, decoded, with the path and query as
        ``line``: ``Parser`` keeps the decision for the lines whose fields typing would not change). A
        line is quiet when its address is a plain IPv4 or IPv6 outside every AI-only published list, it
        names no AI product in its Referer and has no ``utm_source``, it has no backslash (so the logged
        fields are what parsing would make of them), and its user agent is a known one of a person
        (``human``) or of a bot no registry entry declares (a generic client such as curl, or none at
        all: ``other_bot``). Anything else, rare by design, takes the full path; the test suite checks
        that both ways give the same ledger.
        """
        if raw.height == 0:
            return pl.Series("quiet", [], dtype=pl.String)
        if "_candidate" in raw.columns:  # the native splitter ran every test, and knew some user agents
            human, other = raw["_human"], raw["_other"]  # found natively in ``known_agents``
            unknown = raw["_candidate"] & ~human & ~other & ~raw["_declared"]
            human, other = self._look_up(raw["user_agent"], unknown, human, other)
            return pl.select(_quiet_class(human, other)).to_series()
        fast = triage_fields(raw["client"], raw["user_agent"], self._split_hints, self.known_agents())
        if fast is not None:  # the addresses and known user agents natively, the others looked up
            plain_outside, human, other, declared = fast
            human, other = self._look_up(raw["user_agent"], ~human & ~other & ~declared, human, other)
        else:
            plain_outside = self._outside_attribution(raw["client"])
            agentless = pl.col("user_agent").is_null() | pl.col("user_agent").is_in(["-", ""])
            agent = pl.col("bot_index").is_null() & ~agentless  # a user agent no registry entry declares
            kinds = (
                raw.select("user_agent")
                .hstack(self.agent_classes(raw["user_agent"]))
                .select(
                    (agent & (pl.col("generic") == False)).fill_null(False).alias("human"),  # noqa: E712 - null: unclassified
                    (agentless | (agent & pl.col("generic"))).fill_null(False).alias("other"),
                )
            )
            human, other = kinds["human"], kinds["other"]
        mentions = pl.col("referer").str.contains_any(self._referrer_hosts, ascii_case_insensitive=True)
        tests = (
            raw.select(
                (
                    ~pl.col("line").str.contains("\\", literal=True)
                    & ~pl.col("line").str.contains("utm_source=", literal=True)
                    & ~mentions.fill_null(False)
                    & (pl.col("forwarded_for").is_null() | (pl.col("forwarded_for") == "-"))
                    & (pl.col("host").is_null() | ~pl.col("host").is_in(["-", ""]))
                )
                .fill_null(False)
                .alias("tests")
            ).to_series()
            & plain_outside
        )
        return pl.select(_quiet_class(tests & human, tests & other)).to_series()

    def _look_up(
        self, user_agents: pl.Series, rows: pl.Series, human: pl.Series, other: pl.Series
    ) -> tuple[pl.Series, pl.Series]:
        """``human`` and ``other`` with the user agents of ``rows`` (not known natively) classified."""
        if not rows.any():
            return human, other
        agents = self.agent_classes(user_agents.filter(rows))
        at = rows.arg_true()
        unregistered = agents["bot_index"].is_null() & agents["generic"].is_not_null()
        return human.scatter(at, unregistered & ~agents["generic"]), other.scatter(at, unregistered & agents["generic"])

    def split_hints(self) -> Hints:
        """The address ranges and Referer hosts the native splitter tests for ``quiet`` (the AI-only
        lists, the AI products' hosts)."""
        return self._split_hints

    def _outside_attribution(self, clients: pl.Series) -> pl.Series:
        """Whether each logged address is one plain address (dotted-quad IPv4, or IPv6 text) outside every
        AI-only list; false for chains, ports and anything else the full path would reshape first.

        A text prefilter rules most addresses out at the cost of a scan; only the few it cannot rule out
        get their number and an exact lookup. Junk that merely looks plain has no number, which makes it
        human in the full path too.
        """
        text = pl.DataFrame({"client": clients}).select(
            pl.col("client").str.contains(V4_PATTERN).fill_null(False).alias("v4"),
            pl.col("client").str.contains(r"^[0-9A-Fa-f]*:[0-9A-Fa-f:]*$").fill_null(False).alias("v6"),
            pl.col("client").str.contains(self._attribution_prefilter).fill_null(False).alias("maybe"),
        )
        plain = text["v4"] | text["v6"]
        outside = plain & ~text["maybe"]
        doubtful = plain & text["maybe"]
        if doubtful.any():
            rows = doubtful.arg_true()
            logged = pl.DataFrame({"client": clients.gather(rows)})
            distinct = logged.unique()
            numbers = addresses_to_int(distinct["client"])
            listed = match_lists(numbers, self._attribution_all)["n"]
            distinct = distinct.with_columns((~numbers.is_in(listed.implode()).fill_null(False)).alias("ok"))
            outside = outside.scatter(rows, logged.join(distinct, on="client", how="left", maintain_order="left")["ok"])
        return outside

    def detect(self, parsed: pl.DataFrame, primary_hosts: dict[str, str], by: tuple[str, ...] = ()) -> Detected:
        """``parsed`` carries the parse columns plus ``outlet``; ``primary_hosts`` maps outlet -> domain;
        ``by``: more of its columns the traffic is counted by (the lines' files, when a batch holds several)."""
        frame = self.annotate(parsed, primary_hosts)
        # Each table's columns picked before its rows: a filter copies every column it is given, and the
        # annotated frame carries twice as many as a fetch keeps.
        fetch = (pl.col("class") != "human") & (pl.col("bot").is_not_null() | (pl.col("class") == "undeclared_ai"))
        marks = frame.select(fetch.alias("fetch"), (pl.col("class") == "human").alias("human"))
        return Detected(
            fetches=rows_where(frame[list(FETCH_COLUMNS)], marks["fetch"]),
            referrals=self.referrals(rows_where(frame[list(_REFERRAL_INPUTS)], marks["human"])),
            traffic=frame.group_by(*by, "outlet", pl.col("ts").dt.date().alias("day"), "class").agg(
                pl.len().cast(pl.Int64).alias("requests")
            ),
        )

    def annotate(self, parsed: pl.DataFrame, primary_hosts: dict[str, str]) -> pl.DataFrame:
        """Every parsed line with its class, bot, operator, purpose, verdict, effective address and URL."""
        frame = parsed.hstack(self.agent_classes(parsed["user_agent"]))
        if frame["generic"].null_count():
            frame = frame.with_columns(pl.col("generic").fill_null(pl.col("user_agent").is_null()))
        verdicts = self._verdicts.of_rows(effective_clients(frame)) if self._verdicts is not None else None
        if verdicts is None:  # the same with polars: joins on the distinct addresses and as-of joins
            frame = resolve_addresses(frame)
            frame = frame.join(self._bots, on="bot_index", how="left", maintain_order="left")
            frame = self._verify(frame)
            frame = self._attribute_undeclared(frame)
        else:
            frame = verdicts
        frame = frame.with_columns(_traffic_class().alias("class"))
        # Canonical URLs only where a row is kept (bot fetches, candidate referrals), not for every human line.
        keep = (
            (pl.col("class") != "human") | pl.col("referer").is_not_null() | pl.col("path").str.contains("utm_source=")
        )
        return _with_urls(frame, keep, primary_hosts)

    def _verify(self, frame: pl.DataFrame) -> pl.DataFrame:
        claimed = frame.filter(pl.col("method_") == "ip").select("n", "bot_index").drop_nulls().unique()
        matches = match_lists(claimed["n"], self.ip_lists)
        verified = (
            claimed.join(matches, on="n")
            .join(self._bot_lists, on=["bot_index", "list_id"], how="semi")
            .sort("list_id")
            .unique(["n", "bot_index"], keep="first")
        )
        frame = frame.join(verified, on=["n", "bot_index"], how="left", maintain_order="left")
        verdict = (
            pl.when(pl.col("bot").is_null())
            .then(None)
            .when(pl.col("method_") != "ip")
            .then(pl.lit("unverifiable"))
            .when(pl.col("n").is_null() | pl.col("non_public"))
            .then(pl.lit("unknown"))
            .when(pl.col("list_id").is_not_null())
            .then(pl.lit("verified"))
            .otherwise(pl.lit("spoofed"))
        )
        return frame.with_columns(verdict.alias("verification"), pl.col("list_id").alias("ip_list")).drop("list_id")

    def _attribute_undeclared(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Rows without a declared bot whose address is in an AI-only published list."""
        candidates = frame.filter(pl.col("bot").is_null()).select("n").drop_nulls().unique()
        matches = match_lists(candidates["n"], self._attribution_all).join(self._attribution_lists, on="list_id")
        matches = (
            matches.sort("list_id")
            .unique("n", keep="first")
            .rename({"list_id": "_alist", "operator": "_aop", "purpose": "_apurpose"})
        )
        frame = frame.join(matches, on="n", how="left", maintain_order="left")
        undeclared = pl.col("bot").is_null() & pl.col("_alist").is_not_null()
        return frame.with_columns(
            pl.when(undeclared).then(pl.col("_aop")).otherwise(pl.col("operator")).alias("operator"),
            pl.when(undeclared).then(pl.col("_apurpose")).otherwise(pl.col("purpose")).alias("purpose"),
            pl.when(undeclared).then(pl.lit(True)).otherwise(pl.col("ai")).alias("ai"),
            pl.when(undeclared).then(pl.col("_alist")).otherwise(pl.col("ip_list")).alias("ip_list"),
            pl.when(undeclared).then(pl.lit("verified")).otherwise(pl.col("verification")).alias("verification"),
            pl.when(undeclared).then(pl.lit("ip_attributed")).otherwise(pl.lit("declared")).alias("attribution"),
        ).drop("_alist", "_aop", "_apurpose")

    def referrals(self, humans: pl.DataFrame) -> pl.DataFrame:
        """AI referrals among annotated human lines."""
        # A cheap literal scan first: only rows that mention a product host or utm_source get parsed.
        mentions = pl.col("referer").str.contains_any(self._referrer_hosts, ascii_case_insensitive=True)
        wanted = humans.select(mentions.fill_null(False) | pl.col("path").str.contains("utm_source=", literal=True))
        candidates = rows_where(humans, wanted.to_series())
        if not candidates.height:  # most small batches: no AI product named
            read = {name: humans.schema[name] for name in REFERRAL_COLUMNS if name in humans.schema}
            return pl.DataFrame(schema={**read, **_REFERRAL_FOUND})
        found = referral_columns(candidates, self.referrers).filter(pl.col("product").is_not_null())
        return found.with_columns(pl.col("ref_operator").alias("operator")).select(REFERRAL_COLUMNS)


@dataclass(frozen=True)
class _Known:
    """The user agents of the classification cache as the native code looks them up, and their
    ``bot_index`` and ``generic`` in the same order, then a row of nulls (one not found)."""

    agents: KnownAgents
    classes: pl.DataFrame


@dataclass(frozen=True)
class _Verdicts:
    """``Detector._verify`` and ``_attribute_undeclared`` row by row, on numpy arrays: each address's number
    read natively, the mask of the lists it is in looked up natively (``iplists.cover``), then each row's
    verdict from its bot's lists (bit k: list k by name, so the lowest bit common to both is the first
    list by name, as the polars way's sort picks it). Bots are indexed by ``bot_index``; index ``bots``
    (one past the last) stands for no bot."""

    lists: CoverTable
    private: CoverTable
    bot_masks: np.ndarray  # the lists each bot is verified against (none for bots not verified by address)
    by_address: np.ndarray  # whether each bot is verified by address
    # bot, operator, purpose and ai of each bot, then a row of nulls (no bot), then of an undeclared AI
    # fetch attributed to each list of ``lists`` (no bot, the list's operator and purpose): a row's
    # labels are one gather
    labels: pl.DataFrame
    attribution_mask: int  # the AI-only published lists
    verdicts: pl.Series  # verification by code (see of_rows), then null
    list_ids: pl.Series  # the ids of ``lists``, then null

    @classmethod
    def of(cls, detector: Detector) -> _Verdicts | None:
        lists, private = cover_table(detector.ip_lists.partitions), non_public_cover()
        if lists is None or private is None or not lists.list_ids:
            return None
        fetchers = detector.fetchers
        masks = [lists.bits(b.ip_lists) if b.verification == "ip" else 0 for b in fetchers]
        owners = {row["list_id"]: row for row in detector._attribution_lists.iter_rows(named=True)}
        nobody = {"operator": None, "purpose": None}
        bots = detector._bots.drop("bot_index", "method_")
        attributed = pl.DataFrame(
            [owners.get(list_id, nobody) for list_id in lists.list_ids],
            schema={"operator": pl.String, "purpose": pl.String},
            orient="row",
        ).select(pl.lit(None, dtype=pl.String).alias("bot"), "operator", "purpose", pl.lit(True).alias("ai"))
        return cls(
            lists,
            private,
            np.array([*masks, 0], dtype=np.uint64),
            np.array([b.verification == "ip" for b in fetchers] + [False]),
            pl.concat([bots, bots.clear(1), attributed], rechunk=True),  # a gather over 3 chunks: 6x the time
            lists.bits(set(owners)),
            pl.Series("verification", ["unverifiable", "unknown", "verified", "spoofed", None], dtype=pl.String),
            pl.Series("ip_list", [*lists.list_ids, None], dtype=pl.String),
        )

    def of_rows(self, frame: pl.DataFrame) -> pl.DataFrame | None:
        """``frame`` (with ``bot_index`` and its effective ``client_ip``) with ``bot``, ``operator``,
        ``purpose``, ``ai``, ``verification``, ``ip_list`` and ``attribution``; None without the extension."""
        numbers = address_numbers(frame["client_ip"])
        if numbers is None:
            return None
        valid, words = numbers
        lists = np.where(valid, cover(words, self.lists), np.uint64(0))
        private = valid & (cover(words, self.private) != 0)
        nobody = len(self.bot_masks) - 1
        bot = frame["bot_index"].to_numpy()  # floats with NaN for the nulls, if any
        bot = (np.where(np.isnan(bot), nobody, bot) if frame["bot_index"].null_count() else bot).astype(np.intp)
        claimed = bot != nobody
        verified = _first_bit(lists & self.bot_masks[bot])
        undeclared = ~claimed & (lists & np.uint64(self.attribution_mask) != 0)
        attributed = _first_bit(lists & np.uint64(self.attribution_mask))
        code = np.select([~claimed, ~self.by_address[bot], ~valid | private, verified >= 0], [-1, 0, 1, 2], default=3)
        code = np.where(undeclared, 2, code)
        listed = np.where(undeclared, attributed, verified)
        labels = self.labels[np.where(undeclared, nobody + 1 + attributed, bot)]  # one gather, not three when-thens
        return put(
            frame,
            *labels.get_columns(),
            self.verdicts.gather(np.where(code < 0, 4, code)),
            self.list_ids.gather(np.where(listed < 0, len(self.lists.list_ids), listed)),
            pl.Series("attribution", ["declared", "ip_attributed"]).gather(undeclared.astype(np.uint8)),
        )


def _first_bit(masks: np.ndarray) -> np.ndarray:
    """The index of each mask's lowest set bit, -1 for 0."""
    lowest = masks & (~masks + np.uint64(1))
    with np.errstate(divide="ignore"):
        return np.where(lowest != 0, np.log2(lowest.astype(np.float64)), -1).astype(np.intp)


def shortest_needles(hosts: list[str]) -> tuple[str, ...]:
    """The hosts that hold no other one: a text holds one of ``hosts`` exactly when it holds one of these
    (``www.perplexity.ai`` goes with ``perplexity.ai``). The native scan compares the hosts with a text's
    first bytes wherever it may start one, and ``www.`` starts most Referers."""
    return tuple(host for host in hosts if not any(other != host and other in host for other in hosts))


def _ranges(intervals: pl.DataFrame) -> tuple[bytes, bytes]:
    """Intervals (128-bit numbers) merged and sorted, as start and end arrays of (high, low) uint64 pairs."""
    merged = merge_intervals(list(zip(intervals["start"].to_list(), intervals["end"].to_list(), strict=True)))
    return word_pairs([start for start, _ in merged]), word_pairs([end for _, end in merged])


def _with_urls(frame: pl.DataFrame, keep: pl.Expr, primary_hosts: dict[str, str]) -> pl.DataFrame:
    """The ``url`` column, computed only for the rows that can end in a table."""
    mask = frame.select(keep.fill_null(False)).to_series()
    inputs = frame[["host", "path", "outlet"]]  # a filter copies every column it is given
    if mask.sum() * 2 >= frame.height:  # most rows kept (bots' fetches): every URL made, the others nulled
        urls = canonical_urls(inputs, primary_hosts).alias("url")
        dropped = np.flatnonzero(~mask.to_numpy())
        return put(frame, urls.scatter(dropped, None) if len(dropped) else urls)
    urls = constant("url", None, frame.height)
    if mask.any():
        urls = urls.scatter(mask.arg_true(), canonical_urls(rows_where(inputs, mask), primary_hosts))
    return put(frame, urls)


def canonical_urls(frame: pl.DataFrame, primary_hosts: dict[str, str]) -> pl.Series:
    """``_canonical_url`` of each row: natively (``native.urls``), or without the extension, the host and
    the path for paths with neither a query nor a fragment (most of them). The rest take the regexes."""
    made = native_urls(frame.select(_url_host(primary_hosts)).to_series(), frame["path"])
    if made is not None:
        status, urls = made
        odd = pl.Series(status == 2)
    else:
        odd = frame.select(pl.col("path").str.contains("[?#]", literal=False).fill_null(False)).to_series()
        plain = pl.when(pl.col("path").str.starts_with("/")).then(
            pl.lit("https://") + _url_host(primary_hosts) + pl.col("path")
        )
        urls = frame.select(plain.alias("url")).to_series()
    if odd.any():
        urls = urls.scatter(odd.arg_true(), frame.filter(odd).select(_canonical_url(primary_hosts)).to_series())
    return urls


def _quiet_class(human: pl.Series, other: pl.Series) -> pl.Expr:
    return pl.when(pl.lit(human)).then(pl.lit("human")).when(pl.lit(other)).then(pl.lit("other_bot")).alias("quiet")


def _traffic_class() -> pl.Expr:
    return (
        pl.when(pl.col("attribution") == "ip_attributed")
        .then(pl.lit("undeclared_ai"))
        .when(pl.col("bot").is_not_null() & pl.col("ai"))
        .then(pl.lit("ai_bot"))
        .when(pl.col("bot").is_not_null() | pl.col("generic"))
        .then(pl.lit("other_bot"))
        .otherwise(pl.lit("human"))
    )


def _url_host(primary_hosts: dict[str, str]) -> pl.Expr:
    """The request's host without ``www.``, or the outlet's primary domain when the format has no host."""
    fallback = pl.col("outlet").replace_strict(primary_hosts, default=None, return_dtype=pl.String)
    return pl.coalesce(pl.col("host").str.strip_prefix("www."), fallback)


def _canonical_url(primary_hosts: dict[str, str]) -> pl.Expr:
    """https://host/path?query, host lower case, no fragment, no tracking parameters."""
    host = _url_host(primary_hosts)
    path_part = pl.col("path").str.extract(r"^([^?#]*)", 1)
    query = pl.col("path").str.extract(r"\?([^#]*)", 1).str.replace_all(TRACKING_PARAMS, "").str.strip_chars_start("&")
    with_query = pl.when(query.is_not_null() & (query != "")).then(pl.lit("?") + query).otherwise(pl.lit(""))
    return (
        pl.when(pl.col("path").str.starts_with("/"))
        .then(pl.lit("https://") + host + path_part + with_query)
        .otherwise(None)
    )
