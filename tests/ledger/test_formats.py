"""Every format preset on real fixtures (other projects' test logs) and on constructed lines: auto-detection,
exact parsed/rejected counts, the fields that matter, and a clear failure for formats out of scope."""

from __future__ import annotations

import gzip
import itertools
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.errors import ConfigError, FormatDetectionError, InputError
from ledger.formats import PRESETS, compile_layout, custom_layout
from ledger.ingest import ingest_paths
from ledger.parse import Parser, native, parse_batch, sniff_format, sniff_formats
from ledger.store.db import Ledger
from tests.conftest import DATA, add_outlet
from tests.ledger.test_ingest import GPTBOT, first_address

FIXTURES = DATA / "fixtures"
FIXTURE_LINES = sorted({line for path in FIXTURES.iterdir() for line in path.read_bytes().splitlines()[:5]})


@pytest.fixture
def site(ledger: Ledger) -> Ledger:
    add_outlet(ledger, "site", "example.com")
    return ledger


@pytest.mark.parametrize(
    ("name", "fmt", "lines", "parsed"),
    [
        ("caddy-logs__caddy-logs.log", "caddy", 12, 10),  # 2 JSON records that are no access entries
        ("logfile_caddy_log.0", "caddy", 39, 4),  # docker compose prefix; 35 server messages
        ("traefik_json__traefik_json.log", "traefik_json", 7, 6),  # one plugin DEBUG line
        ("fastly-logs__fastly-logs.log", "fastly", 4, 4),  # syslog header before the JSON
        ("aws-cloudfront-logs__aws-cloudfront-logs.log", "cloudfront", 2, 2),  # no #Fields: the default columns
        ("aws-alb-logs__aws-alb-logs.log", "alb", 14, 14),  # http, https, h2, absolute request URLs
        ("haproxy-logs__haproxy-logs.log", "haproxy", 5, 2),  # 3 TLS handshake failures are no requests
        ("logfile_haproxy.0", "haproxy", 17, 13),
        ("nginx-proxy-manager-logs__nginx-proxy-manager-logs.log", "nginx_proxy_manager", 14, 6),
        ("traefik_clf__traefik_clf.log", "combined", 9, 6),  # CLF with trailing router fields
        ("logfile_w3c.0", "w3c", 5, 1),
        ("logfile_w3c.1", "w3c", 7, 1),  # Oracle web cache: padded columns, #GMT-Offset, cs-uri
        ("logfile_w3c.2", "w3c", 22, 14),  # #Fields change mid-file; time only, date from #Date
        ("logfile_w3c.3", "w3c", 10, 3),  # IIS advanced logging: date-local, quoted values, blank lines
        ("logfile_w3c_big.0", "w3c", 254, 210),
        ("logfile_access_log.0", "combined", 3, 3),
        # Envoy's JSON through the container runtime's prefix; 4 lines of its default text layout among them
        ("envoy-logs__envoy.log", "envoy", 10, 6),
        ("logfile_w3c.4", "w3c", 6, 2),  # Incapsula: every value quoted, a #Date in another layout
        ("logfile_w3c.5", "w3c", 2, 1),  # more columns than #Fields names: the named ones read
        ("logfile_w3c.6", "w3c", 5, 1),  # letters beyond ASCII before the user agent
        ("litespeed-logs__litespeed-logs.log", "combined", 3, 1),  # LiteSpeed's server messages beside it
        # BunkerWeb writes a request id after the ident: those 7 lines are rejected as vhost_combined (its
        # --log-format '$host $remote_addr - $request_id $remote_user [$time_local] ...' reads them)
        ("bunkerweb-http-malformed__bunkerweb-http-malformed.log", "vhost_combined", 13, 5),
    ],
)
def test_fixture_parses_with_exact_counts(site: Ledger, name: str, fmt: str, lines: int, parsed: int) -> None:
    [result] = ingest_paths(site, [str(FIXTURES / name)], outlet="site")
    assert (result.format, result.lines, result.parsed) == (fmt, lines, parsed)
    assert result.parsed + result.rejected == result.lines
    reasons = {r["reason"] for r in site.rows("SELECT reason FROM rejects")}
    assert all(reason for reason in reasons)


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("iis-xml-logs__iis-logs.log", '<Event xmlns="http://schemas'),  # IIS as XML events: out of scope
        ("zoraxy-http-logs__zoraxy.log", "2025/05/01 07:57:03"),
        # Upsun's journald records: a combined line behind "frontend.0 nginx: " inside a JSON "message"
        ("base-upsun-httplog-logs__base-upsun-httplog-logs.log", '{"timestamp_ns":1756494783340876000'),
        ("logfile_syslog_with_access_log.0", "Jan  3 09:47:02 veridian sudo"),  # a syslog file, not access
    ],
)
def test_out_of_scope_formats_fail_fast_with_the_formats_tried(site: Ledger, name: str, first: str) -> None:
    with pytest.raises(FormatDetectionError) as raised:
        ingest_paths(site, [str(FIXTURES / name)], outlet="site")
    message = str(raised.value)
    assert "no known log format matches line 1" in message and first in message
    assert "tried cloudfront, w3c, cloudflare" in message
    assert site.rows("SELECT count(*) AS n FROM uploads")[0]["n"] == 0


def _executable() -> bytes:
    """The start of an ELF shared library's kind of bytes: headers, short runs of nulls, machine code."""
    pick = random.Random(7)
    parts = [b"\x7fELF\x02\x01\x01" + b"\0" * 9]
    for _ in range(3000):
        parts.append(bytes(pick.randrange(256) for _ in range(pick.randrange(1, 12))) + b"\0" * pick.randrange(1, 6))
    return b"".join(parts)


@pytest.mark.parametrize(
    "data",
    [random.Random(3).randbytes(200_000), _executable()],
    ids=["random bytes", "an executable"],
)
@pytest.mark.parametrize("options", [{}, {"fmt": "combined"}], ids=["sniffed", "format given"])
def test_binary_data_is_refused_as_no_text_log(
    site: Ledger, tmp_path: Path, data: bytes, options: dict[str, str]
) -> None:
    """A binary file given by mistake is said to be binary, not a log in some other format."""
    path = tmp_path / "libsomething.so"
    path.write_bytes(data)
    with pytest.raises(FormatDetectionError) as raised:
        ingest_paths(site, [str(path)], outlet="site", **options)  # type: ignore[arg-type]
    message = str(raised.value)
    assert re.search(r"binary data, not a text log: [\d,]+ of its first [\d,]+ characters are control", message)
    assert raised.value.binary is not None and raised.value.binary[0] >= 0.03 * raised.value.binary[1]
    assert site.rows("SELECT count(*) AS n FROM uploads")[0]["n"] == 0


@pytest.mark.parametrize(
    "line",
    [
        "\x1b[31mERROR\x1b[0m 2026-10-01 worker crashed\tretrying",  # an application's log, in colour
        'GET "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03" 400',  # escaped bytes are text
        "a\x07 bell in every line of a text in an unknown layout, nothing more" * 2,
    ],
)
def test_text_in_an_unknown_layout_is_not_called_binary(site: Ledger, tmp_path: Path, line: str) -> None:
    path = tmp_path / "app.log"
    path.write_text((line + "\n") * 200)
    with pytest.raises(FormatDetectionError) as raised:
        ingest_paths(site, [str(path)], outlet="site")
    assert "no known log format matches line 1" in str(raised.value) and raised.value.binary is None


CLF_LINE = '203.0.113.9 - - [15/Oct/2026:12:00:00 +0000] "GET /news/1 HTTP/1.1" 200 1000 "-" "curl/8.0"'

# The reference folder's samples not copied into tests/data: Matomo's log importer's, one per format it reads
# (GPL-3.0 data: read where the folder is, not copied here; the constructed lines below test the same
# layouts everywhere), and CrowdSec's and lnav's parser corpora (several layouts in one file: the one
# that parses most is the file's, the other lines are rejected with that reason).
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "logs" / "fixtures"
MATOMO = REFERENCE / "matomo-log-analytics"


