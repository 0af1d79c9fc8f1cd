-- Ingest of every format: evidence columns for the forwarded chain and the content type, the time window
-- each upload covers per outlet (overlap detection between uploads), how an overlap was treated, and the
-- uploads in progress (their rows are committed batch by batch so memory stays flat; an upload that does
-- not finish is removed whole, at once or when the ledger is next opened).

ALTER TABLE fetches ADD COLUMN forwarded_for VARCHAR;  -- the X-Forwarded-For chain as logged, for bots only
ALTER TABLE fetches ADD COLUMN content_type VARCHAR;   -- when the format carries it (CDNs do)

CREATE TABLE upload_windows (
    upload_id  VARCHAR NOT NULL,
    outlet     VARCHAR NOT NULL,
    first_ts   TIMESTAMPTZ NOT NULL,
    last_ts    TIMESTAMPTZ NOT NULL,
    lines      BIGINT NOT NULL,     -- parsed lines of this outlet in the upload
    PRIMARY KEY (upload_id, outlet)
);

ALTER TABLE uploads ADD COLUMN overlap VARCHAR;  -- null, or how an overlap with earlier uploads was treated

CREATE TABLE uploads_pending (
    upload_id   VARCHAR PRIMARY KEY,
    source      VARCHAR NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL
);
