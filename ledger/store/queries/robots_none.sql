-- No robots.txt verdicts in this ledger (or none needed): every fetch is judged 'no_snapshot'.
SELECT CAST(NULL AS VARCHAR) AS upload_id, CAST(NULL AS BIGINT) AS line_no, CAST(NULL AS VARCHAR) AS verdict
WHERE false
