-- The snapshot of a host's latest check at or before a time, with what identifies its state.
-- $1 host, $2 time.
SELECT c.snapshot_id, s.outcome, s.body_sha256
FROM robots_checks c
JOIN robots_snapshots s USING (snapshot_id)
WHERE c.host = $1 AND c.checked_at <= $2
ORDER BY c.checked_at DESC
LIMIT 1
