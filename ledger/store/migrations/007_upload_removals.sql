-- Uploads taken out of the ledger (`royalty uploads remove`): an upload ingested by mistake (the wrong
-- --outlet, the wrong file) would otherwise stay for good, and its file could never be ingested again
-- (the same content is one upload). Its rows are deleted; this keeps what it was, when and why it went.
-- An upload a stored settlement run read is never removed: the run's statement recounts its fetches.

CREATE TABLE upload_removals (
    upload_id       VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    content_sha256  VARCHAR NOT NULL,
    raw_sha256      VARCHAR NOT NULL,
    format          VARCHAR NOT NULL,
    outlet          VARCHAR,
    lines_total     BIGINT NOT NULL,
    lines_parsed    BIGINT NOT NULL,
    lines_rejected  BIGINT NOT NULL,
    ai_fetches      BIGINT NOT NULL,
    first_ts        TIMESTAMPTZ,
    last_ts         TIMESTAMPTZ,
    ingested_at     TIMESTAMPTZ NOT NULL,
    removed_at      TIMESTAMPTZ NOT NULL,
    reason          VARCHAR NOT NULL
);
