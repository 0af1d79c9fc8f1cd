-- Largest-remainder split: each parent's whole minor units shared over its children in proportion to
-- their integer weights, exactly. Every child gets the floor of its exact share; the units still missing
-- go one each to the children with the largest remainders (ties: the smaller child key), so the children
-- add up to the parent exactly and none moves by a full unit. Integer arithmetic (HUGEINT) throughout.
-- Inputs: _parents (parent, minor), _edges (parent, child, weight >= 0).
WITH e AS (
    SELECT e.parent, e.child, CAST(e.weight AS HUGEINT) AS weight, CAST(p.minor AS HUGEINT) AS minor
    FROM _edges e
    JOIN _parents p ON p.parent = e.parent
    WHERE e.weight > 0
),
t AS (
    SELECT *, sum(weight) OVER (PARTITION BY parent) AS total FROM e
),
s AS (
    SELECT parent, child, minor, (minor * weight) // total AS fl, (minor * weight) % total AS rem FROM t
),
r AS (
    SELECT *, minor - sum(fl) OVER (PARTITION BY parent) AS missing,
           row_number() OVER (PARTITION BY parent ORDER BY rem DESC, child) AS rank
    FROM s
)
SELECT parent, child, CAST(fl + CASE WHEN rank <= missing THEN 1 ELSE 0 END AS BIGINT) AS minor
FROM r