@pytest.mark.skipif(not MATOMO.is_dir(), reason="needs ../shared/reference beside the repository")
@pytest.mark.parametrize(
    ("name", "fmt", "lines", "parsed"),
    [
        ("alb.log", "alb", 1, 1),
        ("amazon_cloudfront_rtmp.log", "w3c", 4, 2),  # an RTMP distribution's columns: generic W3C
        ("amazon_cloudfront_web.log", "cloudfront", 3, 1),  # the user agent encoded twice (%2520)
        ("caddy_json.log", "caddy", 3, 3),
        ("common.log", "common", 1, 1),
        ("common_complete.log", "vhost_combined", 1, 1),
        ("common_encoding_big5.log", "vhost_combined", 1, 1),  # a Big5 path: not UTF-8
        ("common_vhost.log", "vhost_common", 1, 1),
        ("elb.log", "elb", 3, 2),  # a comment line; a TCP listener's line (request "- - - ") is a connection
        ("haproxy.log", "haproxy", 1, 1),
        ("icecast2.log", "combined", 1, 1),  # combined and the listening seconds
        ("iis.log", "w3c", 5, 1),
        ("iis_custom.log", "w3c", 10, 3),  # blank and padded directive lines, quoted values
        ("incapsula_w3c.log", "w3c", 6, 2),  # every value quoted
        ("logs_to_tests.log", "combined", 6, 4),
        ("ncsa_extended.log", "combined", 1, 1),
        ("netscaler.log", "w3c", 5, 1),
        ("nginx_json.log", "nginx_json", 2, 2),
        ("ovh.log", "combined", 1, 1),  # the host where the ident is: --log-format '%h %v %u ...' reads it
        ("s3.log", "s3", 1, 1),
        ("shoutcast.log", "w3c", 4, 1),
        ("splitted_date_and_time.log", "w3c", 2, 1),  # the date and the time columns apart; no newline at its end
        ("static_ignores.log", "vhost_combined", 4, 4),
        ("traefik_json.log", "traefik_json", 1, 1),
        ("../crowdsec-hub/apache2-logs__apache2-logs.log", "combined", 9, 4),  # vhost, common, error lines
        ("../crowdsec-hub/http-dos-switching-ua__http-dos-switching-ua.log", "combined", 15, 15),
        ("../crowdsec-hub/nginx_http-logs__nginx_http-logs.log", "vhost_combined", 9, 3),  # 3 and 3: the richer
        ("../lnav/logfile_regexp_access_log.0", "vhost_combined", 2, 2),
        ("../lnav/logfile_shop_access_log.0", "combined_xff", 1000, 1000),  # a quoted "-" after the user agent
    ],
)
def test_reference_samples_parse_with_exact_counts(site: Ledger, name: str, fmt: str, lines: int, parsed: int) -> None:
    [result] = ingest_paths(site, [str(MATOMO / name)], outlet="site")
    assert (result.format, result.lines, result.parsed, result.rejected) == (fmt, lines, parsed, lines - parsed)


@pytest.mark.skipif(not MATOMO.is_dir(), reason="needs ../shared/reference beside the repository")
@pytest.mark.parametrize(
    ("name", "log_format", "first"),
    [
        # a hosting company's own layout (the time taken in brackets): its format string reads it
        ("gandi.log", '%v %h %l %u %t (%T s) "%r" %>s %b "%{Referer}i" "%{User-agent}i"', "www.example.com 1.2.3.4"),
        # a date written as no preset writes it: a strftime format in %{...}t reads it
        ("custom_regex_custom_date.log", '%h %l %u [%{%B - %d, %Y:%H:%M:%S}t] "%r" %>s %b', "[February - 10, 2012"),
    ],
)
def test_matomo_samples_of_a_servers_own_layout_need_its_format_string(
    site: Ledger, name: str, log_format: str, first: str
) -> None:
    with pytest.raises(FormatDetectionError) as raised:
        ingest_paths(site, [str(MATOMO / name)], outlet="site")
    assert first in str(raised.value) and "with --log-format" in str(raised.value)
    [result] = ingest_paths(site, [str(MATOMO / name)], outlet="site", log_format=log_format)
    assert result.parsed == result.lines > 0 and result.rejected == 0


ELB_LINE = (
    "2026-10-01T10:00:00.945958Z my-lb 203.0.113.9:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 "
    '"GET https://news.example.kz:443/a?b=1 HTTP/1.1" "Mozilla/5.0 (compatible; GPTBot/1.2)" DHE-RSA-AES128-SHA TLSv1.2'
)
S3_LINE = (
    "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be news-bucket [01/Oct/2026:10:00:00 +0500] "
    '203.0.113.9 - 3E57427F3EXAMPLE WEBSITE.GET.OBJECT a/index.html "GET /a?b=1 HTTP/1.1" 200 - 512 512 10 9 '
    '"https://chatgpt.com/" "Mozilla/5.0 (X11)" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPF= '
    "SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader news.example.kz TLSv1.2 - -"
)
VHOST_COMMON_LINE = 'news.example.kz:443 203.0.113.9 - bob [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 404 -'
# Bunny CDN's raw log line (its documented fields: cache status, status, unix milliseconds, bytes, pull zone,
# address, referer, URL, edge location, user agent, request id, country); a "|" inside the user agent
BUNNY_LINE = (
    "MISS|200|1790848800123|5120|390|2001:db8::7|https://chatgpt.com/|https://news.example.kz/a?b=1|FR|"
    "Mozilla/5.0 (compatible; GPTBot/1.2) |x|322b688bd63fb63f2babe9de30a5d262|KZ"
)
# Akamai DataStream 2 in JSON (its documented keys): every value a string, the user agent and referer
# URL-encoded, the query apart from the path, the host with its port
AKAMAI_LINE = json.dumps(
    {
        "version": 1,
        "cp": "123456",
        "reqId": "1239f220",
        "reqTimeSec": "1790848800.123",
        "bytes": "5120",
        "cliIP": "203.0.113.9",
        "statusCode": "200",
        "proto": "HTTPS",
        "reqHost": "news.example.kz:443",
        "reqMethod": "GET",
        "reqPath": "/a",
        "reqPort": "443",
        "queryStr": "b=1",
        "rspContentType": "text/html;%20charset=utf-8",
        "UA": "Mozilla%2F5.0%20(compatible;%20GPTBot%2F1.2)%20%D0%96%FF",
        "referer": "https%3A%2F%2Fchatgpt.com%2F%3Fq%3D100%2525",
        "cacheStatus": "1",
        "xForwardedFor": "198.51.100.4",
    },
    separators=(",", ":"),
)
# A LogEntry exported from Google Cloud Logging (its field names: the API's HttpRequest); 64-bit integers
# are strings in its JSON, the status a number, the time in nanoseconds
GCP_LINE = json.dumps(
    {
        "httpRequest": {
            "requestMethod": "GET",
            "requestUrl": "https://news.example.kz/a?b=1&utm_source=x",
            "requestSize": "97",
            "status": 200,
            "responseSize": "5120",
            "userAgent": "Mozilla/5.0 (compatible; GPTBot/1.2)",
            "remoteIp": "2001:db8::7",
            "serverIp": "10.128.0.4",
            "referer": "https://chatgpt.com/",
            "latency": "0.012s",
            "protocol": "HTTP/1.1",
        },
        "insertId": "1v2a3b4c5d",
        "jsonPayload": {"@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry"},
        "logName": "projects/newsroom/logs/requests",
        "resource": {"type": "http_load_balancer", "labels": {"project_id": "newsroom"}},
        "severity": "INFO",
        "timestamp": "2026-10-01T10:00:00.123456789Z",
    },
    separators=(",", ":"),
)
# Azure Front Door's FrontDoorAccessLog as a diagnostic setting writes it: the values strings, the URL whole
# with its port, the time in 100-nanosecond units
AZURE_LINE = json.dumps(
    {
        "category": "FrontDoorAccessLog",
        "operationName": "Microsoft.Cdn/Profiles/AccessLog/Write",
        "properties": {
            "trackingReference": "0k1y5YQAAAAAWd0Uc6Uc",
            "httpMethod": "GET",
            "httpVersion": "2.0.0.0",
            "requestUri": "https://news.example.kz:443/a?b=1",
            "hostName": "news.example.kz",
            "requestBytes": "97",
            "responseBytes": "5120",
            "userAgent": "Mozilla/5.0 (compatible; GPTBot/1.2)",
            "clientIp": "198.51.100.4",
            "clientPort": "50382",
            "socketIp": "203.0.113.9",
            "timeTaken": "0.012",
            "requestProtocol": "HTTPS",
            "httpStatusCode": "304",
            "pop": "FRA",
            "cacheStatus": "HIT",
        },
        "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/NEWS/PROVIDERS/MICROSOFT.CDN/PROFILES/NEWS",
        "time": "2026-10-01T10:00:00.1234567Z",
    },
    separators=(",", ":"),
)


