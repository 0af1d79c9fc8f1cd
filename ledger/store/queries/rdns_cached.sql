-- The newest cached DNS answer per address of $ips, if it is newer than $fresh_after and not an error.
SELECT ip, status, ptr_names, confirmed_names, error
FROM rdns_cache
WHERE list_contains($ips, ip) AND resolved_at >= $fresh_after
QUALIFY row_number() OVER (PARTITION BY ip ORDER BY resolved_at DESC) = 1 AND status <> 'error'
