-- An upload's rejected lines per reason: how many, and the first and last line numbers.
-- Parameter: $upload_id.
SELECT reason, count(*) AS lines, min(line_no) AS first_line, max(line_no) AS last_line
FROM rejects
WHERE upload_id = $upload_id
GROUP BY reason
ORDER BY lines DESC, reason
