-- No article inventory in this ledger (or none needed): length and freshness terms are 1.
SELECT CAST(NULL AS VARCHAR) AS url, CAST(NULL AS INTEGER) AS words, CAST(NULL AS TIMESTAMPTZ) AS published_at
WHERE false
