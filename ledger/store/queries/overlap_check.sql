-- Earlier uploads whose windows intersect the new upload's (same outlet), with how many of the new
-- upload's AI fetches inside the intersection are already stored, request for request.
-- Parameter: $upload_id (its fetches and windows are written, not yet committed).
-- The earlier uploads' fetches are read through the few shared windows (a join DuckDB turns into filters
-- on the scan, which skips the row groups of other uploads and times): matching them row by row in a
-- correlated subquery made DuckDB hash every fetch of the ledger, for every upload checked.
WITH shared AS (
    SELECT n.outlet, o.upload_id AS other,
           greatest(n.first_ts, o.first_ts) AS first_ts, least(n.last_ts, o.last_ts) AS last_ts
    FROM upload_windows n
    JOIN upload_windows o ON o.outlet = n.outlet AND o.upload_id <> n.upload_id
    WHERE n.upload_id = $upload_id AND o.first_ts <= n.last_ts AND n.first_ts <= o.last_ts
),
mine AS (
    SELECT s.outlet, s.other, s.first_ts, s.last_ts, f.ts, f.client_ip, f.method, f.path, f.status, f.bytes,
           f.user_agent
    FROM shared s
    JOIN fetches f ON f.upload_id = $upload_id AND f.outlet = s.outlet AND f.ts BETWEEN s.first_ts AND s.last_ts
    WHERE f.ai
),
theirs AS (  -- each request of an earlier upload inside its shared window, once
    SELECT DISTINCT s.other, e.outlet, e.ts, e.client_ip, e.method, e.path, e.status, e.bytes, e.user_agent
    FROM shared s
    JOIN fetches e ON e.upload_id = s.other AND e.outlet = s.outlet AND e.ts BETWEEN s.first_ts AND s.last_ts
)
SELECT m.outlet, m.other, any_value(m.first_ts) AS first_ts, any_value(m.last_ts) AS last_ts,
       count(*) AS compared,
       count(t.other) AS repeated
FROM mine m
LEFT JOIN theirs t
    ON t.other = m.other AND t.outlet = m.outlet AND t.ts = m.ts
   AND t.client_ip IS NOT DISTINCT FROM m.client_ip AND t.path IS NOT DISTINCT FROM m.path
   AND t.method IS NOT DISTINCT FROM m.method AND t.status IS NOT DISTINCT FROM m.status
   AND t.bytes IS NOT DISTINCT FROM m.bytes AND t.user_agent IS NOT DISTINCT FROM m.user_agent
GROUP BY m.outlet, m.other
ORDER BY repeated DESC, m.other