@pytest.mark.parametrize(
    ("line", "fmt", "expected"),
    [
        (
            ELB_LINE,
            "elb",
            {
                "client_ip": "203.0.113.9",
                "host": "news.example.kz",
                "method": "GET",
                "path": "/a?b=1",
                "status": 200,
                "bytes": 57,
                "user_agent": "Mozilla/5.0 (compatible; GPTBot/1.2)",
                "ts": datetime(2026, 10, 1, 10, 0, 0, 945958, tzinfo=UTC),
            },
        ),
        (
            S3_LINE,
            "s3",
            {
                "client_ip": "203.0.113.9",
                "host": "news.example.kz",  # the Host header, not the bucket
                "path": "/a?b=1",
                "status": 200,
                "bytes": 512,
                "referer": "https://chatgpt.com/",
                "user_agent": "Mozilla/5.0 (X11)",
                "ts": datetime(2026, 10, 1, 5, tzinfo=UTC),
            },
        ),
        (
            # before 2019 no fields after the user agent; "-" bytes: none sent (a 304)
            S3_LINE.split(' "https://')[0].replace("200 - 512", "304 - -") + ' "-" "curl/8.0"',
            "s3",
            {"host": None, "referer": None, "user_agent": "curl/8.0", "status": 304, "bytes": 0},
        ),
        (
            VHOST_COMMON_LINE,
            "vhost_common",
            {"host": "news.example.kz", "client_ip": "203.0.113.9", "status": 404, "bytes": 0, "user_agent": None},
        ),
        (
            BUNNY_LINE,
            "bunny",
            {
                "client_ip": "2001:db8::7",
                "host": "news.example.kz",  # from the URL
                "method": None,  # not logged
                "path": "/a?b=1",
                "status": 200,
                "bytes": 5120,
                "referer": "https://chatgpt.com/",
                "user_agent": "Mozilla/5.0 (compatible; GPTBot/1.2) |x",
                "ts": datetime(2026, 10, 1, 10, 0, 0, 123000, tzinfo=UTC),
            },
        ),
        (
            AKAMAI_LINE,
            "akamai_ds2",
            {
                "client_ip": "203.0.113.9",
                "forwarded_for": "198.51.100.4",
                "host": "news.example.kz",
                "method": "GET",
                "path": "/a?b=1",
                "status": 200,
                "bytes": 5120,
                # decoded once: a %25 is a %; bytes that are no UTF-8 as \\xHH, as everywhere
                "referer": "https://chatgpt.com/?q=100%25",
                "user_agent": "Mozilla/5.0 (compatible; GPTBot/1.2) \u0416\\xff",
                "content_type": "text/html; charset=utf-8",
                "ts": datetime(2026, 10, 1, 10, 0, 0, 123000, tzinfo=UTC),
            },
        ),
        (
            GCP_LINE,
            "gcp_http",
            {
                "client_ip": "2001:db8::7",
                "host": "news.example.kz",  # from the URL
                "method": "GET",
                "path": "/a?b=1&utm_source=x",
                "status": 200,
                "bytes": 5120,
                "referer": "https://chatgpt.com/",
                "user_agent": "Mozilla/5.0 (compatible; GPTBot/1.2)",
                "ts": datetime(2026, 10, 1, 10, 0, 0, 123456, tzinfo=UTC),
            },
        ),
        (
            AZURE_LINE,
            "azure_frontdoor",
            {
                "client_ip": "203.0.113.9",  # the address that connected
                "forwarded_for": "198.51.100.4",  # clientIp: an X-Forwarded-For header's, when one came
                "host": "news.example.kz",
                "method": "GET",
                "path": "/a?b=1",
                "status": 304,
                "bytes": 5120,
                "referer": None,
                "ts": datetime(2026, 10, 1, 10, 0, 0, 123456, tzinfo=UTC),
            },
        ),
    ],
)
def test_load_balancer_cdn_bucket_and_virtual_host_layouts(line: str, fmt: str, expected: dict[str, object]) -> None:
    assert sniff_format(pl.Series([line] * 3)) == (fmt, 3)
    [row] = Parser(PRESETS[fmt]).parse(pl.Series([line]), 1).parsed.to_dicts()
    for key, value in expected.items():
        assert row[key] == value, key


def test_cloud_request_logs_are_verified_by_the_address_that_connected(site: Ledger, tmp_path: Path) -> None:
    """Google Cloud's and Azure Front Door's exported request logs, sniffed and ingested: GPTBot from one of
    OpenAI's addresses is verified; on Front Door, a clientIp in OpenAI's range that an X-Forwarded-For
    header gave while another address connected does not make the fetch verified (it is spoofed), and is
    kept as the forwarded address. The ChatGPT referral on Google Cloud's line is counted."""
    openai = first_address("openai-gptbot")

    def gcp(ip: str, when: str, referer: str | None = None) -> str:
        entry = json.loads(GCP_LINE)
        entry["httpRequest"] |= {"remoteIp": ip, "userAgent": GPTBOT, "requestUrl": "https://example.com/a"}
        entry["timestamp"] = when
        if referer is None:
            del entry["httpRequest"]["referer"]
        else:
            entry["httpRequest"] |= {"userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0", "referer": referer}
        return json.dumps(entry)

    def azure(socket: str, client: str, when: str) -> str:
        entry = json.loads(AZURE_LINE)
        entry["properties"] |= {"socketIp": socket, "clientIp": client, "userAgent": GPTBOT, "hostName": "example.com"}
        entry["properties"] |= {"requestUri": "https://example.com:443/b", "httpStatusCode": "200"}
        entry["time"] = when
        return json.dumps(entry)

    google = tmp_path / "requests.json"
    referred = gcp("203.0.113.9", "2026-10-01T10:00:01Z", "https://chatgpt.com/")
    google.write_text(gcp(openai, "2026-10-01T10:00:00.5Z") + "\n" + referred + "\n")
    front_door = tmp_path / "frontdoor.json"
    front_door.write_text(
        azure(openai, "198.51.100.4", "2026-10-01T11:00:00.1234567Z")
        + "\n"
        + azure("198.51.100.4", openai, "2026-10-01T11:00:01.1234567Z")
        + "\n"
    )
    results = ingest_paths(site, [str(google), str(front_door)], outlet="site")
    assert [(r.format, r.lines, r.parsed, r.ai_fetches, r.referrals) for r in results] == [
        ("gcp_http", 2, 2, 1, 1),
        ("azure_frontdoor", 2, 2, 2, 0),
    ]
    rows = site.rows("SELECT ts, host, path, client_ip, forwarded_for, bot, verification FROM fetches ORDER BY ts")
    assert rows == [
        {
            "ts": datetime(2026, 10, 1, 10, 0, 0, 500000, tzinfo=UTC),
            "host": "example.com",
            "path": "/a",
            "client_ip": openai,
            "forwarded_for": None,
            "bot": "GPTBot",
            "verification": "verified",
        },
        {
            "ts": datetime(2026, 10, 1, 11, 0, 0, 123456, tzinfo=UTC),
            "host": "example.com",
            "path": "/b",
            "client_ip": openai,
            "forwarded_for": "198.51.100.4",
            "bot": "GPTBot",
            "verification": "verified",
        },
        {
            "ts": datetime(2026, 10, 1, 11, 0, 1, 123456, tzinfo=UTC),
            "host": "example.com",
            "path": "/b",
            "client_ip": "198.51.100.4",
            "forwarded_for": openai,
            "bot": "GPTBot",
            "verification": "spoofed",
        },
    ]
    assert site.rows("SELECT product, path FROM referrals") == [{"product": "ChatGPT", "path": "/a"}]


@pytest.mark.parametrize("triage", [True, False], ids=["triage", "every line typed"])
def test_akamai_user_agents_and_referers_are_read_url_decoded(site: Ledger, tmp_path: Path, triage: bool) -> None:
    """DataStream 2 writes the user agent and the referer URL-encoded: GPTBot is known and verified by its
    address, and a referer from ChatGPT counts, with the triage and without it."""
    openai = first_address("openai-gptbot")

    def record(ip: str, agent: str, referer: str | None, when: str) -> str:
        entry = json.loads(AKAMAI_LINE)
        entry |= {"cliIP": ip, "UA": quote(agent, safe=""), "reqHost": "example.com", "reqTimeSec": when}
        del entry["xForwardedFor"]
        if referer is None:
            del entry["referer"]  # DataStream leaves out what it has no value for
        else:
            entry["referer"] = quote(referer, safe="")
        return json.dumps(entry)

    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
    path = tmp_path / "ds2.json"
    path.write_text(
        record(openai, GPTBOT, None, "1790848800")
        + "\n"
        + record("203.0.113.9", firefox, "https://chatgpt.com/", "1790848801.5")
        + "\n"
    )
    [result] = ingest_paths(site, [str(path)], outlet="site", triage=triage)
    assert (result.format, result.lines, result.parsed, result.ai_fetches, result.referrals) == (
        "akamai_ds2",
        2,
        2,
        1,
        1,
    )
    assert site.rows("SELECT user_agent, client_ip, bot, verification FROM fetches") == [
        {"user_agent": GPTBOT, "client_ip": openai, "bot": "GPTBot", "verification": "verified"}
    ]
    assert site.rows("SELECT product, ts FROM referrals") == [
        {"product": "ChatGPT", "ts": datetime(2026, 10, 1, 10, 0, 1, 500000, tzinfo=UTC)}
    ]


def test_vhost_common_is_not_taken_for_a_neighbouring_layout() -> None:
    """Common, combined and vhost_combined lines each keep their own preset (vhost_common has no user agent:
    taking a vhost_combined log for it would lose them)."""
    vhost_combined = 'news.example.kz 203.0.113.9 - - [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 200 5 "-" "X/1"'
    common = '203.0.113.9 - - [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 200 5'
    for line, fmt in [(vhost_combined, "vhost_combined"), (common, "common"), (CLF_LINE, "combined")]:
        assert sniff_format(pl.Series([line] * 3))[0] == fmt


