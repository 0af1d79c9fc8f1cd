-- Distinct canonical URLs with a positive weight per outlet and operator (operator '*': across all
-- operators), from the fetch rows q (qualifying_fetches): the F4/F7 key 'unique_urls'.
SELECT outlet, coalesce(operator, '*') AS operator, CAST(count(DISTINCT url) AS BIGINT) AS urls
FROM q
WHERE exact_weight > 0
GROUP BY GROUPING SETS ((outlet, operator), (outlet))
