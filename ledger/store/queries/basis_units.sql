-- Qualifying units per outlet, operator, purpose and section, for one scheme, from the fetch rows q
-- (qualifying_fetches). A fetch's weight is its exact weight times its F3 terms (rounded to 12 places);
-- the refetch policy caps the weighted count per (outlet, operator, purpose, canonical URL); F3 damping
-- then transforms it (log1p or a cap). Units are rounded to 6 decimal places and returned as integers of
-- millionths (units_e6). A fetch weighted 0 (a spoofed claim, by default) is not counted in fetches.
WITH weighted AS (
    SELECT outlet, operator, purpose, section, url,
           CASE WHEN $terms_on THEN CAST(round(CAST(exact_weight AS DOUBLE) * terms, 12) AS DECIMAL(38, 18))
                ELSE exact_weight END AS weight
    FROM q
),
per_url AS (
    SELECT outlet, operator, purpose, section, url, sum(weight) AS weighted,
           count(*) FILTER (WHERE weight > 0) AS fetches
    FROM weighted
    GROUP BY ALL
),
capped AS (
    SELECT outlet, operator, purpose, section, fetches, weighted,
        CASE $refetch
            WHEN 'every' THEN weighted
            WHEN 'unique_url_per_period' THEN least(weighted, 1)
            ELSE least(weighted, $cap)
        END AS counted
    FROM per_url
),
damped AS (
    SELECT outlet, operator, purpose, section, fetches, weighted,
        CASE $damping
            WHEN 'log1p' THEN CAST(round(ln(1 + CAST(counted AS DOUBLE)), 12) AS DECIMAL(38, 18))
            WHEN 'cap_k' THEN least(counted, $damping_k)
            ELSE counted
        END AS counted
    FROM capped
)
SELECT outlet, operator, purpose, section,
       CAST(round(sum(counted), 6) * 1000000 AS BIGINT) AS units_e6,
       CAST(sum(fetches) AS BIGINT) AS fetches
FROM damped
GROUP BY ALL
HAVING sum(weighted) > 0
