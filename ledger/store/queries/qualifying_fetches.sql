-- Qualifying fetches of one scheme in a period: one row per fetch with its weight. A fetch qualifies when
-- it is an AI fetch in [$start, $end) whose attribution, purpose, method, status and path pass the
-- scheme's filters. Its weight is the product of its verification verdict's weight, the robots.txt
-- multiplier when it was made against a disallow in force ($robots_multiplier), and F3's purpose weight;
-- with $terms_on, also F3's length and freshness terms (floating point, rounded to 12 places).
-- _rl_robots (upload_id, line_no, verdict) and _rl_articles (url, words, published_at) are temporary views
-- the caller defines: the ledger's latest verdicts and article inventory, or empty stand-ins. They are only
-- joined when used ($robots_on, $terms_on): under a false join condition DuckDB skips them and their columns.
-- $outlet and $uploads (null: all) narrow the rows for an outlet statement. Path patterns are evaluated
-- once per distinct path of the period, not once per fetch.
WITH paths AS (
    SELECT DISTINCT path FROM fetches WHERE ts >= $start AND ts < $end AND ai
),
passing AS (  -- filtering a list: the optimizer would push a WHERE on path down to every fetch
    SELECT unnest(list_filter(list(path), lambda p:
        ($include_regex = '' OR regexp_matches(coalesce(p, ''), $include_regex))
        AND ($exclude_regex = '' OR NOT regexp_matches(coalesce(p, ''), $exclude_regex)))) AS path
    FROM paths
)
SELECT
    f.outlet,
    f.operator,
    f.purpose,
    f.url,
    f.ts,
    f.client_ip,
    f.verification,
    coalesce(r.verdict, 'no_snapshot') AS robots,
    CAST(CASE f.verification
        WHEN 'verified' THEN $w_verified
        WHEN 'unverifiable' THEN $w_unverifiable
        WHEN 'unknown' THEN $w_unknown
        ELSE $w_spoofed
    END * 1000000 AS BIGINT) AS vw_e6,
    CASE WHEN len($section_patterns) = 0 THEN 0 ELSE coalesce(list_position(list_transform($section_patterns,
        lambda p: regexp_matches(coalesce(f.path, ''), p)), true), 0) END AS section,
    CAST(
        CAST(CASE f.verification
            WHEN 'verified' THEN $w_verified
            WHEN 'unverifiable' THEN $w_unverifiable
            WHEN 'unknown' THEN $w_unknown
            ELSE $w_spoofed
        END AS DECIMAL(18, 6))
        * CAST(CASE WHEN r.verdict = 'disallowed' THEN $robots_multiplier ELSE 1 END AS DECIMAL(18, 6))
        * CAST(CASE f.purpose
            WHEN 'training' THEN $pw_training
            WHEN 'search' THEN $pw_search
            WHEN 'user' THEN $pw_user
            ELSE 1
        END AS DECIMAL(18, 6))
    AS DECIMAL(38, 18)) AS exact_weight,
    CASE WHEN NOT $terms_on THEN 1.0 ELSE
        CASE WHEN $gamma = 0 OR a.words IS NULL OR a.words <= 0 THEN 1.0
             ELSE pow(least(a.words, $len_cap) / $len_ref, $gamma) END
        * CASE
            WHEN $freshness = 'none' OR a.published_at IS NULL THEN 1.0
            WHEN $freshness = 'half_life'
                THEN pow(2.0, -greatest(0.0, epoch(f.ts) - epoch(a.published_at)) / 86400.0 / $half_life)
            ELSE coalesce(list_extract($step_weights, list_position(list_transform($step_ages,
                    lambda x: greatest(0.0, epoch(f.ts) - epoch(a.published_at)) / 86400.0 <= x), true)),
                $older_weight)
        END
    END AS terms
FROM fetches f
LEFT JOIN _rl_robots r ON $robots_on AND r.upload_id = f.upload_id AND r.line_no = f.line_no
LEFT JOIN _rl_articles a ON $terms_on AND a.url = f.url
WHERE f.ts >= $start AND f.ts < $end
  AND f.ai
  AND (f.attribution = 'declared' OR $include_undeclared)
  AND list_contains($purposes, f.purpose)
  AND list_contains($methods, f.method)
  AND list_contains($statuses, CAST(f.status AS INTEGER))
  AND (f.path IN (SELECT path FROM passing)
       OR (f.path IS NULL AND EXISTS (SELECT 1 FROM paths p WHERE p.path IS NULL)
           AND ($include_regex = '' OR regexp_matches('', $include_regex))
           AND ($exclude_regex = '' OR NOT regexp_matches('', $exclude_regex))))
  AND ($outlet IS NULL OR f.outlet = $outlet)
  AND ($uploads IS NULL OR list_contains($uploads, f.upload_id))
