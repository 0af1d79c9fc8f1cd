-- Latest robots verdicts of AI fetches per outlet and verdict; fetches never judged count as 'unjudged'.
SELECT f.outlet, coalesce(v.verdict, 'unjudged') AS verdict, count(*) AS fetches
FROM fetches f
LEFT JOIN robots_verdicts_latest v ON v.upload_id = f.upload_id AND v.line_no = f.line_no
WHERE f.ai AND f.ts >= $start AND f.ts < $end
GROUP BY ALL
ORDER BY f.outlet, verdict
