-- The latest robots.txt verdict per fetch from the robots_verdicts table alone (the last row appended).
SELECT upload_id, line_no, arg_max(verdict, rowid) AS verdict FROM robots_verdicts GROUP BY upload_id, line_no
