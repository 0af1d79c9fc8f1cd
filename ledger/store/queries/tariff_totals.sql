-- Sums of tariff values (_values, in 10^-24 currency units) per operator ($by = 'operator'), per outlet
-- ('outlet') or in all ('all'), as text (they can exceed 64 bits).
SELECT CASE $by WHEN 'operator' THEN operator WHEN 'outlet' THEN outlet ELSE '*' END AS key,
       CAST(sum(CAST(value AS HUGEINT)) AS VARCHAR) AS value
FROM _values
GROUP BY ALL
ORDER BY key
