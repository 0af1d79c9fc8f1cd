"""The native split plan (ledger/parse/_native.c) against the polars plan and against the full regex.

It is an optimisation only: every test parses the same lines three ways (native plan, polars plan, full
regex alone) and requires identical parsed rows and rejects, with their reasons and raw text.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import ipaddress
import re
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from ledger.detect import iplists
from ledger.detect.classify import Detector
from ledger.formats import PRESETS, LogFormat, custom_layout
from ledger.ingest import ingest_paths
from ledger.outlets import save_outlets
from ledger.parse import ParsedBatch, Parser, native
from ledger.sample import generate
from ledger.sources import Source
from ledger.store.db import Ledger
from tests.conftest import DATA, IMC
from tests.ledger.test_ingest import first_address
from tests.ledger.test_triage import snapshot

NATIVE_PRESETS = ("combined", "common", "vhost_combined", "combined_xff")
NGINX_CUSTOM = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" $host $request_time'
)


def three_ways(fmt: LogFormat, lines: list[str]) -> list[ParsedBatch]:
    series = pl.Series("line", lines, dtype=pl.String)
    regex_only = dataclasses.replace(fmt, plan=None)
    return [
        Parser(fmt).parse(series, 1),
        Parser(fmt, use_native=False).parse(series, 1),
        Parser(regex_only).parse(series, 1),
    ]


def assert_same(batches: list[ParsedBatch]) -> None:
    first, *others = batches
    for other in others:
        assert_frame_equal(first.parsed, other.parsed)
        assert_frame_equal(first.rejects, other.rejects)


def test_the_extension_is_built() -> None:
    # `make` builds it (the Makefile installs a C compiler); without it every test below would compare
    # the polars plan with itself.
    assert native.available(), "ledger/_native.c is not built: run `make` (or pip install -e .) with gcc"


@pytest.mark.parametrize("name", NATIVE_PRESETS)
def test_the_common_layouts_run_natively(name: str) -> None:
    program = native.program_for(PRESETS[name])
    assert program is not None
    assert program.time_field == program.fields.index("time")


def test_layouts_that_need_backtracking_keep_the_polars_plan() -> None:
    # \S+ then a colon: the regex gives back characters to find the colon, the native splitter would not.
    assert native.program_for(custom_layout('$remote_addr:$remote_port [$time_local] "$request" $status')) is None
    # nginx proxy manager's "[Client \S+]" likewise
    assert native.program_for(PRESETS["nginx_proxy_manager"]) is None
    # a layout with an ISO time is split natively, its time read by polars
    program = native.program_for(custom_layout('$remote_addr $time_iso8601 "$request" $status'))
    assert program is not None and program.time_field == -1


def test_a_plain_line_is_split_natively_with_its_time() -> None:
    line = '203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 2326 "-" "Mozilla/5.0 (X11)"'
    frame = pl.DataFrame({"line_no": [1], "line": [line]})
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    split, taken = native.split(frame, program)
    assert taken.to_list() == [True]
    row = split.row(0, named=True)
    assert row["client"] == "203.0.113.9" and row["request"] == "GET /a HTTP/1.1"
    assert row["status"] == "200" and row["bytes"] == "2326" and row["user_agent"] == "Mozilla/5.0 (X11)"
    assert row["ts"].isoformat() == "2000-10-10T20:55:36+00:00"


TIMES = [
    "10/Oct/2000:13:55:36 -0700",
    "29/Feb/2024:00:00:00 +0000",
    "29/Feb/2023:00:00:00 +0000",
    "31/Apr/2026:10:00:00 +0000",
    "31/Dec/1999:23:59:59 -1200",
    "01/Jan/2000:00:00:00 +1400",
    "01/Jan/1970:00:00:00 +0000",
    "01/Jan/1899:00:00:00 +0000",
    "1/Oct/2000:13:55:36 -0700",
    "10/oct/2000:13:55:36 -0700",
    "10/OCT/2000:13:55:36 -0700",
    "10/окт/2000:13:55:36 +0500",
    "10/Oct/2000:24:00:00 +0000",
    "10/Oct/2000:23:60:00 +0000",
    "10/Oct/2000:23:59:60 +0000",
    "10/Oct/2000:13:55:36 +0330",
    "10/Oct/2000:13:55:36 +2400",
    "10/Oct/2000:13:55:36 +0560",
    "10/Oct/2000:13:55:36 +05:00",
    "10/Oct/2000:13:55:36",
    "10/Oct/2000:13:55:36.123 +0000",
    "00/Oct/2000:13:55:36 +0000",
    "10/Oct/20x0:13:55:36 +0000",
    "10/Oct/2000 13:55:36 +0000",
    "10/Oct/2000:13:55:36 *0000",
]


@pytest.mark.parametrize("name", NATIVE_PRESETS)
def test_times_read_natively_are_the_times_polars_reads(name: str) -> None:
    lines = [
        f'203.0.113.9 - - [{t}] "GET / HTTP/1.1" 200 1 "-" "ua" "1.2.3.4"'
        if name != "vhost_combined"
        else f'news.kz:443 203.0.113.9 - - [{t}] "GET / HTTP/1.1" 200 1 "-" "ua"'
        for t in TIMES
    ]
    batches = three_ways(PRESETS[name], lines)
    assert_same(batches)
    assert 0 < batches[0].parsed.height < len(TIMES)  # some times read, some rejected


HEAD = "203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "
# (line, whether the native splitter takes it): an escaped quote inside a quoted value is part of it, as
# the regex reads it; a backslash before a quote anywhere else leaves the line to the regex.
ESCAPES = [
    (HEAD + '"GET /a\\" 200 1 \\"b HTTP/1.1" 404 5 "-" "ua"', True),
    (HEAD + '"GET / HTTP/1.1" 200 5 "-" "\\"Mozilla/5.0 (X11)\\""', True),  # Apache's escaped user agent
    (HEAD + '"GET / HTTP/1.1" 200 5 "-" "ua\\\\"', True),  # an escaped backslash, then the closing quote
    (HEAD + '"GET / HTTP/1.1" 200 5 "-" "ua\\\\\\" x"', True),  # then an escaped quote: one more value
    (HEAD + '"GET / HTTP/1.1" 200 5 "-" "\\\\\\\\"', True),
    (HEAD + '"GET / HTTP/1.1" 200 5 "-" "ua\\"', False),  # the closing quote escaped: no end
    (HEAD + '"GET / HTTP/1.1" 200 5 "-" "ua" "x\\"y"', False),  # in the trailer
    (HEAD + '"GET / HTTP/1.1" 200 5 "\\"" "ua"', True),
    (HEAD.replace(" - - ", " - a\\ ") + '"GET / HTTP/1.1" 200 5 "-" "ua"', True),  # not before a quote
]


@pytest.mark.parametrize(("line", "taken"), ESCAPES)
def test_escaped_quotes_in_quoted_values_are_read_natively_as_the_regex_reads_them(line: str, taken: bool) -> None:
    batches = three_ways(PRESETS["combined"], [line])
    assert_same(batches)
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    _, took = native.split(pl.DataFrame({"line_no": [1], "line": [line]}), program)
    assert took.to_list() == [taken]


def test_a_backslash_before_a_quote_outside_a_quoted_value_leaves_the_line_to_the_regex() -> None:
    layout = custom_layout('%h %u"%r" %t %>s %b')  # a value right before the opening quote
    lines = [
        '1.2.3.4 a\\"GET / HTTP/1.1" [10/Oct/2000:13:55:36 -0700] 200 5',
        '1.2.3.4 a"GET / HTTP/1.1" [10/Oct/2000:13:55:36 -0700] 200 5',
    ]
    program = native.program_for(layout)
    assert program is not None
    _, took = native.split(pl.DataFrame({"line_no": [1, 2], "line": lines}), program)
    assert took.to_list() == [False, True]
    assert_same(three_ways(layout, lines))


# Lines built from the parts a log line really has, with the quirks that decide which way a line goes.
CLIENTS = [
    "203.0.113.9",
    "2001:db8::1",
    "10.0.0.1, 203.0.113.9",
    # X-Forwarded-For chains in the address field, and what looks like one
    "203.0.113.9,10.0.0.1",
    "203.0.113.9,  10.0.0.1,\t10.0.0.2",
    "a,, b",
    "a , b",
    "a,",
    ",a",
    "a, -",
    "a, ä",
    "a,\u00a0b",
    "203.0.113.9, 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4",
    "-",
    "ä.example",
    "203.0.113.9\u00a0",
    "",
    # longer than the 16 bytes the splitter takes at a time, with what stops a value at every place
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    "client-with-a-long-name.example.org",
    "aaaaaaaaaaaaaaaaaaaaä.example",
    "aaaaaaaaaaaaaaa]b",
    "aaaaaaaaaaaaaaaaaaaa\tb",
    "aaaaaaaaaaaaaaaaaaaa\u00a0b",
    'aaaaaaaaaaaaaaaa"b',
    # what the typing's bare address test tells apart
    "1234.1.1.1",
    "1.1.1.1234",
    "1.2.3",
    "1.1.1.1:80",
    "::ffff:1.2.3.4",
    "1.2:3",
    "a:b.c",
    "G::1",
    "beef",
    "١.1.1.1",
]
IDENTS = ["-", "frank", "ü", "a\tb"]
TIME_PARTS = [
    *TIMES[:8],
    "10/Oct/2000:13:55:36 -0700",
    "10/окт/2000:13:55:36 +0500",
    "10/Oct/2000:24:00:00 +0000",
    "10/Oct/2000:13:55:36 -0700 and much more after it",
    "10/Oct/2000:13:55:36 -0700 ü",
]
REQUESTS = [
    "GET / HTTP/1.1",
    "GET /news/a?utm_source=chatgpt.com HTTP/2.0",
    "",
    "-",
    "\\x16\\x03\\x01\\x00",
    'GET /a\\"b HTTP/1.1',
    'GET /a\\" 200 1 \\"b HTTP/1.1',  # escaped quotes around what looks like the status and size
    "GET /ä HTTP/1.1",
    "GET /a]b HTTP/1.1",
]
STATUSES = ["200", "404", "20", "2000", "-", "ok", "२००"]
BYTES = ["512", "-", "0", "", "12a", "१२"]
QUOTED = ["-", "", "https://chatgpt.com/", "Mozilla/5.0 (X11; Linux x86_64)", "ü agent", 'x\\"y', "a\\\\", "[1]"]
HOSTS = [
    "news.kz",
    "news.kz:443",
    "NEWS.kz:80",
    "-",
    "news.kz:",
    "ä.kz",
    "a:b:1",
    "a-very-long-subdomain.news.kz:8443",
    "a-very-long-subdomain.news.kz:",
    "a-very-long-subdomainä.news.kz",
    'a-very-long-subdomain"news.kz',
]
TRAILERS = ["", " 0.123", ' "1.2.3.4"', "\t9", "x", "\u00a0rest", " ", ' "a" "b"']
SEPARATORS = [" ", " ", " ", "  ", "\t", "\u00a0"]


@st.composite
def log_lines(draw: st.DrawFn) -> str:
    def part(options: list[str]) -> str:
        return draw(st.sampled_from(options))

    sep = [part(SEPARATORS) for _ in range(9)]
    line = (
        f"{part(HOSTS)}{sep[0]}" * draw(st.booleans())
        + f"{part(CLIENTS)}{sep[1]}{part(IDENTS)}{sep[2]}{part(IDENTS)}{sep[3]}[{part(TIME_PARTS)}]{sep[4]}"
        + f'"{part(REQUESTS)}"{sep[5]}{part(STATUSES)}{sep[6]}{part(BYTES)}'
        + f'{sep[7]}"{part(QUOTED)}"{sep[8]}"{part(QUOTED)}"' * draw(st.booleans())
        + part(TRAILERS)
    )
    cut = draw(st.one_of(st.none(), st.integers(0, len(line))))
    return line if cut is None else line[:cut]


any_lines = st.lists(
    st.one_of(
        log_lines(),
        log_lines(),
        log_lines(),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=60),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(lines=any_lines, name=st.sampled_from([*NATIVE_PRESETS, "custom nginx"]))
def test_native_polars_and_regex_agree_on_any_lines(lines: list[str], name: str) -> None:
    fmt = custom_layout(NGINX_CUSTOM) if name == "custom nginx" else PRESETS[name]
    assert_same(three_ways(fmt, lines))


chain_text = st.text(alphabet=["a", "1", ".", ",", " ", "\t", "-", "ä", "[", "\u00a0"], min_size=1, max_size=24)


# Where an address field is followed by a blank and more fields, by the trailer, or by a quote.
CHAIN_LAYOUTS = {
    "combined": (PRESETS["combined"], '{chain} {ident} - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"'),
    "common": (PRESETS["common"], '{chain} {ident} - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1'),
    "last": (custom_layout('%t "%r" %>s %b %h'), '[10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 {chain}{ident}'),
    "quoted after": (
        custom_layout('%t "%r" %>s %b %h "%{User-agent}i"'),
        '[10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 {chain}{ident} "ua"',
    ),
}


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            chain_text,
            st.sampled_from(["-", "a,", ",", "- -", "a, b", "", " x", "\t1, 2"]),
            st.sampled_from(sorted(CHAIN_LAYOUTS)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_chains_in_the_address_field_split_as_the_regex_does(cases: list[tuple[str, str, str]]) -> None:
    """The split plan reads a plain X-Forwarded-For chain in the address field whole; where the rest of
    the line fits after it, the full regex (a lazy pattern) ends the client at the same place. Commas,
    blanks and what follows them in any order, and what comes after (idents that look like chain
    elements too, the trailer, a quote)."""
    for name, (fmt, template) in CHAIN_LAYOUTS.items():
        lines = [template.format(chain=chain, ident=ident) for chain, ident, layout in cases if layout == name]
        if lines:
            assert_same(three_ways(fmt, lines))


@pytest.mark.parametrize(
    ("layout", "template"),
    [
        ('%h\t%l\t%u\t%t\t"%r"\t%>s\t%b', '{chain}\t-\t-\t[10/Oct/2000:13:55:36 -0700]\t"GET / HTTP/1.1"\t200\t1'),
        ('%t "%r" %>s %b %h', '[10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 {chain}'),
        ('%t "%r" %>s %b %h "%{User-agent}i"', '[10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 {chain} "ua"'),
    ],
)
def test_chains_are_read_natively_before_a_blank_the_trailer_or_a_quote(layout: str, template: str) -> None:
    """Where the address field is followed by a blank other than a space, by the end of the line (and
    anything after a blank), or by a quote, the longest chain is still what the full regex reads."""
    fmt = custom_layout(layout)
    assert native.program_for(fmt) is not None
    chains = ["203.0.113.9", "203.0.113.9, 10.0.0.1", "a,\tb", "a, b c", "a,", "a, ", ",a", "a ,b", "a,,\t\tb, c"]
    lines = [template.format(chain=chain) for chain in chains]
    batches = three_ways(fmt, lines)
    assert_same(batches)
    assert batches[0].parsed.height >= 3


def test_chains_in_the_address_field_are_taken_natively() -> None:
    chains = [
        "203.0.113.9, 10.0.0.1",
        "203.0.113.9,10.0.0.1",
        "203.0.113.9,\t 10.0.0.1, 10.0.0.2",
        "2001:db8::1, 203.0.113.9",
    ]
    lines = [f'{chain} - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"' for chain in chains]
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    out, taken = native.split(pl.DataFrame({"line": lines}).with_row_index("line_no"), program)
    assert taken.all()
    assert out["client"].to_list() == chains


STOPPERS = [" ", "\t", "\x0b", "\x0c", "\r", "]", '"', ":", "\u00a0", "ä", "\x7f", "\x08"]


@pytest.mark.parametrize("name", ["combined", "vhost_combined"])
def test_long_values_stop_where_the_regex_stops_them(name: str) -> None:
    """Values are run over 16 bytes at a time: whatever ends one (or must make the splitter give up)
    beyond its first chunk, at a chunk's edge or inside one, ends it where the regex does."""
    lines = []
    for stopper in STOPPERS:
        for at in (15, 16, 17, 31, 32, 40):
            value = "a" * at + stopper + "b" * 20
            host, client, time = "news.kz", "203.0.113.9", "10/Oct/2000:13:55:36 -0700"
            for field in ("host", "client", "ident", "time"):
                parts = {"host": host, "client": client, "ident": "-", "time": time}
                parts[field] = value if field != "time" else time + " " + value
                line = f'{parts["client"]} {parts["ident"]} - [{parts["time"]}] "GET / HTTP/1.1" 200 1 "-" "ua"'
                lines.append(f"{parts['host']} {line}" if name == "vhost_combined" else line)
    batches = three_ways(PRESETS[name], lines)
    assert_same(batches)
    assert 0 < batches[0].parsed.height < len(lines)


