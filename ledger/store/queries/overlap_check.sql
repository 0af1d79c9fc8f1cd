-- Earlier uploads whose windows intersect the new upload's (same outlet), with how many of the new
-- upload's AI fetches inside the intersection are already stored, request for request.
-- Parameter: $upload_id (its fetches and windows are written, not yet committed).
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
)
SELECT m.outlet, m.other, any_value(m.first_ts) AS first_ts, any_value(m.last_ts) AS last_ts,
       count(*) AS compared,
       count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM fetches e
           WHERE e.upload_id = m.other AND e.outlet = m.outlet AND e.ts = m.ts
             AND e.client_ip IS NOT DISTINCT FROM m.client_ip AND e.path IS NOT DISTINCT FROM m.path
             AND e.method IS NOT DISTINCT FROM m.method AND e.status IS NOT DISTINCT FROM m.status
             AND e.bytes IS NOT DISTINCT FROM m.bytes AND e.user_agent IS NOT DISTINCT FROM m.user_agent
       )) AS repeated
FROM mine m
GROUP BY m.outlet, m.other
ORDER BY repeated DESC, m.other