APACHE_COMBINED = r"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\""  # as in httpd.conf
APACHE_PLAIN = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"'
NGINX_PLAIN = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'
)


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            {"fmt": "combined"},
            "no line parses as the 'combined' format from line 1 on ('junk line 0'); tried combined. Check that "
            "--format names this log's format",
        ),
        (
            {"log_format": APACHE_COMBINED},
            "no line parses with the --log-format string from line 1 on ('junk line 0'); tried custom. Check the "
            "string against the server's own configuration",
        ),
    ],
)
@pytest.mark.parametrize(
    ("bad", "then", "fails"),
    [
        (1000, 5, True),  # the first 1,000 lines decide: none of them parses
        (999, 5, False),  # the 1,000th does: the junk before it is rejected line by line
        (3, 0, True),  # a short file, none of it parses
    ],
)
def test_a_format_given_fails_when_none_of_the_first_lines_parse(
    site: Ledger, tmp_path: Path, options: dict[str, str], said: str, bad: int, then: int, fails: bool
) -> None:
    """The message names the format the user gave and what to check, not "pass --format" (they did)."""
    path = tmp_path / "given.log"
    path.write_text("".join(f"junk line {k}\n" for k in range(bad)) + (CLF_LINE + "\n") * then)
    if fails:
        with pytest.raises(FormatDetectionError) as raised:
            ingest_paths(site, [str(path)], outlet="site", **options)  # type: ignore[arg-type]
        assert said in str(raised.value)
        assert "Pass --format" not in str(raised.value)
        assert site.rows("SELECT count(*) AS n FROM uploads")[0]["n"] == 0
        assert site.rows("SELECT count(*) AS n FROM rejects")[0]["n"] == 0
    else:
        [result] = ingest_paths(site, [str(path)], outlet="site", **options)  # type: ignore[arg-type]
        assert (result.lines, result.parsed, result.rejected) == (bad + then, then, bad)


@pytest.mark.parametrize("options", [{}, {"fmt": "combined"}])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("\n \n\t\n", "blank.log: its 3 lines are all blank; nothing to ingest"),
        (
            "\n" * 1500 + CLF_LINE + "\n",
            "blank.log: its first 1,000 lines are all blank, so its format cannot be told from them; remove the "
            "blank lines at its start",
        ),
    ],
)
def test_a_file_of_blank_lines_says_so(
    site: Ledger, tmp_path: Path, options: dict[str, str], text: str, message: str
) -> None:
    """It said "no known log format matches line 1 ('')" with the fourteen formats tried."""
    path = tmp_path / "blank.log"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        ingest_paths(site, [str(path)], outlet="site", **options)  # type: ignore[arg-type]
    assert message in str(raised.value) and "tried" not in str(raised.value)
    assert site.rows("SELECT count(*) AS n FROM uploads")[0]["n"] == 0


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [
        (
            "aws-alb-logs__aws-alb-logs.log",
            "alb",
            {
                "client_ip": "192.168.1.10",
                "host": "www.example.com",
                "path": "/",
                "method": "GET",
                "status": 200,
                "bytes": 366,
                "user_agent": "curl/7.46.0",
                "ts": datetime(2023, 4, 26, 12, 22, 55, 463821, tzinfo=UTC),
            },
        ),
        (
            "fastly-logs__fastly-logs.log",
            "fastly",
            {
                "client_ip": "1.2.3.4",
                "host": "fastly.mydomain.com",
                "path": "/zVnC16Tl.exe",
                "status": 404,
                "bytes": 564,
                "referer": None,
                "ts": datetime(2021, 11, 12, 16, 59, 45, tzinfo=UTC),
            },
        ),
        (
            "caddy-logs__caddy-logs.log",
            "caddy",
            {
                "client_ip": "127.0.0.1",
                "host": "127.0.0.1",
                "path": "/",
                "user_agent": "curl/7.74.0",
            },
        ),
        (
            "traefik_json__traefik_json.log",
            "traefik_json",
            {
                "client_ip": "172.17.0.1",
                "host": "test.docker.localhost",
                "path": "/594VAEoi.save",
                "status": 200,
                "bytes": 357,
            },
        ),
        (
            "haproxy-logs__haproxy-logs.log",
            "haproxy",
            {
                "client_ip": "117.136.40.129",
                "method": "GET",
                "path": "/xxx/xxx",
                "status": 200,
                "bytes": 739,
                "ts": datetime(2015, 1, 14, 12, 48, 57, 127000, tzinfo=UTC),
                "user_agent": None,
            },
        ),
        (
            "envoy-logs__envoy.log",
            "envoy",
            {
                "client_ip": "10.0.0.12",  # downstream_remote_address, its port off
                "host": "www.example.com",  # :authority
                "method": "GET",
                "path": "/assets/image.webp",  # x-envoy-origin-path
                "status": 200,
                "bytes": 121258,
                "user_agent": "Mozilla/4.0 (Windows NT 9.0; Win64; x64; rv:136.0) Gecko/20101 Firefox/136.0",
                "ts": datetime(2025, 12, 31, 16, 37, 40, 479000, tzinfo=UTC),
            },
        ),
        (
            "aws-cloudfront-logs__aws-cloudfront-logs.log",
            "cloudfront",
            {
                "client_ip": "1.2.3.4",
                "host": "hub-cdn.crowdsec.net",
                "path": "/testseb?query_param=42",
                "status": 400,
                "user_agent": "curl/7.81.0",
                "content_type": "text/plain; charset=utf-8",
            },
        ),
    ],
)
def test_first_line_fields(name: str, fmt: str, expected: dict[str, object]) -> None:
    lines = pl.Series((FIXTURES / name).read_text().splitlines())
    row = Parser(PRESETS[fmt]).parse(lines, 1).parsed.to_dicts()[0]
    for key, value in expected.items():
        assert row[key] == value, key


@pytest.mark.parametrize("fmt", list(PRESETS))
def test_counting_the_lines_that_parse_agrees_with_parsing_them(fmt: str) -> None:
    """Sniffing counts each preset's parsed lines without typing them: the count must be the parse's, on
    every fixture (lines of other formats, comments and fields headers, bad times and truncated lines
    among them). A forked parser for W3C, whose #Fields carry from line to line."""
    cloudflare = (
        '{"ClientIP":"203.0.113.9","ClientRequestHost":"news.example.kz","ClientRequestURI":"/a",'
        '"ClientRequestUserAgent":"GPTBot/1.1","EdgeResponseStatus":200,"EdgeStartTimestamp":"2026-10-01T10:00:00Z"}'
    )
    nginx = '{"time_iso8601":"2026-10-01T10:00:00+05:00","request":"GET /a HTTP/1.1","status":"200","host":"a.kz"}'
    made = [cloudflare, cloudflare.replace("2026-10-01T", "yesterday "), nginx, nginx.replace("+05:00", " local")]
    made += [ELB_LINE, ELB_LINE.replace("T10:", " 10:"), S3_LINE, S3_LINE[:300], VHOST_COMMON_LINE]
    made += [GCP_LINE, GCP_LINE.replace("2026-10-01T", "now ")]
    made += [BUNNY_LINE, BUNNY_LINE.replace("|1790848800123|", "|179084880x|")]
    made += [AKAMAI_LINE, AKAMAI_LINE.replace('"1790848800.123"', '"soon"')]
    made += [AZURE_LINE, AZURE_LINE.replace('"time":"2026', '"time":"x')]
    samples = {path.name: path.read_bytes().decode("utf-8", "replace").splitlines() for path in FIXTURES.iterdir()}
    matched = 0
    for name, text in sorted({**samples, "made": made}.items()):
        lines = pl.Series(text)
        parsed = Parser(PRESETS[fmt]).parse(lines, 7).parsed
        assert counted_lines(fmt, lines, 7) == sorted(parsed["line_no"].to_list()), name
        assert Parser(PRESETS[fmt]).count(lines, 7) == parsed.height, name
        matched += parsed.height
    assert matched  # each preset parses some fixture: the counts compared are not all zero


def counted_lines(fmt: str, lines: pl.Series, first_line: int = 1) -> list[int]:
    """The line numbers ``Parser.parses`` says parse (line by line, as sniffing counts them per file)."""
    return (np.flatnonzero(Parser(PRESETS[fmt]).parses(lines, first_line)) + first_line).tolist()


def test_sniffing_files_together_chooses_for_each_what_it_alone_would_give() -> None:
    """Small files read together (``ingest._Pack``) have their formats sniffed together: each preset's
    pattern tried and its lines counted over every file's sample at once, W3C file by file. Every fixture's
    first 1,000 lines (several formats, W3C directives, junk, a file of blank lines), in two orders."""
    samples = [
        pl.Series(path.read_bytes().decode("utf-8", "replace").splitlines()[:1000])
        for path in sorted(FIXTURES.iterdir())
        if path.suffix != ".md"
    ]
    samples += [pl.Series(["", "  "]), pl.Series(["no log here"]), samples[0].head(3), samples[-1].tail(5)]
    # W3C lines before the file's own #Fields (not read with the fields of the file before it)
    w3c = (FIXTURES / "logfile_w3c.2").read_text().splitlines()
    samples += [pl.Series(w3c), pl.Series(["16:50:01 1.1.1.1 GET /a 200"] * 2 + w3c)]
    alone = [sniff_format(sample) for sample in samples]
    assert sniff_formats(samples) == alone
    assert sniff_formats(samples[::-1]) == alone[::-1]
    assert len({name for name, _ in alone}) > 8 and (None, 0) in alone  # several formats, and none


