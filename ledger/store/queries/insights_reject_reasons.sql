-- Rejected lines per reason, over the uploads whose lines fall in a period (rejected lines often carry no
-- usable time, so they are counted with their upload). Parameters: $start, $end, $outlet (as insights_uploads).
SELECT r.reason, count(*) AS lines
FROM rejects r
JOIN uploads u USING (upload_id)
WHERE u.first_ts < $end AND u.last_ts >= $start
  AND ($outlet IS NULL OR u.upload_id IN (SELECT upload_id FROM traffic_daily WHERE outlet = $outlet))
GROUP BY r.reason
ORDER BY lines DESC, r.reason
