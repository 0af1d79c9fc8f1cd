-- Qualifying usage units per outlet, operator and purpose for one scheme and period.
-- A fetch qualifies when it is an AI fetch in the period whose purpose, method, status and path pass the
-- scheme's filters; it counts with the weight of its verification verdict; the refetch policy then caps
-- the weighted count per (outlet, operator, purpose, canonical URL).
WITH qualifying AS (
    SELECT
        outlet,
        operator,
        purpose,
        url,
        CASE verification
            WHEN 'verified' THEN $w_verified
            WHEN 'unverifiable' THEN $w_unverifiable
            WHEN 'unknown' THEN $w_unknown
            ELSE $w_spoofed
        END AS weight
    FROM fetches
    WHERE ts >= $start AND ts < $end
      AND ai
      AND (attribution = 'declared' OR $include_undeclared)
      AND list_contains($purposes, purpose)
      AND list_contains($methods, method)
      AND list_contains($statuses, CAST(status AS INTEGER))
      AND ($include_regex = '' OR regexp_matches(coalesce(path, ''), $include_regex))
      AND ($exclude_regex = '' OR NOT regexp_matches(coalesce(path, ''), $exclude_regex))
),
per_url AS (
    SELECT outlet, operator, purpose, url, CAST(sum(weight) AS DECIMAL(38, 6)) AS weighted,
           count(*) FILTER (WHERE weight > 0) AS fetches  -- a fetch weighted 0 (spoofed) is not counted
    FROM qualifying
    GROUP BY ALL
)
SELECT
    outlet,
    operator,
    purpose,
    CAST(sum(CASE $refetch
        WHEN 'every' THEN weighted
        WHEN 'unique_url_per_period' THEN least(weighted, 1)
        ELSE least(weighted, $cap)
    END) AS DECIMAL(38, 6)) AS units,
    sum(fetches) AS fetches
FROM per_url
GROUP BY ALL
HAVING sum(weighted) > 0
ORDER BY outlet, operator, purpose
