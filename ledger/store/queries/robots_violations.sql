-- AI fetches whose latest robots verdict is 'disallowed', grouped. $start/$end bound the fetch time.
SELECT
    f.outlet,
    f.operator,
    coalesce(f.bot, '(undeclared)') AS bot,
    f.path,
    v.robots_group,
    v.directive,
    count(*) AS fetches,
    min(f.ts) AS first_seen,
    max(f.ts) AS last_seen
FROM robots_verdicts_latest v
JOIN fetches f ON f.upload_id = v.upload_id AND f.line_no = v.line_no
WHERE v.verdict = 'disallowed' AND f.ts >= $start AND f.ts < $end
GROUP BY ALL
ORDER BY fetches DESC, f.outlet, f.operator, bot, f.path