TEXT_FIXTURES = sorted(p for p in (DATA / "fixtures").iterdir() if p.suffix != ".md")


@pytest.mark.parametrize("name", NATIVE_PRESETS)
def test_real_fixtures_and_the_sample_parse_the_same_three_ways(tmp_path: Path, name: str) -> None:
    sample = generate(tmp_path, lines=6_000, seed=2)  # its vhost_combined file, with the sample's quirks
    paths = [*TEXT_FIXTURES, IMC, *(file.path for file in sample.files)]
    lines = [line for path in paths for line in _lines(path)]
    if name == "combined_xff":  # real lines with a forwarded-for list appended, as nginx writes it
        lines = [f'{line} "198.51.100.7, 10.0.0.{n % 250}"' for n, line in enumerate(lines)]
    batches = three_ways(PRESETS[name], lines)
    assert_same(batches)
    assert batches[0].parsed.height > 1_000


def test_the_switch_dispatch_for_other_compilers_cuts_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The split plan's ops are dispatched through labels as values (GCC, Clang); other compilers take a
    switch. A build with the switch takes and cuts the sample's and the fixtures' lines as this one."""
    source = Path(native.__file__).parents[1] / "_native.c"
    built = tmp_path / "switch" / f"_native{sysconfig.get_config_var('EXT_SUFFIX')}"
    built.parent.mkdir()
    include = sysconfig.get_paths()["include"]
    command = [
        "cc",
        "-O1",
        "-shared",
        "-fPIC",
        "-DLEDGER_SWITCH_DISPATCH",
        f"-I{include}",
        str(source),
        "-o",
        str(built),
    ]
    subprocess.run(command, check=True, capture_output=True)
    spec = importlib.util.spec_from_file_location("switch._native", built)
    assert spec is not None and spec.loader is not None
    switch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(switch)
    sample = generate(tmp_path, lines=3_000, seed=5)  # vhost_combined lines
    vhost = [line for file in sample.files for line in _lines(file.path)]
    plain = [line.split(" ", 1)[1] for line in vhost if " " in line]
    layouts = {
        "vhost_combined": vhost,
        "combined": plain,
        "common": [line.rsplit(' "', 2)[0] for line in plain],
        "combined_xff": [f'{line} "198.51.100.7, 10.0.0.{n % 250}"' for n, line in enumerate(plain)],
    }
    fixtures = [line for path in TEXT_FIXTURES for line in _lines(path)]
    for name, lines in layouts.items():
        frame = pl.DataFrame({"line": [*lines, *fixtures]}).with_row_index("line_no", 1)
        program = native.program_for(PRESETS[name])
        assert program is not None
        cut, took = native.split(frame, program)
        with monkeypatch.context() as patched:
            patched.setattr(native, "_native", switch)
            cut_by_switch, took_by_switch = native.split(frame, program)
        assert_frame_equal(cut_by_switch, cut)
        assert took_by_switch.equals(took) and took.sum() >= len(lines) * 0.8, name  # the sample has its quirks


def _lines(path: Path) -> list[str]:
    return [line for batch in Source.open(str(path)).batches() for line in batch.lines.to_list()]


def test_the_seeded_sample_gives_the_same_ledger_natively_and_with_polars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = generate(tmp_path / "logs", lines=20_000, seed=11)
    snapshots = []
    for use_native in (True, False):
        if not use_native:
            monkeypatch.setattr(native, "program_for", lambda fmt: None)
        with Ledger(tmp_path / f"sample-{use_native}.duckdb") as ledger:
            save_outlets(ledger, list(sample.outlets))
            for file in sample.files:
                ingest_paths(ledger, [str(file.path)], outlet=file.outlet)
            snapshots.append(snapshot(ledger))
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["fetches"]) > 500


# W3C and CloudFront: columns cut natively, or by polars (str.split) when the extension says no.
W3C_FIXTURES = sorted(p for p in (DATA / "fixtures").iterdir() if "w3c" in p.name or "cloudfront" in p.name)


def w3c_both_ways(fmt: LogFormat, lines: list[str], monkeypatch: pytest.MonkeyPatch) -> list[ParsedBatch]:
    series = pl.Series("line", lines, dtype=pl.String)
    natively = Parser(fmt).parse(series, 1)
    with monkeypatch.context() as patched:
        patched.setattr(native, "columns", lambda *args: None)
        by_polars = Parser(fmt).parse(series, 1)
    return [natively, by_polars]


@pytest.mark.parametrize("name", ["cloudfront", "w3c"])
def test_w3c_fixtures_parse_the_same_natively_and_with_polars(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [line for path in W3C_FIXTURES for line in _lines(path)]
    batches = w3c_both_ways(PRESETS[name], lines, monkeypatch)
    assert_same(batches)
    assert batches[0].parsed.height >= (2 if name == "cloudfront" else 200)  # the fixtures' lines of each


CF_FIELDS = (
    "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer)"
    " cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol"
    " cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type"
    " cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte"
    " x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end"
)
CF_CELLS = ["2026-10-01", "05:00:00", "-", "", "203.0.113.9", "GET", "/a?b=1", "Mozilla/5.0%20(X11)", '"q"', "#x", "é"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(st.sampled_from(CF_CELLS), min_size=0, max_size=36).map("\t".join),
            st.sampled_from([CF_FIELDS, "#Fields: date time c-ip cs-uri-stem", "#Version: 1.0", "", "\t"]),
        ),
        max_size=30,
    )
)
def test_any_cloudfront_lines_parse_the_same_natively_and_with_polars(lines: list[str]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(w3c_both_ways(PRESETS["cloudfront"], lines, monkeypatch))


def view(length: int, buffer: int = 0, offset: int = 0) -> bytes:
    """One Arrow string view of a value longer than 12 bytes: length, prefix, buffer index, offset."""
    return np.array([length, 0, buffer, offset], dtype=np.int32).tobytes()


def test_the_native_functions_refuse_arguments_that_would_read_or_write_out_of_bounds() -> None:
    from ledger import _native  # type: ignore[attr-defined]

    data = b"x" * 40
    fine = (view(40), None, 0, 1, (data,))
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    _native.split(fine, program.code, program.quotes, len(program.fields), -1)  # the well-formed call
    _native.addresses(fine)
    with pytest.raises(ValueError, match="bad arguments"):  # a capture beyond the fields
        _native.split(fine, bytes([2, 1, 9, 4, 0, 0]), 0, 1, -1)
    with pytest.raises(ValueError, match="bad arguments"):  # fewer runs than segments
        _native.split(fine, program.code, program.quotes + 2, len(program.fields), -1)
    outside = [
        (view(41), None, 0, 1, (data,)),  # longer than its buffer
        (view(20, offset=30), None, 0, 1, (data,)),  # runs past the end
        (view(20, offset=-1), None, 0, 1, (data,)),
        (view(20, buffer=1), None, 0, 1, (data,)),  # a buffer that is not there
        (view(20, buffer=-1), None, 0, 1, (data,)),
        (view(-5), None, 0, 1, (data,)),  # a negative length
        (view(20), None, 0, 2, (data,)),  # more elements than views
        (view(20), None, 1, 1, (data,)),  # an offset past the views
        (view(20) * 9, b"\xff", 0, 9, (data,)),  # more elements than validity bits
    ]
    for strings in outside:
        with pytest.raises(ValueError, match="views outside the data"):
            _native.split(strings, program.code, program.quotes, len(program.fields), -1)
        with pytest.raises(ValueError, match="views outside the data"):
            _native.addresses(strings)
        with pytest.raises(ValueError, match="views outside the data"):
            _native.columns(strings, 9, bytes([0]))
        with pytest.raises(ValueError, match="views outside the data"):
            _native.triage_fields(fine, strings, native._spec(Detector().split_hints(), (-1,) * 5, None))
        with pytest.raises(ValueError, match="views outside the data"):
            _native.w3c_stamps(fine, strings)
        with pytest.raises(ValueError, match="views outside the data"):
            _native.pick_clients(fine, strings, b"", b"", b"")
        with pytest.raises(ValueError, match="views outside the data"):
            _native.urls(strings, fine)
        with pytest.raises(ValueError, match="views outside the data"):
            _native.address_kinds(strings)
    _native.pick_clients(fine, fine, b"", b"", b"")  # the well-formed calls
    _native.urls(fine, fine)
    _native.address_kinds(fine)
    with pytest.raises(ValueError, match="as many forwarded chains as clients"):
        _native.pick_clients(fine, (view(20) * 2, None, 0, 2, (data,)), b"", b"", b"")
    with pytest.raises(ValueError, match="16-byte pairs"):
        _native.pick_clients(fine, fine, b"\0" * 16, b"\0" * 16, b"\0" * 16)
    with pytest.raises(ValueError, match="as many hosts as paths"):
        _native.urls(fine, (view(20) * 2, None, 0, 2, (data,)))
    with pytest.raises(TypeError):
        _native.addresses((view(20), None, 0, 1, [data]))  # the buffers must be a tuple
    with pytest.raises(ValueError, match="unquote: views outside the data"):
        _native.unquote((view(20), None, 0, 1, (b"",)))
    assert bytes(_native.unquote(fine)[0]) == b"\0"  # the well-formed call: no "%" in it
    # known user agents: offsets that do not cover their bytes, or go backwards (a kind for each)
    hints = Detector().split_hints()
    spec = native._triage_spec(program, hints, None)
    assert spec is not None
    for data_, offsets in [
        (b"abc", np.array([0, 4], dtype=np.int64).tobytes()),
        (b"abc", np.array([1, 3], dtype=np.int64).tobytes()),
        (b"abc", np.array([0, 2, 1, 3], dtype=np.int64).tobytes()),
        (b"abc", b"\0" * 12),
        (b"abc", b""),
    ]:
        known = (data_, offsets, bytes([native.PERSON]) * max(len(offsets) // 8 - 1, 0))
        with pytest.raises(ValueError, match="bad known user agents"):
            _native.split(fine, program.code, program.quotes, len(program.fields), -1, (*spec, *known))
        with pytest.raises(ValueError, match="bad known user agents"):
            _native.triage_fields(fine, fine, (*spec, *known))
    _native.triage_fields(fine, fine, spec)  # the well-formed call
    with pytest.raises(ValueError, match="as many clients as user agents"):
        _native.triage_fields(fine, (view(20) * 2, None, 0, 2, (data,)), spec)
    with pytest.raises(ValueError, match="no triage"):
        _native.triage_fields(fine, fine, None)
    assert len(_native.triage_targets(*[fine] * 8, spec)) == 1  # the well-formed call: a byte a row
    with pytest.raises(ValueError, match="columns of different lengths"):
        _native.triage_targets(*[fine] * 7, (view(20) * 2, None, 0, 2, (data,)), spec)
    with pytest.raises(ValueError, match="views outside the data"):
        _native.triage_targets(*[fine] * 4, (view(20), None, 0, 1, (b"",)), *[fine] * 3, spec)
    with pytest.raises(ValueError, match="no triage"):
        _native.triage_targets(*[fine] * 8, None)
    # needles it does not test (a one-letter host): None, and polars runs the tests
    assert _native.triage_targets(*[fine] * 8, (*spec[:2], b"a\0", *spec[3:])) is None
    with pytest.raises(ValueError, match="bad known user agents"):
        _native.triage_targets(*[fine] * 8, (*spec, b"abc", b"", b""))
    with pytest.raises(ValueError, match="as many dates as times"):
        _native.w3c_stamps(fine, (view(20) * 2, None, 0, 2, (data,)))
    with pytest.raises(ValueError, match="end outside the data"):
        _native.lines(b"x\n", 3)


def test_native_functions_read_sliced_arrays_with_nulls_and_several_buffers() -> None:
    """Arrow arrays come sliced (an offset into the views and the validity), with nulls, and with values
    spread over several data buffers: each value is read where it is, a null as ''."""
    from ledger import _native  # type: ignore[attr-defined]

    texts = ["203.0.113.9", None, "  2001:db8::abcd:1  ", "x" * 30, "198.51.100.200", "[2001:db8::7]", ""]
    one = pa.array(texts[:4], type=pa.string_view())
    two = pa.array(texts[4:], type=pa.string_view())
    joined = pa.concat_arrays([pa.array(["9.9.9.9" * 3], type=pa.string_view()), one, two]).slice(1)
    validity, views, *data = joined.buffers()
    assert joined.offset == 1 and validity is not None and len(data) >= 1
    kinds, numbers = _native.addresses((views, validity, joined.offset, len(joined), tuple(data)))
    words = np.frombuffer(numbers, dtype=np.uint64).reshape(-1, 2)
    got = [int(hi) << 64 | int(lo) if kind == 1 else None for kind, (hi, lo) in zip(kinds, words, strict=True)]
    assert got == [iplists.address_to_int(text) if text and text != "x" * 30 else None for text in texts]
    plain = pa.array(["203.0.113.9", "198.51.100.200"], type=pa.string_view())
    _, plain_views, *plain_data = plain.buffers()
    kinds, _ = _native.addresses((plain_views, b"\x02", 0, 2, tuple(plain_data)))  # the first marked null
    assert list(kinds) == [0, 1]
    spread = pl.concat([pl.Series(["a" * 20, "b" * 20]), pl.Series([None, "c" * 30])], rechunk=False)
    strings = native.string_views(spread)
    assert strings[1] is not None and len(strings[4]) >= 1
    frame = pl.DataFrame({"line": spread}).with_row_index("line_no")
    cut = native.columns(frame, "b", {"first": 0})
    assert cut is not None
    assert cut[1].to_list() == [True, True, False, True]  # the null is '', which has no columns
    assert cut[0]["first"].to_list() == ["a" * 20, "", None, "c" * 30]


v4_numbers = st.integers(0, 2**32 - 1).map(lambda n: iplists.V4_MAPPED | n)
v6_numbers = st.one_of(st.integers(0, 2**128 - 1), st.integers(0, 2**20).map(lambda n: (0x2A03 << 112) + n * 2**90))
numbers = st.one_of(v4_numbers, v6_numbers)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(numbers, st.integers(0, 2**20)), min_size=1, max_size=6), st.lists(numbers, max_size=12))
def test_the_native_range_test_agrees_with_the_ranges_at_every_edge(
    spans: list[tuple[int, int]], probes: list[int]
) -> None:
    """An address is a candidate only outside every range: checked at each range's edges and around them,
    for IPv4 (mapped) and IPv6 ranges of any width (the splitter skips the search for blocks no range
    touches)."""
    intervals = iplists.merge_intervals([(start, min(start + width, 2**128 - 1)) for start, width in spans])
    frame = pl.DataFrame(
        {
            "list_id": ["x"] * len(intervals),
            "start": pl.Series([s for s, _ in intervals], dtype=pl.UInt128),
            "end": pl.Series([e for _, e in intervals], dtype=pl.UInt128),
        }
    )
    from ledger.detect.classify import _ranges

    starts, ends = _ranges(frame)
    hints = native.Hints(starts, ends, ("chatgpt.com",))
    edges = {n + d for s, e in intervals for n in (s, e) for d in (-1, 0, 1, 65536) if 0 <= n + d < 2**128}
    addresses = sorted(edges | set(probes))
    texts = [
        str(ipaddress.IPv4Address(n - iplists.V4_MAPPED))
        if iplists.V4_MAPPED <= n <= iplists.V4_MAPPED | 0xFFFFFFFF
        else str(ipaddress.IPv6Address(n))
        for n in addresses
    ]
    lines = [f'{text} - - [15/Oct/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "Mozilla/5.0"' for text in texts]
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    cut, taken = native.split(pl.DataFrame({"line": lines}).with_row_index("line_no"), program, hints)
    inside = [any(s <= n <= e for s, e in intervals) for n in addresses]
    expected = [taken_line and not listed for taken_line, listed in zip(taken.to_list(), inside, strict=True)]
    assert cut["_candidate"].to_list() == expected


CELLS = ["", "a", "bb", "-", "x" * 20, '"', 'q"q', "#", "é", " "]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(CELLS), max_size=40), max_size=20),
    st.lists(st.integers(0, 24), min_size=1, max_size=6, unique=True),
)
def test_native_columns_keep_their_contract_on_any_cells(rows: list[list[str]], wanted: list[int]) -> None:
    """A line is taken when it is not empty, not a directive, has no double quote anywhere and at least
    the columns asked for; its fields are those columns, wherever they fall in the 16-byte steps of the
    scan, and null in the lines not taken (every line stays, in its place)."""
    lines = ["\t".join(cells) for cells in rows]
    frame = pl.DataFrame({"line": lines}, schema={"line": pl.String}).with_row_index("line_no")
    names = {f"f{index}": index for index in wanted}
    cut = native.columns(frame, "\t", names)
    assert cut is not None
    taken, mask = cut
    expected = [
        bool(line) and not line.startswith("#") and '"' not in line and len(line.split("\t")) > max(wanted)
        for line in lines
    ]
    assert mask.to_list() == expected
    assert taken["line"].to_list() == lines
    for name, index in names.items():
        assert taken[name].to_list() == [
            line.split("\t")[index] if ok else None for line, ok in zip(lines, expected, strict=True)
        ]


agents = st.sampled_from(
    [
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/141.0",
        "Mozilla/5.0 (X11; Linux x86_64) Chrome/141.1",
        "ua",
        "-",
        "",
        "ü a",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(agents, max_size=30),
    st.lists(st.tuples(agents, st.sampled_from([native.PERSON, native.OTHER_BOT, native.DECLARED])), max_size=6),
    st.integers(0, 4),
)
def test_known_agents_are_found_exactly(texts: list[str], known: list[tuple[str, int]], skip: int) -> None:
    """A line is marked ``_human`` (``_other``, ``_declared``) exactly when it passed the triage's tests
    and its user agent is one of the known ones of that kind, byte for byte (two of the same length that
    differ in one byte are told apart; a string given twice has its first kind); a line without one ("-"
    or empty) is ``_other`` when it passed them, whatever the table says. ``positions`` finds each user
    agent at its first place in the table."""
    lines = [f'203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "{t}"' for t in texts]
    frame = pl.DataFrame({"line": ["x"] * skip + lines}).with_row_index("line_no").slice(skip)  # a sliced column
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    agent_texts = pl.Series([None, *(agent for agent, _ in known)], dtype=pl.String).slice(1)
    table = native.KnownAgents.of(agent_texts, pl.Series([kind for _, kind in known], dtype=pl.UInt8))
    out, _ = native.split(frame, program, Detector().split_hints(), fields=("user_agent",), known=table)
    first_kind: dict[str, int] = {}
    for agent, kind in known:
        first_kind.setdefault(agent, kind)
    candidates = out["_candidate"].to_list()
    kinds = [native.OTHER_BOT if agent in ("-", "") else first_kind.get(agent) for agent in texts]  # none: a bot
    assert out["_human"].to_list() == [c and k == native.PERSON for c, k in zip(candidates, kinds, strict=True)]
    assert out["_other"].to_list() == [c and k == native.OTHER_BOT for c, k in zip(candidates, kinds, strict=True)]
    assert out["_declared"].to_list() == [c and k == native.DECLARED for c, k in zip(candidates, kinds, strict=True)]
    at = table.positions(pl.Series([*texts, None], dtype=pl.String))
    assert at is not None
    places = [agent for agent, _ in known]
    assert at.tolist() == [places.index(t) if t in places else -1 for t in texts] + [-1]
    without, _ = native.split(frame, program, Detector().split_hints(), fields=("user_agent",))
    assert without["_candidate"].to_list() == candidates
    assert not without["_human"].any()
    assert without["_other"].to_list() == [c and a in ("-", "") for c, a in zip(candidates, texts, strict=True)]


@settings(max_examples=200, deadline=None)
@given(lines=any_lines)
def test_loose_fields_read_the_same_values_over_the_lines_own_data(lines: list[str]) -> None:
    """A field left ``loose`` (the triage's first pass reads only a few user agents) has the values it has
    when packed, and its views point into the lines' own data buffers instead of a copy of its own."""
    frame = pl.DataFrame({"line": lines}, schema={"line": pl.String}).with_row_index("line_no")
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    fields = ("user_agent", "host", "client")
    packed, taken = native.split(frame, program, Detector().split_hints(), fields=fields)
    loose, loose_taken = native.split(frame, program, Detector().split_hints(), fields=fields, loose=("client",))
    assert_frame_equal(loose, packed)
    assert loose_taken.to_list() == taken.to_list()
    lines_data = {buffer.address for buffer in native.string_views(frame["line"])[4]}
    client = loose["client"].to_arrow(compat_level=pl.CompatLevel.newest())
    assert {buffer.address for buffer in client.buffers()[2:]} <= lines_data
    if (packed["client"].str.len_bytes().max() or 0) > 12:  # a long one: packed, it has a buffer of its own
        own = packed["client"].to_arrow(compat_level=pl.CompatLevel.newest()).buffers()[2:]
        assert not {buffer.address for buffer in own} & lines_data


def test_unknown_agents_are_not_taken_for_known_ones_of_the_same_length() -> None:
    """Many known user agents of one length fill the table: lines with others of that length probe
    slots that hold a string, and only an equal one counts, with its own kind."""
    known = [f"agent-{n:04d}" for n in range(0, 600, 2)]
    texts = [f"agent-{n:04d}" for n in range(600)]
    lines = [f'203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "{t}"' for t in texts]
    frame = pl.DataFrame({"line": lines}).with_row_index("line_no")
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    kinds = pl.Series([native.OTHER_BOT if n % 4 == 0 else native.PERSON for n in range(0, 600, 2)], dtype=pl.UInt8)
    table = native.KnownAgents.of(pl.Series(known), kinds)
    out, _ = native.split(frame, program, Detector().split_hints(), fields=("user_agent",), known=table)
    assert out["_candidate"].all()
    assert out["_human"].to_list() == [n % 2 == 0 and n % 4 != 0 for n in range(600)]
    assert out["_other"].to_list() == [n % 4 == 0 for n in range(600)]


def test_the_triage_tests_on_fields_as_read_agree_with_the_polars_ones() -> None:
    """``triage_fields``: a plain address is outside exactly when the polars test says so (junk that only
    looks plain is not, natively: it takes the full path), a chain when every hop is; a user agent's kind
    is the cache's, and a missing one is another bot's."""
    detector = Detector()
    gptbot = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)"
    agents = ["Mozilla/5.0 (X11; Linux x86_64) Chrome/141.0", "curl/8.5.0", gptbot, "-", "", None, "never seen"]
    detector.classify_agents(pl.Series(agents[:3]))
    listed = first_address("openai-gptbot")
    clients = ["203.0.113.9", listed, "2001:db8::1", "10.0.0.1", "256.1.1.1", "1::2::3", "203.0.113.9:443", "-", None]
    chains = ["203.0.113.9, 10.0.0.1", f"203.0.113.9, {listed}", "203.0.113.9,,10.0.0.1"]
    texts = clients + chains
    padded = agents + [agents[0]] * (len(texts) - len(agents))
    result = native.triage_fields(pl.Series(texts), pl.Series(padded), detector.split_hints(), detector.known_agents())
    assert result is not None
    outside, human, other, declared = (series.to_list() for series in result)
    polars_outside = detector._outside_attribution(pl.Series(clients)).to_list()
    valid = [True, True, True, True, False, False, False, False, False]  # parses as one plain address
    assert outside[: len(clients)] == [p and v for p, v in zip(polars_outside, valid, strict=True)]
    assert outside[len(clients) :] == [True, False, False]
    assert human[: len(agents)] == [True, False, False, False, False, False, False]
    assert other[: len(agents)] == [False, True, False, True, True, True, False]
    assert declared[: len(agents)] == [False, False, True, False, False, False, False]


