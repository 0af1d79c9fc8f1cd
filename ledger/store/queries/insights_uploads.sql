-- The uploads whose lines fall in a period (first/last timestamp overlap it), with their line accounting.
-- An upload without --outlet (a vhost log) names no outlet: its lines were resolved per host.
-- Parameters: $start, $end (UTC, end exclusive), $outlet (NULL: every upload; else the uploads that
-- brought lines of that outlet).
SELECT
    u.source,
    left(u.content_sha256, 16) AS content_sha256,
    u.format,
    u.compression,
    coalesce(u.outlet, '(by host)') AS outlet,
    u.lines_total,
    u.lines_parsed,
    u.lines_rejected,
    CASE WHEN u.lines_total = 0 THEN 0
         ELSE CAST(u.lines_rejected / u.lines_total AS DECIMAL(9, 6)) END AS rejected_rate,
    u.first_ts,
    u.last_ts,
    u.registry_version
FROM uploads u
WHERE u.first_ts < $end AND u.last_ts >= $start
  AND ($outlet IS NULL OR u.upload_id IN (SELECT upload_id FROM traffic_daily WHERE outlet = $outlet))
ORDER BY u.source, u.content_sha256
