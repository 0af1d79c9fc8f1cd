"""The sample's world: everything derived once from the bot registry, the IP lists and the referrers.

Bots are taken by token from the registry (each with its own example user agents, checked to classify as that
bot), addresses from the operators' published lists, AI products from ``referrers.toml``; the static pools come
from ``pools.toml``. Every line of the sample is of one *line type*: the fixed types below, then one per bot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from ledger.detect.iplists import NON_PUBLIC, IpLists
from ledger.detect.referrals import Referrers
from ledger.detect.registry import AI_PURPOSES, Bot, Registry
from ledger.errors import RegistryError
from ledger.sample.addresses import Blocks, Taken, free_blocks, interval, pool_blocks
from ledger.sample.pools import (
    AI_BOTS,
    AI_REFERERS,
    AI_UTM,
    ATTRIBUTED_LISTS,
    BROWSERS,
    DC_V4,
    DC_V6,
    GOOGLE_AI_SHARE,
    HUMAN_REFERERS,
    HUMAN_V4,
    HUMAN_V6,
    LIBRARIES,
    LINE_SHARES,
    OPTIONAL_AI,
    OTHER_BOTS,
    PEOPLE_HOURS,
    PRIVATE_SHARE,
    SPOOFED,
)

CLASSES = ("human", "ai_bot", "other_bot", "undeclared_ai")
VERDICTS = ("verified", "spoofed", "unverifiable", "unknown")

# Line types: these six, then one per bot (bot b is type N_FIXED + b). Shares are % of all lines; people
# (T_HUMAN) take the remainder.
T_HUMAN, T_REFERRAL, T_UTM, T_AUTOMATION, T_UNDECLARED, T_JUNK = range(6)
N_FIXED = 6
_FIXED_SHARES = {
    T_REFERRAL: LINE_SHARES["referral"],
    T_UTM: LINE_SHARES["utm"],
    T_AUTOMATION: LINE_SHARES["automation"],
    T_UNDECLARED: LINE_SHARES["undeclared"],
    T_JUNK: LINE_SHARES["junk"],
}
# Local-hour profile of people (a news site: night trough, morning and evening peaks).
_PEOPLE_HOURS = np.array(PEOPLE_HOURS)
_NO_AGENT = ("-", "")
_PRIVATE = ("10.0.0.0/8",)  # the load balancer's addresses
# Address pools: these five, then one per bot with published lists, then one per attributed list.
P_DC4, P_DC6, P_PRIVATE, P_HUMAN4, P_HUMAN6 = range(5)


@dataclass
class World:
    """Everything derived once from the registry, the IP lists and the referrers."""

    bots: list[Bot]
    shares: np.ndarray  # per line type, % of lines
    follows_traffic: np.ndarray  # per line type
    profiles: np.ndarray  # (types, 24 local hours), rows sum to 1
    blocks: Blocks
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


def _escape(agent: str) -> str:
    return agent.replace("\\", "\\\\").replace('"', '\\"')


def _pick_bots(registry: Registry) -> list[tuple[Bot, float]]:
    fetchers = {b.token.lower(): b for b in registry.fetchers}
    missing = [t for t, _ in AI_BOTS + OTHER_BOTS if t.lower() not in fetchers]
    if missing:
        raise RegistryError(
            f"the sample generator needs these bots, which the registry does not list as fetchers: "
            f"{', '.join(missing)}; add them to bots.toml (or pass a registry that has them)",
            path=registry.source,
        )
    chosen = [(fetchers[t.lower()], s) for t, s in AI_BOTS]
    chosen += [(fetchers[t.lower()], s) for t, s in OPTIONAL_AI if t.lower() in fetchers]
    named = {b.token for b, _ in chosen} | {t for t, _ in OTHER_BOTS}
    google = [b for b in registry.fetchers if b.operator == "Google" and b.ai and b.token not in named]
    chosen += [(b, GOOGLE_AI_SHARE / len(google)) for b in google]
    chosen += [(fetchers[t.lower()], s) for t, s in OTHER_BOTS]
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
    registry: Registry, ip_lists: IpLists, taken_by_others: dict[str, Taken]
) -> list[tuple[str, list[str]]]:
    """(list id, CIDRs in no other list) for the AI-only published lists the generator attributes from."""
    users: dict[str, list[str]] = {}
    for bot in registry.fetchers:
        for list_id in bot.ip_lists:
            users.setdefault(list_id, []).append(bot.purpose)
    found = []
    for list_id in ATTRIBUTED_LISTS:
        ip_list = ip_lists.lists.get(list_id)
        purposes = users.get(list_id, [])
        if ip_list is None or ip_list.authority != "published" or not purposes:
            continue
        if not all(p in AI_PURPOSES for p in purposes):
            continue
        alone = [c for c in ip_list.cidrs if not taken_by_others[list_id].touches(*interval(c))]
        if alone:
            found.append((list_id, alone))
    if not found:
        raise RegistryError(
            f"none of the lists {list(ATTRIBUTED_LISTS)} is an AI-only published list with "
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


def build_world(registry: Registry, ip_lists: IpLists, referrers: Referrers, rng: np.random.Generator) -> World:
    all_cidrs = [c for lst in ip_lists.lists.values() for c in lst.cidrs]
    taken = Taken(all_cidrs + list(NON_PUBLIC))
    others = {
        lid: Taken([c for o, lst in ip_lists.lists.items() if o != lid for c in lst.cidrs] + list(NON_PUBLIC))
        for lid in ATTRIBUTED_LISTS
        if lid in ip_lists.lists
    }
    pools: list[list[str]] = []
    base: tuple[tuple[Sequence[str], str], ...] = (
        (DC_V4, "data-centre IPv4"),
        (DC_V6, "data-centre IPv6"),
        (_PRIVATE, "private"),
        (HUMAN_V4, "visitor IPv4"),
        (HUMAN_V6, "visitor IPv6"),
    )
    for cidrs, what in base:
        free = list(cidrs) if cidrs is _PRIVATE else free_blocks(cidrs, taken)
        if not free:
            raise RegistryError(f"every {what} block of the sample generator is inside a published list")
        pools.append(free)

    picked = _pick_bots(registry)
    bots = [b for b, _ in picked]
    agents = [_escape(a) for a, _ in BROWSERS] + [_escape(a) for a in LIBRARIES] + list(_NO_AGENT)
    _check_agents(registry, [a for a, _ in BROWSERS], False, "browser")
    _check_agents(registry, list(LIBRARIES) + list(_NO_AGENT), True, "automation")
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
        {_product_of(referrers, host=_host(u)) for u, _ in AI_REFERERS}
        | {_product_of(referrers, utm=u) for u, _ in AI_UTM}
    )
    for referer, _ in HUMAN_REFERERS:
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
    return World(
        bots=bots,
        shares=shares,
        follows_traffic=follows,
        profiles=profiles,
        blocks=pool_blocks(pools),
        pool_genuine=np.array(pool_genuine),
        verdict_genuine=np.array([v[0] for v in verdicts]),
        verdict_spoofed=np.array([v[1] for v in verdicts]),
        verdict_private=np.array([v[2] for v in verdicts]),
        spoof_rate=np.where(ai_ip, SPOOFED, 0.0),
        private_rate=np.where(ai_ip, PRIVATE_SHARE, 0.0),
        bot_class=np.array([1 if b.ai else 2 for b in bots]),
        bot_ua_start=np.array(ua_start),
        bot_ua_count=np.array(ua_count),
        agents=agents,
        agent_weights=normalised([w for _, w in BROWSERS]),
        n_browsers=len(BROWSERS),
        n_libraries=len(LIBRARIES),
        attributed_ops=[ip_lists.lists[lid].operator for lid, _ in attributed],
        attributed_pool=np.array(attributed_pool),
        products=products,
        ai_referer_product=np.array([products.index(_product_of(referrers, host=_host(u))) for u, _ in AI_REFERERS]),
        utm_product=np.array([products.index(_product_of(referrers, utm=u)) for u, _ in AI_UTM]),
        garbage=garbage,
    )


def _host(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0].lower()


def _matches_product(referrers: Referrers, host: str) -> bool:
    return re.match(referrers.host_regex(), host) is not None


def normalised(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(weights, dtype=float)
    return array / array.sum()