REFERER_PARTS = [
    "https://",
    "www.",
    "chatgpt.com",
    "chatgpt.co",
    "perplexity.ai",
    "/c/1",
    "?q=x",
    "news",
    "-",
    "é",
    "cH",
]


def mixed_case(text: str, flips: int) -> str:
    """``text`` with the characters at the set bits of ``flips`` (every 32) in upper case."""
    return "".join(c.upper() if flips >> (k % 32) & 1 else c for k, c in enumerate(text))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(REFERER_PARTS), max_size=5), st.integers(0, 2**32 - 1)), min_size=1))
def test_the_native_referer_test_folds_case_as_the_polars_one_does(cases: list[tuple[list[str], int]]) -> None:
    """A Referer names an AI product's host in any mix of upper and lower case, natively as with polars'
    ``contains_any`` (the native scan looks up the bytes as they are, each host marked in every case)."""
    hints = Detector().split_hints()
    referers = [mixed_case("".join(parts), flips) for parts, flips in cases]
    line = '203.0.113.9 - - [15/Oct/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 5 "{}" "Mozilla/5.0"'
    lines = [line.format(referer) for referer in referers]
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    cut, taken = native.split(pl.DataFrame({"line": lines}).with_row_index("line_no"), program, hints)
    assert taken.all()
    mentions = pl.Series(referers).str.contains_any(list(hints.needles), ascii_case_insensitive=True)
    assert cut["_candidate"].to_list() == [not m for m in mentions.to_list()]


