-- What rDNS made of the claims in $start..$end by bots of $bots: the ingest verdict next to the latest
-- rDNS verdict, per operator and bot.
WITH latest AS (
    SELECT upload_id, line_no, arg_max(verdict, checked_at) AS rdns
    FROM rdns_verdicts
    GROUP BY upload_id, line_no
)
SELECT
    f.operator,
    f.bot,
    f.verification AS ingest_verdict,
    l.rdns AS rdns_verdict,
    count(*) AS fetches,
    count(DISTINCT f.client_ip) AS addresses
FROM fetches f
JOIN latest l ON l.upload_id = f.upload_id AND l.line_no = f.line_no
WHERE f.ts >= $start AND f.ts < $end AND list_contains($bots, f.bot)
GROUP BY ALL
ORDER BY f.operator, f.bot, ingest_verdict, rdns_verdict
