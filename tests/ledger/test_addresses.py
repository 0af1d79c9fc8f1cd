"""Addresses: the right client behind proxies, and vectorised IPv4/IPv6 numbers equal to the standard library's."""

from __future__ import annotations

import ipaddress

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.detect import iplists
from ledger.detect.addresses import _pick, pick_natively, resolve_addresses
from ledger.detect.iplists import (
    address_prefilter,
    address_to_int,
    addresses_to_int,
    cidr_interval,
    match_lists,
    partitions,
)
from ledger.errors import RegistryError
from ledger.parse import native
from ledger.parse.typed import _address, address_values


def resolved(client: str | None, forwarded: str | None) -> str | None:
    frame = pl.DataFrame(
        {"line_no": [1], "client_ip": [client], "forwarded_for": [forwarded]},
        schema={"line_no": pl.Int64, "client_ip": pl.String, "forwarded_for": pl.String},
    )
    return resolve_addresses(frame)["client_ip"][0]


def test_the_client_is_the_rightmost_public_hop() -> None:
    assert resolved("10.0.0.5", "203.0.113.9") == "203.0.113.9"  # behind a private load balancer
    assert resolved("10.0.0.5", "66.249.66.1, 203.0.113.9") == "203.0.113.9"  # the left hop is the client's claim
    assert resolved("10.0.0.5", "203.0.113.9, 10.1.1.1") == "203.0.113.9"  # an inner proxy on the right
    assert resolved("10.0.0.2, 10.0.0.1, 127.0.0.1", None) == "127.0.0.1"  # nothing public: the direct peer
    assert resolved("198.51.100.4", None) == "198.51.100.4"
    assert resolved("10.0.0.5", "unknown, -") == "10.0.0.5"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_vectorised_numbers_equal_the_standard_library(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    forms = {str(address), address.exploded}
    for text in forms:
        assert addresses_to_int(pl.Series([text]))[0] == address_to_int(text), text


# Written addresses: real ones in every spelling, with brackets, ports, spaces, zones, and near-misses.
written = st.one_of(
    st.ip_addresses().flatmap(lambda address: st.sampled_from(spellings(address))),
    st.tuples(st.ip_addresses(v=6), st.sampled_from(["[{}]", " {} ", "\t{}", "{}%eth0", "[{}]:443", "{}]", "{}:"])).map(
        lambda pair: pair[1].format(pair[0])
    ),
    st.text(alphabet="0123456789abcdefABCDEF:.[] \t%١", max_size=24),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(written, max_size=20))
def test_native_address_numbers_equal_the_polars_and_standard_library_ones(texts: list[str | None]) -> None:
    assert iplists._native is not None, "ledger/_native.c is not built"
    series = pl.Series(texts, dtype=pl.String)
    assert addresses_to_int(series).to_list() == iplists._addresses_to_int(series).to_list()


# A hop as a chain writes it: an address (public or not) in any spelling, with blanks and quotes around
# it, or a placeholder.
hop = st.tuples(
    st.one_of(
        written.filter(lambda text: text is not None and "," not in text),
        st.sampled_from(["10.0.0.1", "192.168.0.9", "127.0.0.1", "::1", "fd12::3", "100.64.1.1", "-", "unknown"]),
        st.sampled_from(["", "Unknown", "١٠.٠.٠.١", "10.0.0.1\u00a0", "fe80::1%eth0", "1.2.3.4:80"]),
    ),
    st.sampled_from(["{}", " {}", "{} ", '"{}"', ' "{}" ', '" {}"', "\t{}\t", "{}\u3000"]),
).map(lambda pair: pair[1].format(pair[0]))
chain = st.one_of(st.none(), st.lists(hop, max_size=4).map(",".join))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(chain, chain), min_size=1, max_size=20))
def test_the_native_pick_of_the_client_is_the_polars_one(rows: list[tuple[str | None, str | None]]) -> None:
    frame = pl.DataFrame(
        {
            "line_no": range(len(rows)),
            "client_ip": [client for client, _ in rows],
            "forwarded_for": [forwarded for _, forwarded in rows],
        },
        schema={"line_no": pl.Int64, "client_ip": pl.String, "forwarded_for": pl.String},
    )
    natively = pick_natively(frame)
    assert natively is not None, "ledger/_native.c is not built"
    assert natively.to_list() == _pick(frame).to_list()


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            chain,
            hop,
            st.sampled_from(["1.2.3.4:80", "[2001:db8::1]:443", "::ffff:1.2.3.4", "a,b", "a , b", "a,  b", "a, b,"]),
            st.text(alphabet=' ,.:[]"-1a\tä', max_size=10),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_address_values_are_the_address_expressions_values(values: list[str | None]) -> None:
    series = pl.Series("forwarded_for", values, dtype=pl.String)
    assert native.address_kinds(series) is not None, "ledger/_native.c is not built"
    assert address_values(series).to_list() == pl.select(_address(pl.lit(series))).to_series().to_list()


def test_most_addresses_are_told_natively() -> None:
    values = pl.Series(["203.0.113.9", "203.0.113.9, 10.0.0.1", "2001:db8::1", "-", None, "unknown", "1.2.3.4:80"])
    assert native.address_kinds(values).tolist() == [0, 0, 0, 1, 1, 1, 2]


