-- A content digest of the article facts a settlement read (_rl_articles): the row count and the sum of each
-- row's MD5, as text (order-independent, the same on every machine).
SELECT CAST(count(*) AS VARCHAR) || ':'
    || CAST(coalesce(sum(md5_number_lower(url || '|' || coalesce(CAST(words AS VARCHAR), '-') || '|'
        || coalesce(strftime(published_at, '%Y-%m-%dT%H:%M:%S'), '-'))), 0) AS VARCHAR) AS digest
FROM _rl_articles