def sniffed_by_trying_every_format(sample: pl.Series) -> tuple[str | None, int]:
    """``sniff_format``'s rule with every preset tried, none skipped: the lines each preset whose pattern
    hits some line parses, and the first preset within half of the best count."""
    sample = sample.filter(sample.str.strip_chars() != "")
    counts = {name: Parser(fmt).count(sample) for name, fmt in PRESETS.items() if sample.str.contains(fmt.sniff).any()}
    best = max(counts.values(), default=0)
    if best == 0:
        return None, 0
    chosen = next(name for name in PRESETS if counts.get(name, 0) >= best / 2)
    return chosen, counts[chosen]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(FIXTURE_LINES), min_size=1, max_size=24))
def test_sniffing_stops_only_where_the_formats_left_cannot_change_its_choice(lines: list[bytes]) -> None:
    """Sniffing tries the presets in order and stops for a file once the later ones cannot change the
    choice (a combined log with a few bad lines does not try common, last): mixes of the fixtures' lines,
    where several presets parse a part each, choose what trying every preset chooses."""
    sample = pl.Series([line.decode("utf-8", "replace") for line in lines])
    assert sniff_format(sample) == sniffed_by_trying_every_format(sample)


MIXED = {  # fixtures of four presets, in the order sniffing tries them
    "caddy": "caddy-logs__caddy-logs.log",
    "alb": "aws-alb-logs__aws-alb-logs.log",
    "haproxy": "logfile_haproxy.0",
    "combined": "apache2-malformed__apache2-logs.log",
}


def parsed_lines_of(fmt: str) -> pl.Series:
    """The lines of the preset's fixture (``MIXED``) that it parses."""
    lines = pl.Series((FIXTURES / MIXED[fmt]).read_bytes().decode("utf-8", "replace").splitlines())
    return lines.gather(Parser(PRESETS[fmt]).parse(lines, 0).parsed["line_no"])


@pytest.mark.parametrize(("first", "later"), list(itertools.combinations(MIXED, 2)))
def test_sniffing_a_mix_of_two_formats_chooses_what_trying_every_format_chooses(first: str, later: str) -> None:
    """From one line in ten of the format tried first to nine: around the tolerance, where the format
    tried first wins or loses by what the later one parses, sniffing must not have stopped before it."""
    early, late = parsed_lines_of(first), parsed_lines_of(later)
    for k in range(1, 10):
        sample = pl.concat([early.extend_constant(early[0], k).head(k), late.extend_constant(late[0], 10).head(10 - k)])
        assert sniff_format(sample) == sniffed_by_trying_every_format(sample), k


def test_sniffing_a_combined_log_with_bad_lines_leaves_the_formats_after_combined_untried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    combined = '1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"'
    sample = pl.Series([combined] * 9 + ["\\x16\\x03\\x01 not a request"])
    assert sniffed_by_trying_every_format(sample) == ("combined", 9)
    tried: list[str] = []
    count = Parser.parses

    def counting(parser: Parser, lines: pl.Series, first_line: int = 1) -> np.ndarray:
        tried.append(parser.fmt.name)
        return count(parser, lines, first_line)

    monkeypatch.setattr(Parser, "parses", counting)
    assert sniff_format(sample) == ("combined", 9)
    assert "combined" in tried and "common" not in tried


def parse_lines(fmt: str, lines: list[str]) -> pl.DataFrame:
    result = Parser(PRESETS[fmt]).parse(pl.Series(lines), 1)
    assert result.rejects.height == 0, result.rejects.to_dicts()
    return result.parsed


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ('"2026-10-01T10:00:00Z"', datetime(2026, 10, 1, 10, tzinfo=UTC)),
        ("1759312800", datetime(2025, 10, 1, 10, tzinfo=UTC)),  # unix seconds
        ("1759312800123456789", datetime(2025, 10, 1, 10, 0, 0, 123457, tzinfo=UTC)),  # unix nanoseconds
        ('"2026-10-01T15:00:00+05:00"', datetime(2026, 10, 1, 10, tzinfo=UTC)),
    ],
)
def test_cloudflare_timestamps_in_every_logpush_format(stamp: str, expected: datetime) -> None:
    line = (
        '{"ClientIP":"203.0.113.9","ClientRequestHost":"News.Example.KZ","ClientRequestMethod":"GET",'
        '"ClientRequestURI":"/a?utm_source=x","ClientRequestUserAgent":"Mozilla/5.0","ClientRequestReferer":"",'
        f'"EdgeResponseStatus":200,"EdgeResponseBytes":512,"EdgeResponseContentType":"text/html","EdgeStartTimestamp":{stamp}}}'
    )
    row = parse_lines("cloudflare", [line]).to_dicts()[0]
    assert row["ts"] == expected
    assert (row["host"], row["path"], row["status"], row["bytes"], row["content_type"]) == (
        "news.example.kz",
        "/a?utm_source=x",
        200,
        512,
        "text/html",
    )
    assert row["referer"] is None


def test_nginx_json_with_aliases_and_a_request_line() -> None:
    line = (
        '{"time_iso8601":"2026-10-01T15:00:00+05:00","remote_addr":"203.0.113.9","host":"news.example.kz",'
        '"request":"GET /a HTTP/1.1","status":"200","body_bytes_sent":"512","http_referer":"https://chatgpt.com/",'
        '"http_user_agent":"Mozilla/5.0"}'
    )
    matomo = (
        '{"ip": "1.2.3.4","host": "www.piwik.org","path": "/piwik.php?x=1","status": "200",'
        '"referrer": "http://clearcode.cc/","user_agent": "Mozilla/5.0","length": 192,'
        '"date": "2013-10-10T16:52:00+02:00"}'
    )
    rows = parse_lines("nginx_json", [line, matomo]).to_dicts()
    assert (rows[0]["method"], rows[0]["path"], rows[0]["referer"]) == ("GET", "/a", "https://chatgpt.com/")
    assert rows[1]["ts"] == datetime(2013, 10, 10, 14, 52, tzinfo=UTC) and rows[1]["bytes"] == 192


def test_cloudfront_user_agents_are_url_decoded_once_or_twice() -> None:
    header = (
        "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer)"
        " cs(User-Agent) cs-uri-query x-host-header"
    )
    start = "2026-10-01\t10:00:00\tALA1\t512\t203.0.113.9\tGET\td1.cloudfront.net"
    once = f"{start}\t/a\t200\t-\tMozilla/5.0%20(compatible;%20GPTBot/1.1)\t-\tnews.example.kz"
    twice = f"{start}\t/b\t200\t-\tMozilla/5.0%2520(X11)\tq=1\tnews.example.kz"
    result = Parser(PRESETS["cloudfront"]).parse(pl.Series([header, once, twice]), 1)
    rows = result.parsed.to_dicts()
    assert [r["user_agent"] for r in rows] == ["Mozilla/5.0 (compatible; GPTBot/1.1)", "Mozilla/5.0 (X11)"]
    assert [r["host"] for r in rows] == ["news.example.kz"] * 2  # the viewer's Host, not the distribution
    assert rows[1]["path"] == "/b?q=1"
    assert result.rejects["reason"].to_list() == ["W3C directive line (#Fields, #Version, ...): not a request"]


def test_w3c_date_and_time_apart_and_a_streaming_servers_client_status() -> None:
    """SHOUTcast and Windows Media name the status ``c-status``; the date and the time may be far apart,
    and no #Software or #Version come first (Matomo's split date and time sample has this layout)."""
    header = "#Fields: c-ip c-dns date cs-uri-stem c-status cs(User-Agent) sc-bytes x-duration time"
    line = "203.0.113.9 5.6.7.8 2026-10-01 /stream?title=a 200 NSPlayer/10.0 65580 1 10:37:05"
    result = Parser(PRESETS["w3c"]).parse(pl.Series([header, line]), 1)
    [row] = result.parsed.to_dicts()
    assert row["ts"] == datetime(2026, 10, 1, 10, 37, 5, tzinfo=UTC)
    assert (row["client_ip"], row["status"], row["bytes"]) == ("203.0.113.9", 200, 65580)
    assert (row["path"], row["user_agent"]) == ("/stream?title=a", "NSPlayer/10.0")
    both = "#Fields: date time c-ip cs-uri-stem sc-status c-status"  # sc-status, the server's, wins
    lines = pl.Series([both, "2026-10-01 10:00:00 203.0.113.9 /a 404 200"])
    [row] = Parser(PRESETS["w3c"]).parse(lines, 1).parsed.to_dicts()
    assert row["status"] == 404


