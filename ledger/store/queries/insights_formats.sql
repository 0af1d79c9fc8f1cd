-- Log formats and compressions of the uploads of a period. Parameters: $start, $end, $outlet.
SELECT
    u.format,
    u.compression,
    count(*) AS uploads,
    CAST(sum(u.lines_total) AS BIGINT) AS lines,
    CAST(sum(u.lines_rejected) AS BIGINT) AS rejected
FROM uploads u
WHERE u.first_ts < $end AND u.last_ts >= $start
  AND ($outlet IS NULL OR u.upload_id IN (SELECT upload_id FROM traffic_daily WHERE outlet = $outlet))
GROUP BY ALL
ORDER BY uploads DESC, u.format, u.compression
