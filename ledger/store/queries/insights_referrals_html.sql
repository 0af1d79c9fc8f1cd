-- Visits referred by AI products to HTML pages, per operator (the denominator of the crawl-to-refer ratio):
-- status 2xx (or none logged) and a path that is not an asset, as in insights_rollup.sql.
-- Parameters: $start, $end (UTC, end exclusive), $asset_regex, $outlet (NULL: every outlet).
SELECT operator, count(*) AS referrals
FROM referrals
WHERE ts >= $start AND ts < $end
  AND (status IS NULL OR status BETWEEN 200 AND 299)
  AND NOT CASE WHEN contains(coalesce(path, ''), '.') OR starts_with(coalesce(path, ''), '/sitemap')
               THEN regexp_matches(path, $asset_regex) ELSE false END
  AND ($outlet IS NULL OR outlet = $outlet)
GROUP BY operator
ORDER BY operator