def test_w3c_fields_carry_over_from_one_batch_to_the_next() -> None:
    parser = Parser(PRESETS["w3c"])
    first = parser.parse(
        pl.Series(["#Date: 2026-10-01 00:00:00", "#Fields: time c-ip cs-method cs-uri-stem sc-status"]), 1
    )
    second = parser.parse(pl.Series(["10:00:00 203.0.113.9 GET /a 200"]), 3)
    assert first.parsed.height == 0 and second.parsed.to_dicts()[0]["ts"] == datetime(2026, 10, 1, 10, tzinfo=UTC)


W3C_DIRECTIVES = [
    "#Date: 2026-10-01 00:00:00",
    "#Fields: time c-ip cs-method cs-uri-stem sc-status",
    "#GMT-Offset: +0500",
    "#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)",
    "#Date: malformed",
    "#GMT-Offset: -03:30",
    "#Date: 2026-10-02 00:00:00",
    "#Fields: time c-ip cs-method cs-uri-stem sc-status",
]


def w3c_log(lines: int, seed: int) -> list[str]:
    """Requests interleaved with directives that change the columns, the date and the offset."""
    rnd = random.Random(seed)
    out: list[str] = []
    names = ""
    while len(out) < lines:
        if rnd.random() < 0.1:
            out.append(rnd.choice(W3C_DIRECTIVES))
            if out[-1].startswith("#Fields:"):
                names = out[-1]
            continue
        n = rnd.randrange(1, 250)
        if "date" in names:
            out.append(f"2026-10-03 10:00:{n % 60:02d} 203.0.113.{n} GET /p{n} 200 Mozilla/5.0+(X11)")
        else:
            out.append(f"10:00:{n % 60:02d} 203.0.113.{n} GET /p{n} 200")
    return out


@pytest.mark.parametrize("seed", range(5))
def test_w3c_batches_parsed_apart_give_what_one_pass_gives(seed: int) -> None:
    lines = pl.Series(w3c_log(400, seed))
    whole = Parser(PRESETS["w3c"]).parse(lines, 1)
    parser = Parser(PRESETS["w3c"])
    cuts = [0, 37, 38, 120, 121, 250, 400]
    forks = [(parser.fork(lines[a:b]), a) for a, b in itertools.pairwise(cuts)]  # state handed out in order
    parts = [fork.parse(lines[a:b], a + 1) for (fork, a), b in reversed(list(zip(forks, cuts[1:], strict=True)))]
    assert pl.concat([p.parsed for p in parts]).sort("line_no").equals(whole.parsed)
    assert pl.concat([p.rejects for p in parts]).sort("line_no").equals(whole.rejects)
    assert whole.parsed.height > 200 and whole.parsed["ts"].n_unique() > 50


@pytest.mark.parametrize(
    ("format_string", "line", "expected"),
    [
        (
            '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
            '"$http_user_agent" $host $request_time',
            '203.0.113.9 - - [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 200 12 "-" "GPTBot/1.1" News.kz 0.004',
            {"host": "news.kz", "user_agent": "GPTBot/1.1", "path": "/a"},
        ),
        (
            '$http_x_forwarded_for - [$time_iso8601] "$request_method $request_uri $server_protocol" $status '
            '$bytes_sent "$http_user_agent"',
            '198.51.100.4, 10.0.0.1 - [2026-10-01T10:00:00+00:00] "GET /b HTTP/2.0" 404 0 "curl/8"',
            {"forwarded_for": "198.51.100.4, 10.0.0.1", "method": "GET", "path": "/b", "status": 404},
        ),
        (
            '%a %l %u %t "%m %U%q %H" %>s %B "%{Referer}i" "%{User-Agent}i" %{Host}i',
            '203.0.113.9 - - [01/Oct/2026:10:00:00 +0000] "GET /c?x=1 HTTP/1.1" 200 5 "-" "x" news.kz',
            {"method": "GET", "path": "/c?x=1", "host": "news.kz"},
        ),
        (  # the content type is the response's (%{...}o), not the request's (%{...}i)
            '%h %t "%r" %>s %b "%{Content-Type}i" "%{Content-Type}o" "%{User-Agent}i"',
            '203.0.113.9 [01/Oct/2026:10:00:00 +0000] "GET /d HTTP/1.1" 200 5 "application/json" '
            '"text/html; charset=utf-8" "x"',
            {"content_type": "text/html; charset=utf-8", "user_agent": "x"},
        ),
    ],
)
def test_custom_format_strings(format_string: str, line: str, expected: dict[str, object]) -> None:
    fmt = custom_layout(format_string)
    row = parse_batch(pl.Series([line]), 1, fmt).parsed.to_dicts()[0]
    for key, value in expected.items():
        assert row[key] == value, key


REQUEST = '"GET /a HTTP/1.1" 200 5'


@pytest.mark.parametrize(
    ("format_string", "line", "utc"),
    [
        # Apache's own example (mod_log_config): a time in parts, with milliseconds and the offset apart
        (
            '%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] "%r" %>s %b',
            f"203.0.113.9 [15/Oct/2026 12:00:00.123 +0500] {REQUEST}",
            datetime(2026, 10, 15, 7, 0, 0, 123000, tzinfo=UTC),
        ),
        (
            '%h [%{%Y-%m-%d %H:%M:%S}t.%{usec_frac}t%{%z}t] "%r" %>s %b',
            f"203.0.113.9 [2026-10-15 12:00:00.000042-0130] {REQUEST}",
            datetime(2026, 10, 15, 13, 30, 0, 42, tzinfo=UTC),
        ),
        (
            '%h %{begin:%a, %d %b %Y %H:%M:%S %z}t "%r" %>s %b',
            f"203.0.113.9 Thu, 15 Oct 2026 12:00:00 +0000 {REQUEST}",
            datetime(2026, 10, 15, 12, tzinfo=UTC),
        ),
        ('%h %{sec}t "%r" %>s %b', f"203.0.113.9 1792065600 {REQUEST}", datetime(2026, 10, 15, 12, tzinfo=UTC)),
        (
            '%h %{end:msec}t "%r" %>s %b',
            f"203.0.113.9 1792065600250 {REQUEST}",
            datetime(2026, 10, 15, 12, 0, 0, 250000, tzinfo=UTC),
        ),
        (
            '%h %{usec}t "%r" %>s %b',
            f"203.0.113.9 1792065600000007 {REQUEST}",
            datetime(2026, 10, 15, 12, 0, 0, 7, tzinfo=UTC),
        ),
        # no %z: Apache wrote the server's local time, read as UTC (docs/formats.md)
        (
            '%h %{%F %T}t "%r" %>s %b',
            f"203.0.113.9 2026-10-15 12:00:00 {REQUEST}",
            datetime(2026, 10, 15, 12, tzinfo=UTC),
        ),
        (
            '%h [%{%e/%m/%y %I:%M:%S %p}t] "%r" %>s %b',
            f"203.0.113.9 [ 5/10/26 01:00:00 PM] {REQUEST}",
            datetime(2026, 10, 5, 13, tzinfo=UTC),
        ),
    ],
)
def test_apache_time_formats_are_read(format_string: str, line: str, utc: datetime) -> None:
    """%{format}t (strftime codes, or sec/msec/usec; msec_frac/usec_frac beside another part; begin: or
    end:) used to be refused; a LogFormat copied from the server's configuration now reads its times."""
    parsed = parse_batch(
        pl.Series([line, line.replace("203.0.113.9 ", "203.0.113.9 x")]), 1, custom_layout(format_string)
    )
    assert parsed.parsed["ts"].to_list() == [utc]
    assert parsed.parsed["path"].to_list() == ["/a"]
    assert parsed.rejects["line_no"].to_list() == [2]  # a time that is not in its format: a reject, not a crash


@pytest.mark.parametrize(
    ("format_string", "message"),
    [
        ('%h %{%Q}t "%r"', r"'%Q' in '%\{%Q\}t' is not a strftime code the parser reads \(allowed: %Y, "),
        ('%h %{sec}t %{%z}t "%r"', "%{sec}t, %{msec}t and %{usec}t cannot be combined with other time formats"),
        ('%h %t %{%z}t "%r"', "the time is written twice: use either %t or %{format}t"),
        ('%h %{%H:%M:%S}t "%r"', "has no year"),
        ('%h %{%Y}t %u %{%m}t "%r"', "a time written in several %{format}t parts can only have text between them"),
        ('%h %{%Y %}t "%r"', "ends with a lone %"),
    ],
)
def test_apache_time_formats_the_parser_cannot_read_are_refused_with_the_reason(
    format_string: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message) if "allowed" not in message else message) as raised:
        custom_layout(format_string)
    assert str(raised.value).startswith(f"{format_string}: ")  # the key: the format string given


