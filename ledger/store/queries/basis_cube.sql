-- The shared basis of every scheme that counts every fetch (refetch = 'every', no F3 damping or article
-- terms): per outlet, operator and section, the fetches weighted by their verification verdict (in
-- millionths) and counted, per AI purpose, apart for fetches made against a robots.txt disallow. Purpose
-- weights and the robots multiplier are applied per scheme afterwards (basis_from_cube), so schemes with
-- the same filters and verification weights share one scan of the fetches. Wraps qualifying_fetches as q.
SELECT
    outlet, operator, section,
    CAST(sum(CASE WHEN purpose = 'training' AND robots <> 'disallowed' THEN vw_e6 END) AS BIGINT) AS w_training,
    CAST(sum(CASE WHEN purpose = 'search' AND robots <> 'disallowed' THEN vw_e6 END) AS BIGINT) AS w_search,
    CAST(sum(CASE WHEN purpose = 'user' AND robots <> 'disallowed' THEN vw_e6 END) AS BIGINT) AS w_user,
    CAST(sum(CASE WHEN purpose = 'training' AND robots = 'disallowed' THEN vw_e6 END) AS BIGINT) AS d_training,
    CAST(sum(CASE WHEN purpose = 'search' AND robots = 'disallowed' THEN vw_e6 END) AS BIGINT) AS d_search,
    CAST(sum(CASE WHEN purpose = 'user' AND robots = 'disallowed' THEN vw_e6 END) AS BIGINT) AS d_user,
    count(CASE WHEN purpose = 'training' AND robots <> 'disallowed' AND vw_e6 > 0 THEN 1 END) AS n_training,
    count(CASE WHEN purpose = 'search' AND robots <> 'disallowed' AND vw_e6 > 0 THEN 1 END) AS n_search,
    count(CASE WHEN purpose = 'user' AND robots <> 'disallowed' AND vw_e6 > 0 THEN 1 END) AS n_user,
    count(CASE WHEN purpose = 'training' AND robots = 'disallowed' AND vw_e6 > 0 THEN 1 END) AS m_training,
    count(CASE WHEN purpose = 'search' AND robots = 'disallowed' AND vw_e6 > 0 THEN 1 END) AS m_search,
    count(CASE WHEN purpose = 'user' AND robots = 'disallowed' AND vw_e6 > 0 THEN 1 END) AS m_user
FROM q
GROUP BY outlet, operator, section
