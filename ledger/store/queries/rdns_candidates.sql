-- Fetches whose claim IP lists could not settle (unverifiable, or spoofed by a list that may be stale),
-- by bots with documented rDNS ($bots), in $start..$end, with a public client address, and without an
-- rDNS verdict yet (or whose latest one was a lookup error).
WITH latest AS (
    SELECT upload_id, line_no, arg_max(verdict, checked_at) AS verdict
    FROM rdns_verdicts
    GROUP BY upload_id, line_no
)
SELECT f.upload_id, f.line_no, f.bot, f.client_ip, f.verification
FROM fetches f
LEFT JOIN latest l ON l.upload_id = f.upload_id AND l.line_no = f.line_no
WHERE f.ts >= $start AND f.ts < $end
  AND list_contains($bots, f.bot)
  AND f.verification IN ('unverifiable', 'spoofed')
  AND f.client_ip IS NOT NULL
  AND (l.verdict IS NULL OR l.verdict = 'error')
ORDER BY f.upload_id, f.line_no