def test_an_apache_time_format_ingests_from_the_command_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """End to end: `royalty ingest --log-format` with Apache's millisecond LogFormat, as configured."""
    log = tmp_path / "access.log"
    agent = "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)"
    log.write_text(
        f'203.0.113.9 [31/Oct/2026 23:30:00.500 -0100] "GET /news/1 HTTP/1.1" 200 5 "-" "{agent}"\n'
        f'203.0.113.9 [31/Oct/2026 23:30:01.500 -0100 "GET /news/2 HTTP/1.1" 200 5 "-" "{agent}"\n'
    )
    assert cli("outlets", "add", "dala", "--name", "Dala", "--domain", "dala.kz").code == 0
    layout = r"%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\""
    done = cli("ingest", str(log), "--outlet", "dala", "--log-format", layout, "--json")
    assert done.code == 0, done.err
    [result] = [json.loads(row) for row in done.out.splitlines()]
    assert (result["lines"], result["parsed"], result["rejected"]) == (2, 1, 1)
    with Ledger(tmp_path / "cli.duckdb") as ledger:  # 23:30 at -01:00 is the next day in UTC
        assert ledger.rows("SELECT ts, path FROM fetches") == [
            {"ts": datetime(2026, 11, 1, 0, 30, 0, 500000, tzinfo=UTC), "path": "/news/1"}
        ]


@pytest.mark.parametrize(
    ("as_configured", "plain"),
    [
        # Apache: LogFormat "%h %l %u %t \"%r\" ..." combined, copied from between its quotes
        (r"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"", APACHE_PLAIN),
        # nginx: log_format main "..." in double quotes
        (
            r"$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" "
            r"\"$http_user_agent\"",
            NGINX_PLAIN,
        ),
        (r"%h\t%t\t\"%r\"\t%>s", '%h\t%t\t"%r"\t%>s'),  # Apache's \t: a tab
    ],
)
def test_format_strings_as_they_stand_in_the_servers_configuration(as_configured: str, plain: str) -> None:
    line = (
        CLF_LINE if "\\t" not in as_configured else '203.0.113.9\t[15/Oct/2026:12:00:00 +0000]\t"GET /a HTTP/1.1"\t200'
    )
    escaped = parse_batch(pl.Series([line]), 1, custom_layout(as_configured)).parsed
    assert escaped.height == 1
    assert escaped.to_dicts() == parse_batch(pl.Series([line]), 1, custom_layout(plain)).parsed.to_dicts()
    assert custom_layout(as_configured).format_string == as_configured  # shown as the user gave it


def test_format_strings_without_time_are_refused() -> None:
    with pytest.raises(ConfigError, match="the format has no time field"):
        compile_layout("x", '$remote_addr "$request"', syntax="nginx")


def test_syslog_and_docker_prefixes_before_a_combined_line() -> None:
    base = '203.0.113.9 - - [01/Oct/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "GPTBot/1.1"'
    lines = [f"web_1  | {base}", f"Oct  1 10:00:00 host nginx: {base}", f"2026-10-01T10:00:00Z host nginx[12]: {base}"]
    rows = parse_lines("combined", lines).to_dicts()
    assert [r["client_ip"] for r in rows] == ["203.0.113.9"] * 3 and {r["user_agent"] for r in rows} == {"GPTBot/1.1"}


def test_docker_json_file_logs_are_ingested_as_the_lines_they_hold(site: Ledger, tmp_path: Path) -> None:
    """nginx in a container, logged by Docker's json-file driver: the access lines on stdout, its errors on
    stderr (rejected, with their text); one file alone and two read together (small files share batches)."""
    access = '203.0.113.9 - - [01/Oct/2026:10:00:0{} +0000] "GET /a?b=1&c=2 HTTP/1.1" 200 5 "-" "GPTBot/1.2"'
    error = "2026/10/01 10:00:00 [error] 29#29: *1 open() failed"

    def record(line: str, stream: str) -> str:  # as Docker writes it: Go's JSON escapes & as \\u0026
        text = json.dumps(
            {"log": line + "\n", "stream": stream, "time": "2026-10-01T10:00:00.1Z"}, separators=(",", ":")
        )
        return text.replace("&", "\\u0026")

    paths = []
    for n in range(3):
        path = tmp_path / f"{n}" / f"c{n}-json.log"
        path.parent.mkdir()
        records = [record(access.format(k), "stdout") for k in range(4)]
        path.write_text("\n".join([*records, record(error, "stderr")]) + "\n")
        paths.append(path)
    assert '{"log":"203.0.113.9 - - [01/Oct/2026:10:00:00 +0000] \\"GET /a?b=1\\u0026c=2' in paths[0].read_text()
    results = ingest_paths(site, [str(paths[0])], outlet="site")
    results += ingest_paths(site, [str(paths[1]), str(paths[2])], outlet="site", overlap="keep")
    assert [(r.format, r.lines, r.parsed, r.rejected, r.ai_fetches) for r in results] == [("combined", 5, 4, 1, 4)] * 3
    assert {row["compression"] for row in site.rows("SELECT compression FROM uploads")} == {"docker-json"}
    assert {row["path"] for row in site.rows("SELECT path FROM fetches")} == {"/a?b=1&c=2"}
    assert {row["raw"] for row in site.rows("SELECT raw FROM rejects")} == {error}


def test_kubernetes_container_runtime_prefix_before_a_line(site: Ledger, tmp_path: Path) -> None:
    """/var/log/pods files: the runtime's time, the stream and F (a full line) or P (a part) before each."""
    base = '203.0.113.9 - - [01/Oct/2026:10:00:00 +0500] "GET /a HTTP/1.1" 200 5 "-" "GPTBot/1.1"'
    lines = [f"2026-10-01T05:00:00.493035218Z stdout F {base}", f"2026-10-01T05:00:01.1+00:00 stderr F {base}"]
    path = tmp_path / "0.log"
    path.write_text("\n".join([*lines, "2026-10-01T05:00:02Z stdout F nginx: [warn] not a request"]) + "\n")
    [result] = ingest_paths(site, [str(path)], outlet="site")
    assert (result.format, result.parsed, result.rejected, result.ai_fetches) == ("combined", 2, 1, 2)
    rows = site.rows("SELECT ts, client_ip, path FROM fetches ORDER BY line_no")
    assert [(r["ts"], r["client_ip"], r["path"]) for r in rows] == [
        (datetime(2026, 10, 1, 5, tzinfo=UTC), "203.0.113.9", "/a")
    ] * 2
    # read as the lines after the prefix (the native splitter's way: twice as fast as the regex's), said so
    assert site.rows("SELECT compression FROM uploads")[0]["compression"] == "cri"
    assert site.rows("SELECT raw FROM rejects")[0]["raw"] == "nginx: [warn] not a request"
    # a line with the prefix among others without it: the layout's regex reads the prefix too
    mixed = tmp_path / "mixed.log"
    mixed.write_text("\n".join([base.replace("/a", "/b")] * 3 + [lines[0].replace("/a", "/c")]) + "\n")
    [result] = ingest_paths(site, [str(mixed)], outlet="site", overlap="keep")
    assert (result.format, result.parsed, result.rejected) == ("combined", 4, 0)
    assert site.rows("SELECT compression FROM uploads ORDER BY ingested_at DESC")[0]["compression"] == "none"


def test_sniffing_prefers_the_richer_layout_unless_it_parses_much_less() -> None:
    combined = '1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"'
    common = '1.2.3.4 - - [01/Oct/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1'
    assert sniff_format(pl.Series([combined] * 9 + [common]))[0] == "combined"  # one line rejected, UAs kept
    assert sniff_format(pl.Series([common] * 9 + [combined]))[0] == "common"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_every_parser_accounts_for_arbitrary_bytes(data: bytes) -> None:
    from ledger.sources import split_lines

    lines = split_lines(data + b"\n")
    for fmt in PRESETS.values():
        result = Parser(fmt).parse(lines, 1)
        assert Parser(fmt).count(lines) == result.parsed.height
        assert sorted(result.parsed["line_no"].to_list() + result.rejects["line_no"].to_list()) == list(
            range(1, lines.len() + 1)
        )


EDITS = [b'"', b"\\", b"[", b"]", b" ", b"\t", b"-", b"{", b"}", b":", b"\\x16", b"\xff", b"%", b"+0330", b'\\"']


@st.composite
def damaged_lines(draw: st.DrawFn) -> bytes:
    """A real line of some format with a few bytes inserted, cut out or moved: near misses of every
    preset, where random bytes are far from all of them."""
    line = bytearray(draw(st.sampled_from(FIXTURE_LINES)))
    for _ in range(draw(st.integers(1, 4))):
        at, other = draw(st.integers(0, len(line))), draw(st.integers(0, len(line)))
        edit = draw(st.sampled_from(["insert", "cut", "move"]))
        if edit == "insert":
            line[at:at] = draw(st.sampled_from(EDITS))
        elif edit == "cut":
            del line[at : at + draw(st.integers(1, 8))]
        else:
            line[min(at, other) :] = line[max(at, other) :] + line[min(at, other) : max(at, other)]
    return bytes(line)


@settings(max_examples=40, deadline=None)
@given(st.lists(damaged_lines(), min_size=1, max_size=6))
def test_every_parser_accounts_for_damaged_real_lines(lines: list[bytes]) -> None:
    from ledger.sources import split_lines

    batch = split_lines(b"\n".join(lines) + b"\n")
    for name, fmt in PRESETS.items():
        result = Parser(fmt).parse(batch, 1)
        assert result.parsed.height + result.rejects.height == batch.len(), name
        assert result.rejects["reason"].is_not_null().all(), name
        assert counted_lines(name, batch) == sorted(result.parsed["line_no"].to_list()), name


JSON_PRESETS = [fmt for fmt in PRESETS.values() if fmt.kind == "json"]
# every key on a JSON preset's paths ("request.headers.User-Agent[0]": request, headers, User-Agent)
JSON_KEYS = sorted(
    {key.removesuffix("[0]") for fmt in JSON_PRESETS for _, spec in fmt.paths for key in re.split(r"[.|]", spec)}
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(JSON_KEYS), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(JSON_KEYS), json_values, max_size=8), min_size=1, max_size=6))
@example([{"@timestamp": -(2**127) - 1}])  # found by this test: a number polars' JSON reader does not take
def test_json_parsers_take_objects_of_any_shape(records: list[dict[str, object]]) -> None:
    """JSON records with any kind of value on the presets' own paths (an object where a string is read, a
    list where an object goes on) are parsed or rejected with a reason, never an error."""
    lines = pl.Series([json.dumps(record) for record in records])
    for fmt in JSON_PRESETS:
        result = Parser(fmt).parse(lines, 1)
        assert result.parsed.height + result.rejects.height == lines.len()
        assert result.rejects["reason"].is_not_null().all()
        assert Parser(fmt).count(lines) == result.parsed.height


