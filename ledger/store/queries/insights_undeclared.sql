-- Undeclared traffic: requests without a registry bot in their user agent from an AI operator's published
-- ranges (attribution = 'ip_attributed'), per operator and list. Parameters: $start, $end, $outlet.
SELECT
    operator,
    ip_list,
    count(*) AS fetches,
    count(DISTINCT outlet) AS outlets,
    count(DISTINCT client_ip) AS addresses,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM fetches
WHERE ts >= $start AND ts < $end
  AND attribution = 'ip_attributed'
  AND ($outlet IS NULL OR outlet = $outlet)
GROUP BY operator, ip_list
ORDER BY fetches DESC, operator, ip_list