W3C_DATES = ["2026-10-01", "2024-02-29", "2023-02-29", "2026-13-01", "2026-00-10", "0999-12-31", "1000-01-01"]
W3C_DATES += ["9999-12-31", "2026-1-01", " 2026-10-01", "2026-10-01 ", "2026/10/01", "２０２６-10-01", ""]
W3C_TIMES = ["00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "12:00:00.5", "12:00:00.123456"]
W3C_TIMES += ["12:00:00.1234567", "12:00:00.", "12:00:00.x", "12:00", "1:02:03", " 12:00:00", "12:00:00Z", "١٢:00:00"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(W3C_DATES), st.sampled_from(W3C_TIMES)), min_size=1, max_size=30))
def test_w3c_dates_and_times_read_natively_are_polars_readings(pairs: list[tuple[str, str]]) -> None:
    """Where the native reading takes a date and time, polars reads the same instant from them; where
    polars reads one from a plain pair, the native reading takes it (the others are left to polars)."""
    dates, times = pl.Series([d for d, _ in pairs]), pl.Series([t for _, t in pairs])
    cut = native.w3c_stamps(dates, times)
    assert cut is not None
    ok, micros = cut
    reading = (dates + "T" + times).str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    for taken, value, expected, date, time in zip(ok, micros, reading.cast(pl.Int64), dates, times, strict=True):
        if taken:
            assert value == expected
        elif expected is not None:  # polars reads more (a leap second, a year under 1000, blanks...)
            plain = re.fullmatch(r"[1-9]\d{3}-\d\d-\d\d", date) and re.fullmatch(r"\d\d:\d\d:[0-5]\d(\.\d{1,6})?", time)
            assert not plain, (date, time)


