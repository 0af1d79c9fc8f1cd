-- Visits referred by AI products per operator and product in a period.
-- Parameters: $start, $end (UTC, end exclusive), $outlet (NULL: every outlet).
SELECT operator, product, count(*) AS referrals, count(DISTINCT url) AS pages
FROM referrals
WHERE ts >= $start AND ts < $end
  AND ($outlet IS NULL OR outlet = $outlet)
GROUP BY operator, product
ORDER BY referrals DESC, operator, product
