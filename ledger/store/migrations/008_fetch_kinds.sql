-- What a fetch's user agent and address decide (bot, operator, purpose, ai, attribution, verification,
-- ip_list) takes a few dozen values in a ledger of millions of fetches: each is stored once, in
-- fetch_kinds, and a fetch row refers to its kind. Writing those seven columns for every row was a
-- quarter of DuckDB's time in an ingest (982,608 fetch rows: 1.4-1.8 s of CPU, 1.0 s so). `fetches` is a
-- view with the columns, in the order, the table had: every query reads it as before.
--
-- A kind's number is any number not taken: the ingest makes it from the seven values (a hash), and a
-- kind may be stored under two numbers (another polars version hashes otherwise); a number never names
-- two kinds (the ingest checks each it writes).

CREATE TABLE fetch_kinds (
    kind          BIGINT PRIMARY KEY,
    bot           VARCHAR,
    operator      VARCHAR NOT NULL,
    purpose       VARCHAR,
    ai            BOOLEAN NOT NULL,
    attribution   VARCHAR NOT NULL,
    verification  VARCHAR NOT NULL,
    ip_list       VARCHAR
);

CREATE TABLE fetch_rows (
    upload_id     VARCHAR NOT NULL,
    line_no       BIGINT NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    outlet        VARCHAR NOT NULL,
    host          VARCHAR,
    path          VARCHAR,
    url           VARCHAR,
    method        VARCHAR,
    status        SMALLINT,
    bytes         BIGINT,
    client_ip     VARCHAR,
    user_agent    VARCHAR,
    forwarded_for VARCHAR,
    content_type  VARCHAR,
    kind          BIGINT NOT NULL
);

INSERT INTO fetch_kinds
SELECT row_number() OVER (ORDER BY operator, bot, purpose, ai, attribution, verification, ip_list), *
FROM (SELECT DISTINCT bot, operator, purpose, ai, attribution, verification, ip_list FROM fetches);

INSERT INTO fetch_rows
SELECT f.upload_id, f.line_no, f.ts, f.outlet, f.host, f.path, f.url, f.method, f.status, f.bytes, f.client_ip,
       f.user_agent, f.forwarded_for, f.content_type, k.kind
FROM fetches f
JOIN fetch_kinds k
  ON f.operator = k.operator AND f.ai = k.ai AND f.attribution = k.attribution
 AND f.verification = k.verification AND f.bot IS NOT DISTINCT FROM k.bot
 AND f.purpose IS NOT DISTINCT FROM k.purpose AND f.ip_list IS NOT DISTINCT FROM k.ip_list
ORDER BY f.rowid;

DROP TABLE fetches;

CREATE VIEW fetches AS
SELECT r.upload_id, r.line_no, r.ts, r.outlet, r.host, r.path, r.url, r.method, r.status, r.bytes, r.client_ip,
       r.user_agent, k.bot, k.operator, k.purpose, k.ai, k.attribution, k.verification, k.ip_list,
       r.forwarded_for, r.content_type
FROM fetch_rows r
JOIN fetch_kinds k ON k.kind = r.kind;
