-- A content digest of the robots.txt verdicts a settlement read (_rl_robots): the row count and the sum of
-- each row's MD5, as text (order-independent, the same on every machine).
SELECT CAST(count(*) AS VARCHAR) || ':'
    || CAST(coalesce(sum(md5_number_lower(upload_id || '|' || CAST(line_no AS VARCHAR) || '|' || verdict)), 0)
       AS VARCHAR) AS digest
FROM _rl_robots
