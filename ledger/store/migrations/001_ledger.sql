-- The ledger's first schema. Fact tables are append-only and every fact row carries its upload_id;
-- corrections are new uploads, never edits. Times are TIMESTAMPTZ in UTC (the connection's TimeZone is
-- pinned to UTC); money is DECIMAL, never floating point.

CREATE TABLE outlets (
    slug          VARCHAR PRIMARY KEY,
    name          VARCHAR NOT NULL,
    country       VARCHAR,
    language      VARCHAR,
    fte           DECIMAL(12, 2),
    regional_fte  DECIMAL(12, 2),
    group_name    VARCHAR,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE outlet_domains (
    domain  VARCHAR PRIMARY KEY,   -- lower case, no port, no trailing dot; subdomains resolve to it
    outlet  VARCHAR NOT NULL REFERENCES outlets (slug)
);

CREATE TABLE registry_versions (
    version             VARCHAR PRIMARY KEY,  -- hash of the bot registry, IP lists and AI referrers together
    bots_version        VARCHAR NOT NULL,
    ip_lists_version    VARCHAR NOT NULL,
    referrers_version   VARCHAR NOT NULL,
    bots                INTEGER NOT NULL,
    ip_lists            INTEGER NOT NULL,
    recorded_at         TIMESTAMPTZ NOT NULL
);

CREATE TABLE uploads (
    upload_id         VARCHAR PRIMARY KEY,    -- first 16 hex digits of content_sha256
    source            VARCHAR NOT NULL,       -- file name as given (or <stdin>)
    content_sha256    VARCHAR NOT NULL UNIQUE,-- of the decompressed bytes: the same content is one upload
    raw_sha256        VARCHAR NOT NULL,       -- of the bytes as uploaded
    raw_bytes         BIGINT NOT NULL,
    content_bytes     BIGINT NOT NULL,
    compression       VARCHAR NOT NULL,
    format            VARCHAR NOT NULL,
    outlet            VARCHAR,                -- set when --outlet was given, else null (resolved per line)
    lines_total       BIGINT NOT NULL,
    lines_parsed      BIGINT NOT NULL,
    lines_rejected    BIGINT NOT NULL,
    ai_fetches        BIGINT NOT NULL,
    first_ts          TIMESTAMPTZ,
    last_ts           TIMESTAMPTZ,
    registry_version  VARCHAR NOT NULL REFERENCES registry_versions (version),
    ingested_at       TIMESTAMPTZ NOT NULL,
    CHECK (lines_parsed + lines_rejected = lines_total)
);

-- One row per request by a declared crawler (AI and non-AI), plus undeclared requests from an AI
-- operator's published ranges (attribution = 'ip_attributed'). Bots' addresses are evidence and kept.
CREATE TABLE fetches (
    upload_id     VARCHAR NOT NULL,
    line_no       BIGINT NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    outlet        VARCHAR NOT NULL,
    host          VARCHAR,
    path          VARCHAR,
    url           VARCHAR,        -- canonical: https://host/path?query without tracking parameters
    method        VARCHAR,
    status        SMALLINT,
    bytes         BIGINT,
    client_ip     VARCHAR,
    user_agent    VARCHAR,
    bot           VARCHAR,        -- registry token; null for ip_attributed rows
    operator      VARCHAR NOT NULL,
    purpose       VARCHAR,        -- training | search | user | search_engine | seo | archive | other_bot
    ai            BOOLEAN NOT NULL,
    attribution   VARCHAR NOT NULL,  -- declared | ip_attributed
    verification  VARCHAR NOT NULL,  -- verified | spoofed | unverifiable | unknown
    ip_list       VARCHAR         -- the published list that verified (or attributed) the address
);

-- One row per human visit referred by an AI product. No address, no user agent: visitors are people.
CREATE TABLE referrals (
    upload_id     VARCHAR NOT NULL,
    line_no       BIGINT NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    outlet        VARCHAR NOT NULL,
    host          VARCHAR,
    path          VARCHAR,
    url           VARCHAR,
    status        SMALLINT,
    product       VARCHAR NOT NULL,
    operator      VARCHAR NOT NULL,
    referer_host  VARCHAR
);

-- Parsed lines per outlet, UTC day and class; classes are disjoint and add up to lines_parsed.
CREATE TABLE traffic_daily (
    upload_id  VARCHAR NOT NULL,
    outlet     VARCHAR NOT NULL,
    day        DATE NOT NULL,
    class      VARCHAR NOT NULL,  -- human | ai_bot | other_bot | undeclared_ai
    requests   BIGINT NOT NULL,
    PRIMARY KEY (upload_id, outlet, day, class)
);

CREATE TABLE rejects (
    upload_id  VARCHAR NOT NULL,
    line_no    BIGINT NOT NULL,
    reason     VARCHAR NOT NULL,
    raw        VARCHAR NOT NULL     -- the line as read, truncated to 2,048 characters
);

CREATE TABLE settlements (
    run_id              VARCHAR PRIMARY KEY,  -- hash of scheme text, period and ledger fingerprint
    scheme_name         VARCHAR NOT NULL,
    family              VARCHAR NOT NULL,
    scheme_hash         VARCHAR NOT NULL,
    scheme_toml         VARCHAR NOT NULL,     -- the scheme's own table, canonicalised
    period              VARCHAR NOT NULL,
    period_start        TIMESTAMPTZ NOT NULL,
    period_end          TIMESTAMPTZ NOT NULL,
    currency            VARCHAR NOT NULL,
    minor_units         TINYINT NOT NULL,         -- amounts are whole multiples of 10^-minor_units
    ledger_fingerprint  VARCHAR NOT NULL,
    total               DECIMAL(38, 4) NOT NULL,  -- paid out; equals the sum of payouts.amount
    retained            DECIMAL(38, 4) NOT NULL,  -- pool money kept back (below-threshold outlets, 'retain')
    qualifying_fetches  BIGINT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE payouts (
    run_id       VARCHAR NOT NULL REFERENCES settlements (run_id),
    outlet       VARCHAR NOT NULL,
    operator     VARCHAR NOT NULL,
    basis_units  DECIMAL(38, 6) NOT NULL,  -- what the scheme counted (qualifying fetches, weighted, capped)
    fetches      BIGINT NOT NULL,          -- qualifying fetches behind those units
    amount       DECIMAL(38, 4) NOT NULL,
    currency     VARCHAR NOT NULL,
    PRIMARY KEY (run_id, outlet, operator)
);
