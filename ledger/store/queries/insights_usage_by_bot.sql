-- AI fetches per operator, bot and purpose (undeclared traffic as bot '(undeclared)'), with distinct
-- canonical URLs and the verification split. Parameters: $start, $end (UTC, end exclusive), $outlet.
SELECT
    operator,
    coalesce(bot, '(undeclared)') AS bot,
    coalesce(purpose, '(unknown)') AS purpose,
    attribution,
    count(*) AS fetches,
    count(DISTINCT url) AS unique_urls,
    count(*) FILTER (WHERE verification = 'verified') AS verified,
    count(*) FILTER (WHERE verification = 'spoofed') AS spoofed
FROM fetches
WHERE ts >= $start AND ts < $end
  AND ai
  AND ($outlet IS NULL OR outlet = $outlet)
GROUP BY ALL
ORDER BY fetches DESC, operator, bot, purpose
