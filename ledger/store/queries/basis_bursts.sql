-- F11 answers: user-triggered fetches (the rows q of qualifying_fetches) grouped into bursts. A fetch more
-- than $window seconds after the previous one of the same operator (and client address, when
-- $by_ip) starts a new burst; each burst is one answer. Returns the weighted fetches per answer and outlet
-- as integers of millionths.
WITH ordered AS (
    SELECT operator, CASE WHEN $by_ip THEN coalesce(client_ip, '-') ELSE '*' END AS source, outlet, ts, url,
           exact_weight AS weight
    FROM q
    WHERE exact_weight > 0
),
flagged AS (
    SELECT *, CASE WHEN epoch(ts) - epoch(lag(ts) OVER w) <= $window THEN 0 ELSE 1 END AS starts
    FROM ordered
    WINDOW w AS (PARTITION BY operator, source ORDER BY ts, outlet, url)
),
numbered AS (
    SELECT *, sum(starts) OVER (PARTITION BY operator, source ORDER BY ts, outlet, url
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS burst
    FROM flagged
)
SELECT operator, source || '#' || CAST(burst AS VARCHAR) AS answer, outlet,
       CAST(round(sum(weight), 6) * 1000000 AS BIGINT) AS units_e6,
       CAST(count(*) AS BIGINT) AS fetches,
       min(ts) AS first_ts
FROM numbered
GROUP BY ALL
