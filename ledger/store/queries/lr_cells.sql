-- Largest-remainder split of each outlet's part of each pot (_funded: pot, outlet, minor) over the
-- operators behind it (_cells: pot, outlet, operator, weight), exactly, then summed per (outlet, operator).
-- Ties go to the smaller operator name. Integer arithmetic (HUGEINT) throughout. Each funded (pot, outlet)
-- is numbered once (gid), so that the windows partition by an integer rather than by two strings.
WITH f AS (
    SELECT pot, outlet, minor, row_number() OVER () AS gid FROM _funded WHERE minor > 0
),
e AS (
    SELECT f.gid, c.outlet, c.operator, CAST(c.weight AS HUGEINT) AS weight, CAST(f.minor AS HUGEINT) AS minor
    FROM _cells c
    JOIN f ON f.pot = c.pot AND f.outlet = c.outlet
    WHERE c.weight > 0
),
t AS (
    SELECT *, sum(weight) OVER (PARTITION BY gid) AS total FROM e
),
s AS (
    SELECT gid, outlet, operator, minor, (minor * weight) // total AS fl, (minor * weight) % total AS rem FROM t
),
r AS (
    SELECT *, minor - sum(fl) OVER (PARTITION BY gid) AS missing,
           row_number() OVER (PARTITION BY gid ORDER BY rem DESC, operator) AS rank
    FROM s
)
SELECT outlet, operator, CAST(sum(fl + CASE WHEN rank <= missing THEN 1 ELSE 0 END) AS BIGINT) AS minor
FROM r
GROUP BY outlet, operator
