"""Log formats and the vectorised parser: fields, quirks, rejects, and the accounting invariant."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.detect.classify import Detector
from ledger.errors import ConfigError
from ledger.formats import PRESETS, compile_layout, get_format
from ledger.parse import native, parse_batch, sniff_format
from ledger.parse.typed import _typed_general, normal_host, normal_hosts, target_rows, typed
from ledger.sources import split_lines
from tests.conftest import DATA

COMBINED = get_format("combined")


def parse_one(line: str, fmt: str = "combined") -> dict[str, object]:
    result = parse_batch(pl.Series([line]), 1, get_format(fmt))
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.parsed.to_dicts()[0]


def reject_reason(line: str, fmt: str = "combined") -> str:
    result = parse_batch(pl.Series([line]), 7, get_format(fmt))
    assert result.parsed.height == 0
    assert result.rejects["line_no"].to_list() == [7]
    return str(result.rejects["reason"][0])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param(
            '47.237.24.139 - - [29/Oct/2024:00:16:21 -0700] "GET / HTTP/1.0" 200 12663 "-" "-"',
            {
                "client_ip": "47.237.24.139",
                "method": "GET",
                "path": "/",
                "protocol": "HTTP/1.0",
                "status": 200,
                "bytes": 12663,
                "referer": None,
                "user_agent": None,
                "ts": datetime(2024, 10, 29, 7, 16, 21, tzinfo=UTC),
            },
            id="imc-dash-fields-and-offset",
        ),
        pytest.param(
            '2001:db8::1 - frank [10/Oct/2026:23:30:00 +0500] "POST /api?q=1 HTTP/2.0" 201 - '
            '"https://chatgpt.com/c/1" "Mozilla/5.0"',
            {
                "client_ip": "2001:db8::1",
                "method": "POST",
                "path": "/api?q=1",
                "protocol": "HTTP/2.0",
                "status": 201,
                "bytes": 0,
                "referer": "https://chatgpt.com/c/1",
                "ts": datetime(2026, 10, 10, 18, 30, tzinfo=UTC),
            },
            id="ipv6-dash-bytes",
        ),
        pytest.param(
            '1.2.3.4 - - [01/Oct/2026:00:00:00 +0330] "GET /md5(\\"hi\\") HTTP/1.1" 404 10 "-" '
            '"Mozilla/5.0 \\"quoted\\" agent"',
            {
                "path": '/md5("hi")',
                "user_agent": 'Mozilla/5.0 "quoted" agent',
                "ts": datetime(2026, 9, 30, 20, 30, tzinfo=UTC),
            },
            id="escaped-quotes",
        ),
        pytest.param(
            '1.2.3.4 - - [01/Oct/2026:00:00:00 +0000] "GET /a HTTP/1.1" 200 10 "https://x.kz/?q=\\"a\\"" '
            '"UA \\\\ back"',
            {"path": "/a", "referer": 'https://x.kz/?q="a"', "user_agent": "UA \\ back"},
            id="escaped-referer-and-backslash",
        ),
        pytest.param(
            '5.6.7.8 - - [01/Oct/2026:10:00:00 +0000] "\\x16\\x03\\x01\\x00\\xa5\\x01" 400 157 "-" "-"',
            {"method": None, "path": None, "status": 400},
            id="tls-handshake-bytes",
        ),
        pytest.param(
            '5.6.7.8 - - [01/Oct/2026:10:00:00 +0000] "" 400 0 "-" "-"',
            {"method": None, "path": None, "status": 400, "bytes": 0},
            id="empty-request",
        ),
        pytest.param(
            '5.6.7.8 - - [01/Oct/2026:10:00:00 +0000] "-" 400 0 "-" "-"',
            {"method": None, "status": 400},
            id="dash-request",
        ),
        pytest.param(
            '10.0.0.2, 10.0.0.1, 127.0.0.1 - - [01/Oct/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 5 "-" "curl/8"',
            {"client_ip": "10.0.0.2, 10.0.0.1, 127.0.0.1", "path": "/x"},  # detection picks the address
            id="xff-chain-in-address",
        ),
        pytest.param(
            '5.6.7.8 - - [01/Oct/2026:10:00:00 +0000] "GET /a b HTTP/1.1" 200 5 "-" "x" 0.004 "-"',
            {"path": "/a b", "protocol": "HTTP/1.1"},
            id="trailing-fields-and-space-in-target",
        ),
    ],
)
def test_combined_fields(line: str, expected: dict[str, object]) -> None:
    parsed = parse_one(line)
    for key, value in expected.items():
        assert parsed[key] == value, key


def test_vhost_combined_with_and_without_port() -> None:
    with_port = parse_one(
        'News.Example.KZ:443 1.2.3.4 - - [01/Oct/2026:10:00:00 +0500] "GET / HTTP/1.1" 200 1 "-" "x"', "vhost_combined"
    )
    without = parse_one(
        'www.example.kz. 1.2.3.4 - - [01/Oct/2026:10:00:00 +0500] "GET / HTTP/1.1" 200 1 "-" "x"', "vhost_combined"
    )
    assert with_port["host"] == "news.example.kz"
    assert without["host"] == "www.example.kz"


def test_common_has_no_referer_or_agent() -> None:
    parsed = parse_one('1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 1', "common")
    assert parsed["user_agent"] is None and parsed["referer"] is None and parsed["path"] == "/a"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("", "empty line"),
        ("   ", "empty line"),
        ("garbage that is not a log line", "does not match the combined format"),
        (
            '1.2.3.4 - - [32/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"',
            "unreadable timestamp '32/Oct/2026:10:00:00 +0000'",
        ),
        (
            '1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "Mozilla/5.0 (compatible; Googl',
            "does not match the combined format",
        ),
    ],
)
def test_rejects_carry_line_number_and_reason(line: str, reason: str) -> None:
    assert reject_reason(line) == reason


BLANKS = ["", " ", "   ", "\t", " \t ", "\x0b", "\x0c", "\u00a0", "\u2003 "]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_blank_lines_are_rejects_as_empty_lines_in_every_format(name: str) -> None:
    """Blank lines are rejects whatever the format (no layout reads a time from them), with that reason."""
    fmt = PRESETS[name]
    header = ["#Fields: time c-ip cs-uri-stem"] if fmt.kind == "w3c" else []  # the least a W3C line can have
    result = parse_batch(pl.Series([*header, *BLANKS]), 1, fmt)
    blank = result.rejects.filter(pl.col("line_no") > len(header))
    assert result.parsed.height == 0 and result.quiet.height == 0
    assert blank["reason"].to_list() == ["empty line"] * len(BLANKS)


def test_raw_line_is_kept_truncated() -> None:
    line = "x" * 5000
    result = parse_batch(pl.Series([line]), 1, COMBINED)
    assert result.rejects["raw"][0] == "x" * 2048


def test_line_numbers_continue_from_first_line() -> None:
    good = '1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"'
    result = parse_batch(pl.Series([good, "bad", good]), 101, COMBINED)
    assert result.parsed["line_no"].to_list() == [101, 103]
    assert result.rejects["line_no"].to_list() == [102]


def test_sniff_prefers_the_most_specific_matching_format() -> None:
    vhost = 'a.kz 1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"'
    combined = '1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"'
    common = '1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1'
    assert sniff_format(pl.Series([vhost, vhost])) == ("vhost_combined", 2)
    assert sniff_format(pl.Series([combined, "junk"])) == ("combined", 1)
    assert sniff_format(pl.Series([common])) == ("common", 1)
    assert sniff_format(pl.Series(["junk", ""])) == (None, 0)


def test_format_strings_compile_and_unknown_directives_are_errors() -> None:
    fmt = compile_layout("custom", '%h %l %u %t "%r" %>s %b "%{User-Agent}i" %D')
    assert fmt.fields == ("client", "time", "request", "status", "bytes", "user_agent")
    with pytest.raises(ConfigError, match="unsupported directive '%Z'"):
        compile_layout("bad", "%h %t %Z")
    unknown = r"--format: unknown format 'nginxx'; did you mean 'nginx_json'\? \(allowed: auto, cloudfront, w3c"
    with pytest.raises(ConfigError, match=unknown):
        get_format("nginxx")


def test_every_preset_parses_its_own_example() -> None:
    for fmt in PRESETS.values():
        lines = fmt.example.split("\n")  # a W3C example starts with its #Fields directive
        result = parse_batch(pl.Series(lines), 1, fmt)
        assert result.parsed.height == 1, (fmt.name, result.rejects.to_dicts())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash_and_every_line_is_accounted_for(data: bytes) -> None:
    lines = split_lines(data + b"\n")
    for fmt in PRESETS.values():
        result = parse_batch(lines, 1, fmt)
        assert result.parsed.height + result.rejects.height == lines.len()
        numbers = sorted(result.parsed["line_no"].to_list() + result.rejects["line_no"].to_list())
        assert numbers == list(range(1, lines.len() + 1))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=80),
        max_size=20,
    )
)
def test_lines_of_arbitrary_text_round_trip_through_split(lines: list[str]) -> None:
    data = "".join(line + "\n" for line in lines).encode()
    assert split_lines(data).to_list() == lines


# The cheap typing paths against the general one: raw fields as the parsers hand them over.
FIELD_VALUES = {
    "client": ["203.0.113.9", "2001:db8::1", "203.0.113.9:443", "[2001:db8::1]:80", " 203.0.113.9", "-", "a, b", None],
    "forwarded_for": [
        *(None, "-", "198.51.100.4", "198.51.100.4, 10.0.0.1", '"1.2.3.4"', "unknown", "", "  ", "a,b"),
        *(" 198.51.100.4 ,10.0.0.1 ", "198.51.100.4:8080", "[2001:db8::1]:443", "10.0.0.1,  unknown", '1.2.3.4 \\"'),
    ],
    "request": [None, "GET /a HTTP/1.1", "get /a?b=1 HTTP/2.0", "GET http://x.kz/a HTTP/1.1", "-", "\\x16\\x03"],
    "path": [None, "/a", "/a b", "http://X.kz:80/p", "-", "", "relative"],
    "query": [None, "-", "", "x=1&utm_source=chatgpt.com"],
    "method": [None, "get", "-", "POST"],
    "protocol": [None, "HTTP/1.1", "-"],
    "status": ["200", " 404", "-", "abc", None],
    "bytes": ["12", "-", " 7 ", None],
    "host": [None, "News.KZ:443", "-", "", "news.kz."],
    "referer": [None, "-", "https://chatgpt.com/", 'a \\"q\\"', "\\\\x"],
    "user_agent": [None, "-", "Mozilla/5.0", 'UA \\"x\\"'],
    "content_type": [None, "-", "text/html"],
}


def _rows(**fixed: list[str | None]) -> st.SearchStrategy[dict[str, str | None]]:
    return st.fixed_dictionaries({k: st.sampled_from(fixed.get(k, v)) for k, v in FIELD_VALUES.items()})


# Text-layout-like rows (a request, no path) and JSON/W3C-like rows (a path, no request) are drawn often,
# so both cheap paths see many rows; anything goes otherwise.
raw_rows = st.lists(
    st.one_of(
        _rows(request=["GET /a HTTP/1.1", "GET /a?b=1 HTTP/2.0"], path=[None], query=[None], forwarded_for=[None]),
        _rows(request=["GET /a HTTP/1.1"], path=[None], query=[None]),  # behind a load balancer
        _rows(request=[None], path=["/a", "/a b", "/"], client=["203.0.113.9", "2001:db8::1"]),
        _rows(),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(raw_rows)
def test_cheap_typing_paths_give_what_the_general_one_gives(rows: list[dict[str, str | None]]) -> None:
    frame = pl.DataFrame(rows, schema=dict.fromkeys(FIELD_VALUES, pl.String)).with_row_index("line_no")
    frame = frame.with_columns(
        pl.col("line_no").cast(pl.Int64), pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts")
    )
    fmt = PRESETS["combined"]
    general = _typed_general(frame).sort("line_no")
    assert typed(frame, fmt).equals(general)
    # the target rows told natively (JSON and W3C lines' triage) are polars' here (ASCII), typed the same
    tested = native.triage_targets(frame, Detector().split_hints(), None)
    assert tested is not None
    assert tested["_target"].to_list() == frame.select(target_rows().fill_null(False)).to_series().to_list()
    assert typed(frame.with_columns(tested["_target"]), fmt).equals(general)


def test_general_typing_trims_addresses_and_drops_ports() -> None:
    """The general typing's addresses as logged -> as stored (the cheap paths are checked against it above,
    so this pins what it gives): a port dropped from a single address, a chain's separators made ", ",
    quotes and spaces trimmed, "-", "" and "unknown" null. A lower-case method sends every row that way."""
    cases = [
        ("203.0.113.9:443", "198.51.100.4:8080", "203.0.113.9", "198.51.100.4"),
        ("[2001:db8::1]:80", "[2001:db8::1]:443", "2001:db8::1", "2001:db8::1"),
        (" 203.0.113.9", " 198.51.100.4 ,10.0.0.1 ", "203.0.113.9", "198.51.100.4, 10.0.0.1"),
        ("-", "unknown", None, None),
        ("", "", None, None),
        ("10.0.0.2,10.0.0.1", '"1.2.3.4"', "10.0.0.2, 10.0.0.1", "1.2.3.4"),
        ("2001:db8::1", '1.2.3.4 \\"', "2001:db8::1", "1.2.3.4"),
    ]
    rows = [
        dict.fromkeys(FIELD_VALUES) | {"client": c, "forwarded_for": f, "request": "get /a HTTP/1.1"}
        for c, f, _, _ in cases
    ]
    frame = pl.DataFrame(rows, schema=dict.fromkeys(FIELD_VALUES, pl.String)).with_row_index("line_no")
    frame = frame.with_columns(
        pl.col("line_no").cast(pl.Int64), pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts")
    )
    for out in (typed(frame, PRESETS["combined"]), _typed_general(frame)):
        assert out["client_ip"].to_list() == [case[2] for case in cases]
        assert out["forwarded_for"].to_list() == [case[3] for case in cases]


@pytest.mark.parametrize(
    ("name", "fmt"), [("caddy-logs__caddy-logs.log", "caddy"), ("traefik_json__traefik_json.log", "traefik_json")]
)
def test_json_lines_decoded_a_few_at_a_time_parse_the_same(
    monkeypatch: pytest.MonkeyPatch, name: str, fmt: str
) -> None:
    """JSON lines are decoded in chunks (the decoded objects of a whole batch took 140 MB): any chunk
    size gives the same rows, rejects included (a junk line and a short last chunk)."""
    import ledger.parse.jsonl as jsonl

    text = (DATA / "fixtures" / name).read_text().splitlines()
    lines = pl.Series("line", [*text, "not json", "{}", *text])
    whole = parse_batch(lines, 1, get_format(fmt))
    monkeypatch.setattr(jsonl, "CHUNK_LINES", 3)
    chunked = parse_batch(lines, 1, get_format(fmt))
    assert chunked.parsed.equals(whole.parsed) and chunked.rejects.equals(whole.rejects)
    assert whole.rejects.height >= 2 and whole.parsed.height > 0


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=12),
            st.from_regex(r"[A-Za-zÉé.-]{1,8}(:[0-9]{1,4}){0,2}\.?", fullmatch=True),
        ),
        max_size=20,
    )
)
def test_normal_hosts_is_normal_host_and_leaves_its_input_alone(hosts: list[str | None]) -> None:
    """Quiet lines' hosts are normalised only where that changes them: the same result as normalising
    every one, and the caller's series untouched."""
    series = pl.Series("host", hosts, dtype=pl.String)
    expected = pl.select(normal_host(pl.lit(series))).to_series().to_list()
    assert normal_hosts(series).to_list() == expected
    assert series.to_list() == hosts


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.none(),
                st.sampled_from(["2026-10-01", " 2026-10-01", "2026-1-01", "2026-02-30", "26-10-01", "2026-10-01Z"]),
                st.dates().map(str),
                st.text(max_size=12),
            ),
            st.one_of(
                st.none(),
                st.sampled_from(
                    ["00:00:01", "23:59:59.123", "24:00:00", "1:2:3", "00:00:01Z", "00:00:01+0500", " 12:00:00 "]
                ),
                st.times().map(str),
                st.text(max_size=12),
            ),
            st.sampled_from(["+00:00", "+05:00", "-03:30", "+14:00", "-12:00"]),
        ),
        min_size=1,
        max_size=30,
    )
)
@example(rows=[("0-1-1", "00:00:01", "+00:00")])  # year 0: both read it; Python's datetime cannot hold it
def test_w3c_times_read_directly_are_what_the_iso8601_reading_gives(
    rows: list[tuple[str | None, str | None, str]],
) -> None:
    """W3C times are read straight from their date and time where those are plain, and by the general
    ISO 8601 reading otherwise: both give the same instant, or both none; the ISO 8601 text is kept where
    it gives none (a reject's reason shows it)."""
    from ledger.parse.typed import iso8601
    from ledger.parse.w3c import with_stamps

    frame = pl.DataFrame(rows, schema={"date": pl.String, "time": pl.String, "offset": pl.String}, orient="row")
    stamped = with_stamps(frame, pl.col("offset"))
    text = pl.col("date").str.strip_chars() + pl.lit("T") + pl.col("time").str.strip_chars() + pl.col("offset")
    expected = frame.select(text.alias("text"), iso8601(text).alias("ts"))
    assert stamped["ts"].dt.epoch("us").to_list() == expected["ts"].dt.epoch("us").to_list()  # as instants
    unread = expected.filter(pl.col("ts").is_null())["text"].to_list()
    assert stamped.filter(pl.col("ts").is_null())["time"].to_list() == unread
    assert stamped.filter(pl.col("ts").is_not_null())["time"].null_count() == len(rows) - len(unread)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="#a é\t", max_size=20)), max_size=30), st.integers(0, 5))
def test_w3c_directive_lines_are_those_starting_with_a_hash(lines: list[str | None], skip: int) -> None:
    """Read from the first byte of each string view (inline or a longer string's prefix), also in a
    slice of a column and with nulls."""
    from ledger.parse.w3c import _directives

    series = pl.Series("line", ["#x", *lines], dtype=pl.String).slice(min(skip, len(lines)))
    assert _directives(series).to_list() == series.str.starts_with("#").fill_null(False).to_list()
