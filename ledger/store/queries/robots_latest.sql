-- The latest robots.txt verdict per fetch (migration 002's view).
SELECT upload_id, line_no, verdict FROM robots_verdicts_latest
