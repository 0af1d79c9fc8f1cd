-- Whether any earlier upload's window of the same outlet intersects the new upload's (a cheap test on
-- the few window rows before overlap_check compares requests). Parameter: $upload_id.
SELECT 1
FROM upload_windows n
JOIN upload_windows o ON o.outlet = n.outlet AND o.upload_id <> n.upload_id
WHERE n.upload_id = $upload_id AND o.first_ts <= n.last_ts AND n.first_ts <= o.last_ts
LIMIT 1
