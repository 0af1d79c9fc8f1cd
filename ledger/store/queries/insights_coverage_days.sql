-- Coverage: parsed lines per outlet and UTC day (all classes, all uploads) in a period.
-- Parameters: $first (first UTC day), $stop (the day after the last), $outlet (NULL: every outlet).
SELECT outlet, day, CAST(sum(requests) AS BIGINT) AS lines
FROM traffic_daily
WHERE day >= $first AND day < $stop
  AND ($outlet IS NULL OR outlet = $outlet)
GROUP BY outlet, day
ORDER BY outlet, day