def test_known_agents_that_do_not_hold_together_are_refused() -> None:
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    frame = pl.DataFrame({"line": ['203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"']})
    good = native.KnownAgents.of(pl.Series(["ua", "ub"]))
    for bad in (
        native.KnownAgents(good.data, good.offsets, bytes([1])),  # a kind missing
        native.KnownAgents(good.data, good.offsets, bytes([1, 4])),  # no such kind
        native.KnownAgents(good.data[:-1], good.offsets, good.kinds),  # offsets past the data
        native.KnownAgents(good.data, good.offsets, good.kinds, (1).to_bytes(4, "little") * 16),  # no empty slot
        native.KnownAgents(good.data, good.offsets, good.kinds, (3).to_bytes(4, "little") + bytes(60)),  # no agent 3
        native.KnownAgents(good.data, good.offsets, good.kinds, bytes(4 * 15)),  # not a power of two
    ):
        with pytest.raises(ValueError, match="known user agents"):
            native.split(frame.with_row_index("line_no"), program, Detector().split_hints(), known=bad)


request_texts = st.one_of(
    st.builds(
        lambda method, target, version, extra: f"{method} {target} HTTP/{version}{extra}",
        st.sampled_from(["GET", "POST", "get", "g", "GEg", "G3T", "", "PROPFIND", "É"]),
        st.sampled_from(["/", "/a/b?c=d", "/ä", "/a b", "/a\tb", "x", "", "/" + "z" * 30, "/a\u00a0b", "//x"]),
        st.sampled_from(["1.1", "2", "2.0", "1.", "x", "١", "1.1.1", "10"]),
        st.sampled_from(["", " ", "\n", "x"]),
    ),
    st.text(max_size=40),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.none(), request_texts), max_size=20), st.integers(0, 3))
