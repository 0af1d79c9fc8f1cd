-- The article inventory of one outlet ($outlet) or all (null), newest publication first.
SELECT outlet, url, title, language, words, published_at, lastmod, canonical_url, first_crawled, last_crawled
FROM article_inventory
WHERE $outlet IS NULL OR outlet = $outlet
ORDER BY coalesce(published_at, lastmod) DESC NULLS LAST, url
