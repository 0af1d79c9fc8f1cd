-- The uploads each new run read (_incoming: run_id): every upload in the ledger when it was settled, as
-- one sorted list.
INSERT INTO settlement_uploads
SELECT r.run_id, u.upload_ids
FROM _incoming r
CROSS JOIN (SELECT coalesce(list_sort(list(upload_id)), []) AS upload_ids FROM uploads) u