def test_native_plain_requests_are_the_regexs_and_cut_as_split_exact(requests: list[str | None], skip: int) -> None:
    """A request the native cut calls plain matches the typing's regex (ASCII ones: exactly those), and
    its parts are what split_exact gives."""
    from ledger.parse.typed import _SIMPLE_REQUEST

    column = pl.Series([None] * skip + requests, dtype=pl.String).slice(skip)
    cut = native.request_parts(column)
    assert cut is not None and cut.height == len(requests)
    regex = column.str.contains(_SIMPLE_REQUEST).fill_null(False)
    for simple, matched, text in zip(cut["_simple"], regex, requests, strict=True):
        assert not simple or matched
        assert simple == matched or not text or not text.isascii()
    parts = column.str.split_exact(" ", 2).struct.unnest()
    for k, simple in enumerate(cut["_simple"]):
        expected = parts.row(k) if simple else (None, None, None)
        assert cut.select("_req_method", "_req_target", "_req_protocol").row(k) == expected


def test_a_lines_last_chunk_reads_nothing_of_the_next_line() -> None:
    """The splitter reads a line's last 16 bytes whole, past its end into the next line's bytes: a quote
    or a backslash there is not the line's. Lines of every length, each followed by one that starts with
    them."""
    base = '203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua'
    lines = []
    for pad in range(20):
        for after in ('"', '\\"', "\\", '"x" "y"'):
            lines += [base + "a" * pad, after + base + 'a"', base + "a" * pad + '"', after + base + 'a"']
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    frame = pl.DataFrame({"line": lines}).with_row_index("line_no")
    out, taken = native.split(frame, program, Detector().split_hints(), fields=("user_agent",))
    unclosed = [k for k in range(0, len(lines), 2) if not lines[k].endswith('"')]
    closed = [k for k in range(0, len(lines), 2) if lines[k].endswith('"')]
    assert not any(taken[k] for k in unclosed)  # five quotes of its own: the regex's, and rejected
    assert all(taken[k] and out["_candidate"][k] for k in closed)  # no backslash of its own
    assert_same(three_ways(PRESETS["combined"], lines))


