-- Append article observations from the registered Arrow table _articles_in, skipping each one that is
-- identical to the latest stored observation of the same URL and source.
INSERT INTO articles
SELECT
    i.outlet, i.url, url_match_key(i.url), i.source, i.sitemap_url, i.lastmod, i.published_at, i.title,
    i.language, i.words, i.canonical_url, i.crawled_at
FROM _articles_in i
WHERE NOT EXISTS (
    SELECT 1
    FROM (
        SELECT *
        FROM articles
        WHERE url IN (SELECT url FROM _articles_in)
        QUALIFY row_number() OVER (PARTITION BY url, source ORDER BY crawled_at DESC) = 1
    ) a
    WHERE a.url = i.url
      AND a.source = i.source
      AND a.outlet = i.outlet
      AND a.sitemap_url IS NOT DISTINCT FROM i.sitemap_url
      AND a.lastmod IS NOT DISTINCT FROM i.lastmod
      AND a.published_at IS NOT DISTINCT FROM i.published_at
      AND a.title IS NOT DISTINCT FROM i.title
      AND a.language IS NOT DISTINCT FROM i.language
      AND a.words IS NOT DISTINCT FROM i.words
      AND a.canonical_url IS NOT DISTINCT FROM i.canonical_url
)
