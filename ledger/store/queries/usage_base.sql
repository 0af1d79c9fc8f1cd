-- Fetches in a period, with the columns usage reports group by. Parameters: $start, $end (UTC, end
-- exclusive), $ai_only, $include_undeclared.
SELECT
    outlet,
    operator,
    coalesce(bot, '(undeclared)') AS bot,
    coalesce(purpose, '(unknown)') AS purpose,
    verification,
    attribution,
    CAST(ts AS DATE) AS day,
    strftime(ts, '%Y-%m') AS month,
    url
FROM fetches
WHERE ts >= $start AND ts < $end
  AND (ai OR NOT $ai_only)
  AND (attribution = 'declared' OR $include_undeclared)