def test_junk_is_not_an_address() -> None:
    junk = ["-", "", "1.2.3", "1.2.3.256", "1.2.3.4.5", "1.2.3.+4", "gggg::1", "1::2::3", "example.com"]
    junk += ["1:2:3:4:5:6:7:8:9"]
    assert addresses_to_int(pl.Series(junk)).to_list() == [None] * len(junk)


intervals = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 60), st.integers(0, 20)), min_size=0, max_size=8
)


@settings(max_examples=200, deadline=None)
@given(intervals)
def test_overlapping_lists_match_like_a_scan_of_every_interval(spans: list[tuple[str, int, int]]) -> None:
    table = pl.DataFrame(
        {
            "list_id": [name for name, _, _ in spans],
            "start": pl.Series([start for _, start, _ in spans], dtype=pl.UInt128),
            "end": pl.Series([start + length for _, start, length in spans], dtype=pl.UInt128),
        },
        schema={"list_id": pl.String, "start": pl.UInt128, "end": pl.UInt128},
    )
    probe = pl.Series("n", range(90), dtype=pl.UInt128)
    found = sorted(match_lists(probe, partitions(table)).iter_rows())
    expected = sorted({(n, name) for n in range(90) for name, start, length in spans if start <= n <= start + length})
    assert found == expected


def test_an_address_in_two_lists_matches_both() -> None:
    table = pl.DataFrame(
        {"list_id": ["gpt", "user", "user"], "start": [10, 15, 40], "end": [20, 30, 40]},
        schema={"list_id": pl.String, "start": pl.UInt128, "end": pl.UInt128},
    )
    found = match_lists(pl.Series([9, 12, 15, 20, 21, 40, 41], dtype=pl.UInt128), partitions(table))
    assert sorted(found.iter_rows()) == [
        (12, "gpt"),
        (15, "gpt"),
        (15, "user"),
        (20, "gpt"),
        (20, "user"),
        (21, "user"),
        (40, "user"),
    ]


def spellings(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[str]:
    """The ways a log writes one address: as printed, zero-padded, upper case, IPv4-mapped."""
    if address.version == 4:
        return [str(address), ".".join(f"{octet:03d}" for octet in address.packed), f"::ffff:{address}"]
    return [str(address), address.exploded, str(address).upper(), address.exploded.upper()]


networks = st.tuples(st.ip_addresses(), st.integers(0, 128)).map(
    lambda pair: ipaddress.ip_network(f"{pair[0]}/{min(pair[1], pair[0].max_prefixlen)}", strict=False)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(networks, min_size=1, max_size=4), st.lists(st.ip_addresses(), max_size=10), st.data())
def test_the_address_prefilter_never_rules_out_a_listed_address(
    listed: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
    others: list[ipaddress.IPv4Address | ipaddress.IPv6Address],
    data: st.DataObject,
) -> None:
    spans = [cidr_interval(str(network), "test") for network in listed]
    table = pl.DataFrame(
        {"start": [s for s, _ in spans], "end": [e for _, e in spans]},
        schema={"start": pl.UInt128, "end": pl.UInt128},
    )
    inside = [data.draw(st.sampled_from([n.network_address, n.broadcast_address])) for n in listed]
    texts = [text for address in [*inside, *others] for text in spellings(address)]
    numbers = addresses_to_int(pl.Series(texts))
    in_lists = [any(s <= n <= e for s, e in spans) if n is not None else False for n in numbers.to_list()]
    matched = pl.Series(texts).str.contains(address_prefilter(table)).to_list()
    assert [text for text, hit, ok in zip(texts, in_lists, matched, strict=True) if hit and not ok] == []
    assert all(in_lists[: len(spellings(inside[0]))])  # the drawn addresses are inside: not vacuous


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.tuples(st.ip_addresses(v=4), st.integers(0, 32)),
        st.tuples(st.ip_addresses(v=6), st.integers(0, 128)),
    ),
    st.sampled_from(["{a}/{n}", " {a}/{n} ", "{a}/0{n}", "{a}/{n}\n"]),
)
def test_cidr_intervals_equal_the_standard_library(
    network: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int], layout: str
) -> None:
    """The inet_pton reading of the lists' CIDRs gives what ipaddress gives, host bits and all."""
    address, length = network
    text = layout.format(a=address, n=length)
    reference = ipaddress.ip_network(text.strip(), strict=False)
    first, last = int(reference.network_address), int(reference.broadcast_address)
    mapped = iplists.V4_MAPPED if reference.version == 4 else 0
    assert cidr_interval(text, "here") == (mapped | first, mapped | last)


def test_odd_cidrs_are_read_by_the_standard_library_or_rejected() -> None:
    assert cidr_interval("fe80::1%eth0/64", "here") == cidr_interval("fe80::/64", "here")
    for bad in ("1.2.3.4/33", "01.2.3.4/8", "1.2.3/8", "1.2.3.4/", "::/129", "1.2.3.4/+8", "x/8"):
        with pytest.raises(RegistryError, match="invalid CIDR"):
            cidr_interval(bad, "here")