@settings(max_examples=200, deadline=None)
@given(lines=any_lines, known_share=st.integers(0, 3))
def test_the_unsettled_lines_come_cut_as_a_second_split_would_cut_them(lines: list[str], known_share: int) -> None:
    """``split_triaged`` gives ``split``'s frame, and the lines not settled by the native tests (neither
    ``_human`` nor ``_other``) with every field exactly as ``split`` cuts those lines on their own: the
    full path reads them from there instead of a second pass."""
    frame = pl.DataFrame({"line": lines}, schema={"line": pl.String}).with_row_index("line_no")
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    hints, fields = Detector().split_hints(), ("user_agent", "host")
    cut, _ = native.split(frame, program, hints, fields=("user_agent",))
    agents = cut["user_agent"].drop_nulls().unique(maintain_order=True)
    kinds = pl.Series([native.PERSON, native.OTHER_BOT] * agents.len(), dtype=pl.UInt8).head(agents.len())
    share = agents.len() * known_share // 3
    known = native.KnownAgents.of(agents.head(share), kinds.head(share)) if share else None
    expected, _ = native.split(frame, program, hints, fields=fields, known=known, loose=("user_agent",))
    first, unsettled = native.split_triaged(frame, program, hints, fields, known, loose=("user_agent",))
    assert unsettled is not None
    assert_frame_equal(first, expected)
    settled = first["_human"] | first["_other"]
    assert unsettled.rows.to_list() == (~settled).arg_true().to_list()
    alone, taken = native.split(frame[unsettled.rows.to_numpy()], program)
    assert_frame_equal(unsettled.split, alone)
    assert unsettled.taken.to_list() == taken.to_list()
    assert_clean_as_typing_reads(unsettled)


def assert_clean_as_typing_reads(unsettled: native.Unsettled) -> None:
    """An unsettled line is ``clean`` when it was taken, its client field is a bare address as the
    typing's regex reads one (ASCII ones: exactly those) and it has no backslash."""
    from ledger.parse.typed import _BARE_CLIENT

    cut = unsettled.split
    bare = cut["client"].str.contains(_BARE_CLIENT).fill_null(False)
    no_escape = ~cut["line"].str.contains("\\", literal=True)
    for clean, taken, matched, plain, client in zip(
        unsettled.clean, unsettled.taken, bare, no_escape, cut["client"], strict=True
    ):
        assert clean == (taken and matched and plain) or (not clean and not client.isascii())


