-- One scheme's qualifying units from the shared cube (basis_cube, registered as _cube): per purpose,
-- (verification-weighted fetches + robots multiplier x those made against a disallow) x the purpose's
-- weight, rounded to whole millionths of a unit (units_e6). A fetch whose weight is 0 is not counted.
WITH long AS (
    SELECT outlet, operator, section, 'training' AS purpose, w_training AS w, d_training AS d,
           n_training AS n, m_training AS m FROM _cube
    UNION ALL
    SELECT outlet, operator, section, 'search', w_search, d_search, n_search, m_search FROM _cube
    UNION ALL
    SELECT outlet, operator, section, 'user', w_user, d_user, n_user, m_user FROM _cube
),
weighted AS (
    SELECT outlet, operator, section, purpose, n, m,
        (CAST(coalesce(w, 0) AS DECIMAL(38, 0))
            + CAST(coalesce(d, 0) AS DECIMAL(38, 0)) * CAST($robots_multiplier AS DECIMAL(18, 6)))
        * CAST(CASE purpose WHEN 'training' THEN $pw_training WHEN 'search' THEN $pw_search ELSE $pw_user END
               AS DECIMAL(18, 6)) AS units_e6,
        CASE purpose WHEN 'training' THEN $pw_training WHEN 'search' THEN $pw_search ELSE $pw_user END AS pw
    FROM long
    WHERE list_contains($purposes, purpose)
)
SELECT outlet, operator, purpose, section,
       CAST(round(units_e6) AS BIGINT) AS units_e6,
       CAST(CASE WHEN pw > 0 THEN n + CASE WHEN $robots_multiplier > 0 THEN m ELSE 0 END ELSE 0 END AS BIGINT) AS fetches
FROM weighted
WHERE units_e6 > 0
