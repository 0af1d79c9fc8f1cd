-- Largest-remainder rounding of tariff values (_values: outlet, operator, value in 10^-24, units_e6,
-- fetches) to whole minor units: every cell gets the floor of value / $scale, and the $total minus the
-- floors go one each to the largest remainders (ties: the smaller outlet, then operator). The units still
-- missing are one scalar (k), not a window over every cell; the cells come back in no particular order.
WITH s AS (
    SELECT outlet, operator, units_e6, fetches,
           CAST(value AS HUGEINT) // CAST($scale AS HUGEINT) AS fl,
           CAST(value AS HUGEINT) % CAST($scale AS HUGEINT) AS rem
    FROM _values
),
k AS (
    SELECT CAST($total AS HUGEINT) - sum(fl) AS missing FROM s
),
r AS (
    SELECT *, row_number() OVER (ORDER BY rem DESC, outlet, operator) AS rank FROM s
)
SELECT outlet, operator, units_e6, fetches,
       CAST(fl + CASE WHEN rank <= (SELECT missing FROM k) THEN 1 ELSE 0 END AS BIGINT) AS minor
FROM r
