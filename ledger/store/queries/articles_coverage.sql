-- Per outlet of $outlets: distinct URLs fetched by AI crawlers, and how many match an article.
WITH urls AS (
    SELECT DISTINCT outlet, url FROM fetches WHERE ai AND url IS NOT NULL AND list_contains($outlets, outlet)
)
SELECT u.outlet, count(*) AS urls, count(a.match_key) AS matched
FROM urls u
LEFT JOIN (SELECT DISTINCT match_key FROM article_inventory) a ON a.match_key = url_match_key(u.url)
GROUP BY u.outlet
ORDER BY u.outlet
