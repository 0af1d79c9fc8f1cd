-- Visits referred by AI products per outlet and operator in [$start, $end) ($outlet null: all outlets).
SELECT outlet, operator, CAST(count(*) AS BIGINT) AS referrals
FROM referrals
WHERE ts >= $start AND ts < $end AND ($outlet IS NULL OR outlet = $outlet)
GROUP BY ALL
