-- An upload's lines per outlet: its time window there and its parsed lines by class (traffic_daily's
-- classes add up to the lines). Parameter: $upload_id.
SELECT
    w.outlet,
    w.first_ts,
    w.last_ts,
    w.lines,
    CAST(coalesce(sum(t.requests) FILTER (WHERE t.class = 'ai_bot'), 0) AS BIGINT) AS ai_bot,
    CAST(coalesce(sum(t.requests) FILTER (WHERE t.class = 'undeclared_ai'), 0) AS BIGINT) AS undeclared_ai,
    CAST(coalesce(sum(t.requests) FILTER (WHERE t.class = 'other_bot'), 0) AS BIGINT) AS other_bot,
    CAST(coalesce(sum(t.requests) FILTER (WHERE t.class = 'human'), 0) AS BIGINT) AS human
FROM upload_windows w
LEFT JOIN traffic_daily t ON t.upload_id = w.upload_id AND t.outlet = w.outlet
WHERE w.upload_id = $upload_id
GROUP BY ALL
ORDER BY w.lines DESC, w.outlet
