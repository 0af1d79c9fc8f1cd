-- An upload's rejected lines, in line order: the number, the reason and the line as read (up to 2,048
-- characters). Parameters: $upload_id, $reason (NULL: every reason), $limit (NULL: all).
SELECT line_no, reason, raw
FROM rejects
WHERE upload_id = $upload_id AND ($reason IS NULL OR reason = $reason)
ORDER BY line_no
LIMIT $limit
