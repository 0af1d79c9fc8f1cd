-- AI fetches of a period rolled up three ways in ONE scan of the fetches table (GROUPING SETS), because
-- at market scale (10^8 rows) every extra scan costs seconds:
--   g_time     (day_no, operator, purpose, attribution)            -> usage over time
--   g_outlet   (outlet, purpose, verification, attribution)        -> top outlets
--   g_operator (operator, verification, attribution, html)         -> verification, crawl-to-refer
-- day_no is the UTC epoch day (exact in UTC, much cheaper than calendar functions). html: a declared fetch,
-- a GET answered 2xx, whose path is not an asset ($asset_regex, the schemes' default exclusions); every asset pattern needs a
-- '.' in the path or starts with '/sitemap', so the regex only runs on such paths (same answer, cheaper).
-- Parameters: $start, $end (UTC, end exclusive), $asset_regex, $outlet (NULL: every outlet).
WITH rows AS (
    SELECT
        epoch_us(ts) // 86400000000 AS day_no,
        outlet,
        operator,
        coalesce(purpose, '(unknown)') AS purpose,
        verification,
        attribution,
        CASE WHEN coalesce(method, '') <> 'GET' OR coalesce(status, 0) NOT BETWEEN 200 AND 299 OR attribution <> 'declared'
                  THEN false
             WHEN contains(coalesce(path, ''), '.') OR starts_with(coalesce(path, ''), '/sitemap')
             THEN NOT regexp_matches(path, $asset_regex)
             ELSE true END AS html
    FROM fetches
    WHERE ts >= $start AND ts < $end
      AND ai
      AND ($outlet IS NULL OR outlet = $outlet)
)
SELECT
    -- GROUPING() sets a bit (first argument = highest bit) per column NOT grouped: 0100101 = 37, 1010001 = 81
    CASE GROUPING(day_no, outlet, operator, purpose, verification, attribution, html)
        WHEN 37 THEN 'time' WHEN 81 THEN 'outlet' ELSE 'operator' END AS rollup,
    day_no, outlet, operator, purpose, verification, attribution, coalesce(html, false) AS html,
    count(*) AS fetches
FROM rows
GROUP BY GROUPING SETS (
    (day_no, operator, purpose, attribution),
    (outlet, purpose, verification, attribution),
    (operator, verification, attribution, html)
)
ORDER BY rollup, day_no, outlet, operator, purpose, verification, attribution, html