def test_unsettled_lines_are_clean_exactly_when_the_typing_reads_them_plainly() -> None:
    """Every address of CLIENTS (dotted quads of too many digits, IPv6 with an IPv4 tail, ports,
    non-ASCII digits...) on a well-formed line, with a backslash in one of its fields or none."""
    template = '{} - - [10/Oct/2000:13:55:36 -0700] "GET /{} HTTP/1.1" 200 1 "-" "{}"'
    lines = [
        template.format(client, path, agent)
        for client in CLIENTS
        if " " not in client and "\t" not in client and "\u00a0" not in client and '"' not in client and client
        for path, agent in (("a", "ua"), ("a", 'x\\"y'), ("a\\b", "ua"))
    ]
    frame = pl.DataFrame({"line": lines}).with_row_index("line_no")
    program = native.program_for(PRESETS["combined"])
    assert program is not None
    _, unsettled = native.split_triaged(frame, program, Detector().split_hints(), ("user_agent", "host"))
    assert unsettled is not None and unsettled.rows.len() == len(lines)  # none settled: no user agent known
    assert unsettled.taken.sum() > len(lines) / 2  # not those with non-ASCII bytes outside quotes
    assert_clean_as_typing_reads(unsettled)
    assert 3 <= unsettled.clean.sum() < len(lines) / 3


@pytest.mark.parametrize("name", ["vhost_combined", "combined_xff"])
def test_the_unsettled_lines_of_the_sample_come_cut_as_a_second_split_would_cut_them(tmp_path: Path, name: str) -> None:
    """The same on the seeded sample's realistic lines (most of them pass the native tests, with user
    agents known and not), behind a load balancer too."""
    sample = generate(tmp_path, lines=6_000, seed=2)
    lines = [line for file in sample.files for line in _lines(file.path)]
    if name == "combined_xff":
        lines = [f'{line.partition(" ")[2]} "198.51.100.7, 10.0.0.{n % 250}"' for n, line in enumerate(lines)]
    frame = pl.DataFrame({"line": lines}).with_row_index("line_no", offset=1)
    program = native.program_for(PRESETS[name])
    assert program is not None
    hints, fields = Detector().split_hints(), ("user_agent", "host")
    cut, _ = native.split(frame, program, hints, fields=("user_agent",))
    agents = cut["user_agent"].drop_nulls().unique(maintain_order=True)
    known = native.KnownAgents.of(agents.head(agents.len() // 2))  # half of them known as people's
    expected, _ = native.split(frame, program, hints, fields=fields, known=known, loose=("user_agent",))
    first, unsettled = native.split_triaged(frame, program, hints, fields, known, loose=("user_agent",))
    assert unsettled is not None
    assert_frame_equal(first, expected)
    settled = first["_human"] | first["_other"]
    assert 0 < unsettled.rows.len() < frame.height - 1_000  # both kinds, plenty of each
    assert unsettled.rows.to_list() == (~settled).arg_true().to_list()
    alone, taken = native.split(frame[unsettled.rows.to_numpy()], program)
    assert_frame_equal(unsettled.split, alone)
    assert unsettled.taken.to_list() == taken.to_list()
    assert_clean_as_typing_reads(unsettled)
    assert unsettled.clean.any() and not unsettled.clean.all()


def test_unsettled_lines_need_the_triage() -> None:
    """Without the triage's tests (a layout without a user agent) there is nothing unsettled to cut: the
    caller takes the full path for every line."""
    from ledger import _native  # type: ignore[attr-defined]

    program = native.program_for(PRESETS["combined"])
    assert program is not None
    frame = pl.DataFrame({"line": ['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"']})
    strings = native.string_views(frame["line"])
    with pytest.raises(ValueError, match="unsettled lines need a triage"):
        _native.split(strings, program.code, program.quotes, len(program.fields), -1, None, b"", 0, True)
    common = native.program_for(PRESETS["common"])
    assert common is not None and "user_agent" not in common.fields
    line = frame.with_row_index("line_no").with_columns(pl.col("line").str.replace(r' "-" "ua"$', ""))
    first, unsettled = native.split_triaged(line, common, Detector().split_hints(), ("client",))
    assert unsettled is None
    assert "_candidate" not in first.columns
    assert first["client"].to_list() == ["1.2.3.4"]


number_texts = st.one_of(
    st.none(),
    st.sampled_from(["200", "0", "007", "-", "", "+5", "-5", " 5", "5 ", "32767", "32768", "99999", "١٢", "5.0"]),
    st.sampled_from(["999999999999999999", "1000000000000000000", "9223372036854775807", "9999999999999999999"]),
    st.sampled_from(["12a", "0x10", "5e2"]),
    st.text(alphabet="0123456789-+ .", max_size=22),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(number_texts, max_size=30), st.integers(0, 3))
def test_numbers_read_natively_are_the_typings(values: list[str | None], skip: int) -> None:
    """A status and a size read natively (plain digits and missing values; the rest by the typing's
    expressions) are what the typing's expressions read: out of range, signed, blank or non-ASCII ones
    included."""
    from ledger.parse.typed import _bytes, _status, number_values

    for name, expression, finish in (
        ("status", _status(), lambda s: s.cast(pl.Int16, strict=False)),
        ("bytes", _bytes(), lambda s: s.fill_null(0)),
    ):
        column = pl.Series(name, [None] * skip + values, dtype=pl.String).slice(skip)
        expected = column.to_frame().select(expression).to_series()
        got = finish(number_values(column, expression))
        assert got.dtype == expected.dtype and got.to_list() == expected.to_list()


PERCENT_PARTS = ["%", "2", "5", "A", "f", "G", "x", " ", "é", "ü", "\x00", "%20", "%25", "%2520", "%C3", "%A9"]
PERCENT_PARTS += ["%E2%82", "%AC", "%FF", "%5C", "%00", "%c3%a9", "%%41"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(PERCENT_PARTS), max_size=10).map("".join)), max_size=40))
def test_values_url_decoded_natively_are_what_python_decodes(values: list[str | None]) -> None:
    """CloudFront's URL-encoded fields, decoded natively once or twice, are Python's ``unquote`` of them
    (``_unquote_twice``): invalid %-escapes kept, bytes that do not make UTF-8 left to Python."""
    from ledger.parse.w3c import _unquote_twice, _unquoted

    series = pl.Series("user_agent", values, dtype=pl.String)
    assert _unquoted(series).to_list() == [_unquote_twice(value) for value in values]
    found = native.unquoted(series)
    assert found is not None
    status, decoded = found
    expected = [0 if v is None or "%" not in v else 2 if "\ufffd" in _unquote_twice(v) else 1 for v in values]
    assert status.tolist() == expected  # every decodable value decoded here, not by Python
    # the values as they are, decoded, or empty for Python to fill in
    made = [v if s == 0 else _unquote_twice(v) if s == 1 else "" for v, s in zip(values, expected, strict=True)]
    assert decoded.to_list() == made
