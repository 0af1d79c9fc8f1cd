-- Every snapshot with the span of checks that saw it, for one outlet ($outlet) or all (null).
WITH spans AS (
    SELECT snapshot_id, any_value(outlet) AS outlet, count(*) AS checks, max(checked_at) AS last_checked
    FROM robots_checks
    GROUP BY snapshot_id
)
SELECT
    sp.outlet,
    s.host,
    s.snapshot_id,
    s.first_seen,
    sp.last_checked,
    sp.checks,
    s.outcome,
    s.status,
    s.error_kind,
    s.body_bytes,
    array_to_string(s.content_usage, ' | ') AS content_usage,
    array_to_string(s.content_signals, ' | ') AS content_signals,
    array_to_string(s.licenses, ' | ') AS license,
    len(s.sitemaps) AS sitemaps
FROM robots_snapshots s
JOIN spans sp USING (snapshot_id)
WHERE $outlet IS NULL OR sp.outlet = $outlet
ORDER BY sp.outlet, s.host, s.first_seen
