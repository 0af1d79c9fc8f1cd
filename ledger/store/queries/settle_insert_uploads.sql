-- The uploads a run read: every upload in the ledger when it was settled, as one sorted list.
INSERT INTO settlement_uploads SELECT $run_id, coalesce(list_sort(list(upload_id)), []) FROM uploads
