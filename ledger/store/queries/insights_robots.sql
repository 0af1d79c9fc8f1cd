-- robots.txt verdicts of declared AI fetches per operator, from robots_verdicts_latest (the latest verdict
-- per (upload_id, line_no); migration 002). A fetch with no verdict row was never checked.
-- Parameters: $start, $end (UTC, end exclusive), $outlet (NULL: every outlet).
SELECT
    f.operator,
    count(*) AS fetches,
    count(*) FILTER (WHERE v.verdict = 'disallowed') AS disallowed,
    count(*) FILTER (WHERE v.verdict = 'allowed') AS allowed,
    count(*) FILTER (WHERE v.verdict = 'no_snapshot') AS no_snapshot,
    count(*) FILTER (WHERE v.verdict IS NULL) AS unchecked,
    CASE WHEN count(*) FILTER (WHERE v.verdict IN ('allowed', 'disallowed')) = 0 THEN NULL
         ELSE CAST(count(*) FILTER (WHERE v.verdict = 'disallowed')
                   / count(*) FILTER (WHERE v.verdict IN ('allowed', 'disallowed')) AS DECIMAL(9, 6))
    END AS disallowed_share
FROM fetches f
LEFT JOIN robots_verdicts_latest v ON v.upload_id = f.upload_id AND v.line_no = f.line_no
WHERE f.ts >= $start AND f.ts < $end
  AND f.ai
  AND f.attribution = 'declared'
  AND ($outlet IS NULL OR f.outlet = $outlet)
GROUP BY f.operator
ORDER BY disallowed DESC, fetches DESC, f.operator
