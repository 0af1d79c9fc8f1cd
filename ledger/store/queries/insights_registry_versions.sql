-- The registry versions the uploads of a period were detected with: what a reader needs to reproduce the
-- verdicts. Parameters: $start, $end (UTC, end exclusive), $outlet (NULL: every upload).
SELECT
    r.version,
    r.bots_version,
    r.ip_lists_version,
    r.referrers_version,
    r.bots,
    r.ip_lists,
    r.recorded_at,
    count(*) AS uploads,
    CAST(sum(u.lines_total) AS BIGINT) AS lines
FROM uploads u
JOIN registry_versions r ON r.version = u.registry_version
WHERE u.first_ts < $end AND u.last_ts >= $start
  AND ($outlet IS NULL OR u.upload_id IN (SELECT upload_id FROM traffic_daily WHERE outlet = $outlet))
GROUP BY ALL
ORDER BY r.recorded_at, r.version
