-- Each fetch of a period with the article its URL matches (null columns: no article matches).
-- $start/$end bound the fetch time; $outlet (null: all); $ai_only.
WITH chosen AS (
    SELECT upload_id, line_no, ts, outlet, url
    FROM fetches
    WHERE ts >= $start AND ts < $end
      AND ($outlet IS NULL OR outlet = $outlet)
      AND (ai OR NOT $ai_only)
),
keys AS (
    SELECT url, url_match_key(url) AS match_key FROM (SELECT DISTINCT url FROM chosen WHERE url IS NOT NULL)
)
SELECT
    c.upload_id, c.line_no, c.ts, c.outlet, c.url,
    a.url AS article_url, a.words, a.published_at, a.lastmod, a.title
FROM chosen c
LEFT JOIN keys k ON k.url = c.url
LEFT JOIN article_inventory a ON a.match_key = k.match_key
ORDER BY c.upload_id, c.line_no
