-- What the crawler learns from the web: robots.txt as it was over time and the verdict each AI fetch
-- gets against the file in force at its moment; the outlets' article inventory; refreshed IP lists;
-- forward-confirmed reverse DNS. Append-only like the rest of the ledger: a new observation is a new
-- row, never an edit. Times are TIMESTAMPTZ in UTC.

-- One row per distinct state of a host's robots.txt. A new row only when the state differs from the
-- host's previous one (A -> B -> A is three rows). outcome follows RFC 9309 section 2.3.1:
--   rules       a 2xx answer: the body's rules apply
--   unavailable a 4xx answer (404 and others): no rules, everything is allowed
--   unreachable a 5xx answer or no answer (DNS, TLS, timeout, refused): everything is disallowed
CREATE TABLE robots_snapshots (
    snapshot_id      VARCHAR PRIMARY KEY,
    host             VARCHAR NOT NULL,      -- the outlet domain whose /robots.txt this is
    outcome          VARCHAR NOT NULL CHECK (outcome IN ('rules', 'unavailable', 'unreachable')),
    status           SMALLINT,              -- HTTP status of the check that first saw this state
    error_kind       VARCHAR,               -- dns | tls | timeout | connect | ... when no answer came
    body             VARCHAR,               -- the file as text (first 500 KiB), outcome = 'rules' only
    body_sha256      VARCHAR,               -- of the bytes as served (all of them)
    body_bytes       BIGINT,
    truncated        BOOLEAN NOT NULL,      -- the body was longer than 500 KiB; the rest is ignored
    content_usage    VARCHAR[] NOT NULL,    -- IETF aipref 'Content-Usage:' lines, as written
    content_signals  VARCHAR[] NOT NULL,    -- Content Signals 'Content-Signal:' lines, as written
    licenses         VARCHAR[] NOT NULL,    -- RSL 'License:' lines, as written
    sitemaps         VARCHAR[] NOT NULL,    -- 'Sitemap:' URLs
    first_seen       TIMESTAMPTZ NOT NULL
);

-- Every check, whether or not the file changed. The snapshot in force at time t for a host is the
-- snapshot of the host's latest check at or before t.
CREATE TABLE robots_checks (
    host          VARCHAR NOT NULL,
    outlet        VARCHAR NOT NULL,
    checked_at    TIMESTAMPTZ NOT NULL,
    url           VARCHAR NOT NULL,
    final_url     VARCHAR,                 -- after redirects
    status        SMALLINT,
    error_kind    VARCHAR,
    error         VARCHAR,
    snapshot_id   VARCHAR NOT NULL REFERENCES robots_snapshots (snapshot_id),
    new_snapshot  BOOLEAN NOT NULL
);

-- Logical key: (upload_id, line_no, snapshot_id, computed_at). Recomputing after a new snapshot adds
-- rows for the fetches whose snapshot in force changed; older rows stay as the history of judgements.
CREATE TABLE robots_verdicts (
    upload_id     VARCHAR NOT NULL,
    line_no       BIGINT NOT NULL,
    snapshot_id   VARCHAR,                 -- null: no snapshot was in force at the fetch's time
    verdict       VARCHAR NOT NULL CHECK (verdict IN ('allowed', 'disallowed', 'no_snapshot')),
    robots_group  VARCHAR,                 -- the user-agent group that applied: a token, '*' or null
    directive     VARCHAR,                 -- the deciding rule, e.g. 'Disallow: /private/'
    computed_at   TIMESTAMPTZ NOT NULL
);

-- The verdict reports use: the latest one per fetch.
CREATE VIEW robots_verdicts_latest AS
SELECT * FROM robots_verdicts
QUALIFY row_number() OVER (PARTITION BY upload_id, line_no ORDER BY computed_at DESC) = 1;

-- The key that matches a fetched URL to an article: host in lower case without www./amp. or port,
-- no scheme, no fragment, percent-decoded path without AMP variants (/amp, /amp/, amp/ prefix, .amp,
-- .amp.html) or trailing slash, query without tracking (utm_*, fbclid, ...) or AMP parameters, sorted.
CREATE MACRO url_match_host(u) AS regexp_replace(
    lower(regexp_extract(u, '^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?([^/?#]*)', 1)),
    '^(?:www\.|amp\.)|:[0-9]*$|\.$', '', 'g');
CREATE MACRO url_match_raw_path(u) AS regexp_extract(u, '^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?([^?#]*)', 1);
CREATE MACRO url_match_path(u) AS rtrim(regexp_replace(regexp_replace(regexp_replace(
    coalesce(try(url_decode(url_match_raw_path(u))), url_match_raw_path(u)),
    '^/amp(/|$)', '/'), '/amp/?$', ''), '\.amp(\.html?)?$', '\1'), '/');