def test_a_json_record_of_the_wrong_shape_is_rejected_with_its_reason() -> None:
    # an Upsun record: its "host" is an object, where nginx_json reads the host name
    good = '{"time_iso8601":"2026-10-01T10:00:00+00:00","request":"GET / HTTP/1.1","status":"200","host":"a.kz"}'
    odd = good.replace('"host":"a.kz"', '"host":{"id":[{"type":"vendor","name":"platformsh"}]}')
    result = Parser(PRESETS["nginx_json"]).parse(pl.Series([good, odd, "{not json"]), 1)
    assert result.parsed["host"].to_list() == ["a.kz"]
    assert result.rejects.select("line_no", "reason").rows() == [
        (2, "a JSON record with an object or a list where the format expects a single value: not this format's"),
        (3, "not a JSON object"),
    ]


def test_a_json_record_with_a_number_out_of_range_is_rejected_with_its_reason() -> None:
    """Python reads any integer and overflows a float to infinity; polars' JSON reader takes 128-bit
    integers (signed or not) and finite 64-bit floats, and fails the whole batch on anything else. Such a
    record is rejected, with its reason, wherever the number is; the others of its batch are parsed."""
    good = '{"time_iso8601":"2026-10-01T10:00:00+00:00","request":"GET / HTTP/1.1","status":"200","host":"a.kz"}'
    lines = [
        good,
        good.replace('"status":"200"', f'"status":"200","bytes_sent":{-(2**127) - 1}'),
        good.replace('"status":"200"', '"extra":1e400,"status":"200"'),
        good.replace("}", f',"extra":{"9" * 5000}}}'),  # more digits than Python converts
        good.replace('"a.kz"', str(2**128 - 1)),  # the largest integer polars takes, read as the host's text
        good.replace('"a.kz"', str(-(2**127))),  # the smallest
    ]
    result = Parser(PRESETS["nginx_json"]).parse(pl.Series(lines), 1)
    assert result.parsed["host"].to_list() == ["a.kz", str(2**128 - 1), str(-(2**127))]
    assert result.rejects.select("line_no", "reason").rows() == [
        (k, "a JSON record with a number out of range (beyond 128-bit integers or 64-bit floats)") for k in (2, 3, 4)
    ]
    assert Parser(PRESETS["nginx_json"]).count(pl.Series(lines)) == 3


def test_a_json_record_nested_too_deep_is_rejected_with_its_reason_whatever_its_batch() -> None:
    """Python's JSON reader stops at about 990 levels, polars' at 1,022. A record polars reads is parsed
    also in a batch that takes the slow path (each line read by Python, for another line's sake); one
    deeper than both is rejected with its reason, not an error."""
    good = '{"time_iso8601":"2026-10-01T10:00:00+00:00","request":"GET / HTTP/1.1","status":"200","host":"a.kz"}'

    def nested(depth: int) -> str:
        return good.replace("}", f',"extra":{"[" * depth}1{"]" * depth}}}')

    odd = good.replace('"host":"a.kz"', '"host":{"id":1}')  # a wrong shape: the batch takes the slow path
    lines = pl.Series([good, nested(1010), nested(5000), odd])
    result = Parser(PRESETS["nginx_json"]).parse(lines, 1)
    assert result.parsed["line_no"].to_list() == [1, 2]
    assert result.rejects.select("line_no", "reason").rows() == [
        (3, "a JSON record nested too deep to read (about a thousand levels)"),
        (4, "a JSON record with an object or a list where the format expects a single value: not this format's"),
    ]
    alone = Parser(PRESETS["nginx_json"]).parse(lines.head(2), 1)  # the fast path: the same
    assert alone.parsed["line_no"].to_list() == [1, 2]


TIME_RANGE = "timestamp outside the times a ledger holds (1970-01-01 to 9998-12-31, UTC)"


@pytest.mark.parametrize("split", ["natively", "by polars"])
def test_a_time_no_ledger_holds_is_rejected_with_its_reason(monkeypatch: pytest.MonkeyPatch, split: str) -> None:
    """A line's time must be one a ledger holds (1970 to 9998 UTC, ``ledger.period``): year 0 made the
    upload fail with an internal error (its window could not be read back), and a fetch before 1970 or in
    9999 was stored but left out of every report. Such a line is rejected with its reason, counted as not
    parsing, whichever way it is split; the first and last times a ledger holds are parsed."""
    if split == "by polars":
        monkeypatch.setattr(native, "program_for", lambda fmt: None)
    agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0"

    def clf(when: str) -> str:
        return f'203.0.113.9 - - [{when}] "GET /a HTTP/1.1" 200 5 "-" "{agent}"'

    lines = pl.Series(
        [
            clf("01/Oct/2026:10:00:00 +0000"),
            clf("01/Oct/0000:10:00:00 +0000"),
            clf("31/Dec/9998:23:30:00 -0100"),  # 9999-01-01T00:30:00Z
            clf("01/Jan/1970:00:00:00 +0000"),  # the first time a ledger holds
            clf("31/Dec/9998:23:59:59 +0000"),  # the last
            clf("01/Jan/1970:00:30:00 +0100"),  # 1969-12-31T23:30:00Z
            clf("01/Jan/9999:00:00:00 +0000"),  # the end, not held
        ]
    )
    result = Parser(PRESETS["combined"]).parse(lines, 1)
    assert sorted(result.parsed["line_no"].to_list() + result.quiet["line_no"].to_list()) == [1, 4, 5]
    assert result.rejects.select("line_no", "reason").rows() == [
        (2, f"{TIME_RANGE} '01/Oct/0000:10:00:00 +0000'"),
        (3, f"{TIME_RANGE} '31/Dec/9998:23:30:00 -0100'"),
        (6, f"{TIME_RANGE} '01/Jan/1970:00:30:00 +0100'"),
        (7, f"{TIME_RANGE} '01/Jan/9999:00:00:00 +0000'"),
    ]
    assert counted_lines("combined", lines) == [1, 4, 5]
    records = [
        {"EdgeStartTimestamp": when, "ClientRequestHost": "a.kz", "ClientRequestURI": "/a", "ClientIP": "1.2.3.4"}
        for when in ("2026-10-01T10:00:00Z", "0000-06-01T00:00:00Z", "1969-12-31T23:59:59Z", "9999-01-01T00:00:00Z")
    ]
    result = Parser(PRESETS["cloudflare"]).parse(pl.Series([json.dumps(r) for r in records]), 1)
    assert result.rejects.select("line_no", "reason").rows() == [
        (2, f"{TIME_RANGE} '0000-06-01T00:00:00Z'"),
        (3, f"{TIME_RANGE} '1969-12-31T23:59:59Z'"),
        (4, f"{TIME_RANGE} '9999-01-01T00:00:00Z'"),
    ]


def test_gzip_directory_and_glob_inputs(site: Ledger, tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").write_text("not a log\n")
    base = (FIXTURES / "logfile_access_log.0").read_bytes()
    (folder / "a.log").write_bytes(base)
    (folder / "sub" / "b.log.gz").write_bytes(gzip.compress(base + base))
    results = ingest_paths(site, [str(folder)], outlet="site")
    assert [(Path(r.source).name, r.lines) for r in results] == [("a.log", 3), ("b.log.gz", 6)]
    again = ingest_paths(site, [str(tmp_path / "logs" / "**" / "*.gz")], outlet="site")
    assert [r.duplicate_upload for r in again] == [True]
