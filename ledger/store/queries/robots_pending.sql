-- AI fetches that need a robots verdict: none yet, or the latest one was judged against another
-- snapshot than the one in force at the fetch's time. The host a fetch is judged under is the outlet
-- domain its request host equals or is a subdomain of; without a host (combined logs), the outlet's
-- primary domain (shortest, then alphabetical). The snapshot in force is that of the domain's latest
-- check at or before the fetch's time (an as-of join). Parameter: $uploads, the uploads whose fetches
-- to look at (ingest: the ones it wrote, whose fetches have no verdict yet; the range lets DuckDB skip
-- the row groups of older uploads, upload ids being time-ordered), or NULL for every upload (a new
-- robots check can change the snapshot in force of any fetch).
WITH hosts AS (
    SELECT DISTINCT outlet, host FROM fetches
    WHERE ai AND ($uploads IS NULL OR (upload_id BETWEEN list_min($uploads) AND list_max($uploads)
                                       AND upload_id IN (SELECT unnest($uploads))))
),
host_domain AS (
    SELECT
        h.outlet,
        h.host,
        coalesce(
            first(d.domain ORDER BY length(d.domain) DESC)
                FILTER (WHERE h.host = d.domain OR h.host LIKE '%.' || d.domain),
            first(d.domain ORDER BY length(d.domain), d.domain)
        ) AS domain
    FROM hosts h
    JOIN outlet_domains d ON d.outlet = h.outlet
    GROUP BY h.outlet, h.host
),
ai_fetches AS (
    SELECT f.upload_id, f.line_no, f.ts, f.bot, f.path, hd.domain
    FROM fetches f
    JOIN host_domain hd ON hd.outlet = f.outlet AND hd.host IS NOT DISTINCT FROM f.host
    WHERE f.ai AND ($uploads IS NULL OR (f.upload_id BETWEEN list_min($uploads) AND list_max($uploads)
                                         AND f.upload_id IN (SELECT unnest($uploads))))
),
in_force AS (
    SELECT a.upload_id, a.line_no, a.bot, a.path, c.snapshot_id
    FROM ai_fetches a
    ASOF LEFT JOIN robots_checks c ON a.domain = c.host AND a.ts >= c.checked_at
)
SELECT i.upload_id, i.line_no, i.bot, i.path, i.snapshot_id
FROM in_force i
LEFT JOIN robots_verdicts_latest v ON v.upload_id = i.upload_id AND v.line_no = i.line_no
WHERE v.upload_id IS NULL OR v.snapshot_id IS DISTINCT FROM i.snapshot_id