CREATE MACRO url_match_query(u) AS array_to_string(list_sort([p FOR p IN string_split(
    regexp_extract(u, '\?([^#]*)', 1), '&') IF p <> '' AND NOT regexp_matches(p,
    '(?i)^(?:(?:utm_[^=]*|fbclid|gclid|yclid|dclid|msclkid|_openstat|mc_cid|mc_eid|igshid|ref_src|amp)(?:=.*)?|outputtype=amp)$'
)]), '&');
CREATE MACRO url_match_key(u) AS CASE WHEN u IS NULL THEN NULL ELSE
    url_match_host(u) || url_match_path(u)
    || CASE WHEN url_match_query(u) <> '' THEN '?' || url_match_query(u) ELSE '' END END;

-- One row per observation of an article: a sitemap entry, a news sitemap entry, or a fetched page.
-- An unchanged observation is not stored twice.
CREATE TABLE articles (
    outlet         VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    match_key      VARCHAR NOT NULL,        -- url_match_key(url)
    source         VARCHAR NOT NULL CHECK (source IN ('sitemap', 'news_sitemap', 'page')),
    sitemap_url    VARCHAR,
    lastmod        TIMESTAMPTZ,
    published_at   TIMESTAMPTZ,
    title          VARCHAR,
    language       VARCHAR,
    words          INTEGER,
    canonical_url  VARCHAR,
    crawled_at     TIMESTAMPTZ NOT NULL
);

-- One row per article: each field from the latest observation that has it.
CREATE VIEW article_inventory AS
SELECT
    match_key,
    arg_max(outlet, crawled_at) AS outlet,
    arg_max(url, crawled_at) AS url,
    arg_max(title, crawled_at) FILTER (WHERE title IS NOT NULL) AS title,
    arg_max(language, crawled_at) FILTER (WHERE language IS NOT NULL) AS language,
    arg_max(words, crawled_at) FILTER (WHERE words IS NOT NULL) AS words,
    coalesce(
        arg_max(published_at, crawled_at) FILTER (WHERE published_at IS NOT NULL AND source = 'page'),
        arg_max(published_at, crawled_at) FILTER (WHERE published_at IS NOT NULL)
    ) AS published_at,
    arg_max(lastmod, crawled_at) FILTER (WHERE lastmod IS NOT NULL) AS lastmod,
    arg_max(canonical_url, crawled_at) FILTER (WHERE canonical_url IS NOT NULL) AS canonical_url,
    min(crawled_at) AS first_crawled,
    max(crawled_at) AS last_crawled
FROM articles
GROUP BY match_key;

-- Operators' IP lists as refreshed by the crawler. Each version is complete (refreshed lists plus the
-- lists carried over from the version before, or from the package); old versions stay.
CREATE TABLE ip_list_versions (
    seq          INTEGER PRIMARY KEY,       -- 1, 2, 3 ... in the order they were stored
    version      VARCHAR NOT NULL,          -- hash of the content: the IpLists.version ingest records
    created_at   TIMESTAMPTZ NOT NULL,
    forced       BOOLEAN NOT NULL,          -- stored with --force despite a shrink past the limit
    refreshed    VARCHAR[] NOT NULL         -- the lists fetched for this version
);

CREATE TABLE ip_list_version_lists (
    seq          INTEGER NOT NULL REFERENCES ip_list_versions (seq),
    list_id      VARCHAR NOT NULL,
    operator     VARCHAR NOT NULL,
    authority    VARCHAR NOT NULL,
    source_url   VARCHAR NOT NULL,
    origin       VARCHAR NOT NULL CHECK (origin IN ('fetched', 'carried', 'packaged')),
    fetched_url  VARCHAR,
    fetched_at   TIMESTAMPTZ,
    prefixes     INTEGER NOT NULL,
    PRIMARY KEY (seq, list_id)
);

CREATE TABLE ip_list_prefixes (
    seq      INTEGER NOT NULL,
    list_id  VARCHAR NOT NULL,
    cidr     VARCHAR NOT NULL
);

-- Reverse DNS answers per address (bots' addresses only), newest row wins while fresh.
CREATE TABLE rdns_cache (
    ip               VARCHAR NOT NULL,
    status           VARCHAR NOT NULL CHECK (status IN ('ok', 'no_ptr', 'error')),
    ptr_names        VARCHAR[] NOT NULL,    -- the PTR names of the address
    confirmed_names  VARCHAR[] NOT NULL,    -- those whose forward lookup includes the address
    error            VARCHAR,
    resolved_at      TIMESTAMPTZ NOT NULL
);

-- Forward-confirmed reverse DNS per fetch. The ingest verdict in fetches is never edited; this is a
-- second opinion, latest row per fetch.
CREATE TABLE rdns_verdicts (
    upload_id   VARCHAR NOT NULL,
    line_no     BIGINT NOT NULL,
    verdict     VARCHAR NOT NULL CHECK (verdict IN ('verified', 'spoofed', 'error')),
    ip          VARCHAR NOT NULL,
    host_name   VARCHAR,                    -- the confirmed (or offending) PTR name
    detail      VARCHAR,
    checked_at  TIMESTAMPTZ NOT NULL
);
