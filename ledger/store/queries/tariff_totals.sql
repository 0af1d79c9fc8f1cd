-- Sums of tariff values (_values, in 10^-24 currency units) per operator ($by = 'operator') or per outlet
-- ('outlet'), as text (they can exceed 64 bits).
SELECT CASE $by WHEN 'operator' THEN operator ELSE outlet END AS key,
       CAST(sum(CAST(value AS HUGEINT)) AS VARCHAR) AS value
FROM _values
GROUP BY ALL
