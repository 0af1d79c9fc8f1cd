-- AI referrals in a period. Parameters: $start, $end (UTC, end exclusive).
SELECT
    outlet,
    operator,
    product,
    CAST(ts AS DATE) AS day,
    strftime(ts, '%Y-%m') AS month,
    url
FROM referrals
WHERE ts >= $start AND ts < $end
