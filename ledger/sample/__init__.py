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

The package follows the data: ``pools.toml`` (read by ``pools``) declares the static pools and proportions;
``outlets`` the fictional outlets; ``addresses`` the CIDR arithmetic; ``world`` everything derived from the
registry, the IP lists and the referrers; ``writer`` one file's lines; ``truth`` the ground truth and its
tallies; ``generator`` the whole run. Only the names below are public.
"""

from ledger.sample.generator import Sample, SampleFile, generate
from ledger.sample.outlets import SAMPLE_OUTLETS
from ledger.sample.truth import GroundTruth

__all__ = ["SAMPLE_OUTLETS", "GroundTruth", "Sample", "SampleFile", "generate"]
