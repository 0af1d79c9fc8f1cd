-- Fetched URLs matched to the article inventory (migration 002's view and url_match_key macro): the
-- article's length in words and publication time, per distinct fetched URL.
WITH urls AS (SELECT DISTINCT url FROM fetches WHERE url IS NOT NULL AND ts >= $start AND ts < $end)
SELECT u.url, a.words, a.published_at
FROM urls u
JOIN article_inventory a ON a.match_key = url_match_key(u.url)
