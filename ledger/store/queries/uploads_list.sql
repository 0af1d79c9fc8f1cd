-- The uploads in the ledger, oldest first, with their line accounting and evidence digests.
-- Parameters: $start, $end (UTC, end exclusive: the uploads whose lines overlap it; an upload of no
-- parsed line has no window and is listed only without a period, $all_time), $outlet (NULL: every
-- upload; else those that brought lines of that outlet, by --outlet or by host).
SELECT
    u.upload_id,
    u.source,
    u.ingested_at,
    u.format,
    u.compression,
    coalesce(u.outlet, '(by host)') AS outlet,
    u.lines_total AS lines,
    u.lines_parsed AS parsed,
    u.lines_rejected AS rejected,
    u.ai_fetches,
    u.first_ts,
    u.last_ts,
    u.content_sha256
FROM uploads u
WHERE ($all_time OR (u.first_ts < $end AND u.last_ts >= $start))
  AND ($outlet IS NULL OR u.outlet = $outlet
       OR u.upload_id IN (SELECT upload_id FROM upload_windows WHERE outlet = $outlet))
ORDER BY u.ingested_at, u.upload_id
