-- An outlet's most fetched canonical URLs by declared AI crawlers in a period.
-- Parameters: $start, $end (UTC, end exclusive), $outlet, $limit.
SELECT
    url,
    count(*) AS fetches,
    count(DISTINCT operator) AS operators,
    count(*) FILTER (WHERE purpose = 'training') AS training,
    count(*) FILTER (WHERE purpose = 'search') AS search,
    count(*) FILTER (WHERE purpose = 'user') AS "user",
    min(ts) AS first_fetch,
    max(ts) AS last_fetch
FROM fetches
WHERE ts >= $start AND ts < $end
  AND ai
  AND attribution = 'declared'
  AND outlet = $outlet
  AND url IS NOT NULL
GROUP BY url
ORDER BY fetches DESC, url
LIMIT $limit
