-- Visits referred by AI products per time bucket (UTC day or ISO week starting Monday) and operator.
-- Parameters: $start, $end (UTC, end exclusive), $grain ('day' | 'week'), $outlet (NULL: every outlet).
WITH counted AS (
    SELECT epoch_us(ts) // 86400000000 AS day_no, operator, count(*) AS referrals
    FROM referrals
    WHERE ts >= $start AND ts < $end
      AND ($outlet IS NULL OR outlet = $outlet)
    GROUP BY ALL
)
SELECT
    DATE '1970-01-01' + CAST(CASE WHEN $grain = 'week' THEN day_no - (day_no + 3) % 7 ELSE day_no END AS INTEGER)
        AS bucket,
    operator,
    CAST(sum(referrals) AS BIGINT) AS referrals
FROM counted
GROUP BY ALL
ORDER BY bucket, operator
