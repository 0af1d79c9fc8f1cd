-- Largest-remainder rounding of tariff values (_values: outlet, operator, value in 10^-24, units_e6,
-- fetches) to whole minor units: every cell gets the floor of value / 10^$shift, and the $total minus the
-- floors go one each to the largest remainders (ties: the smaller outlet, then operator).
WITH s AS (
    SELECT outlet, operator, units_e6, fetches, value,
           CAST(value AS HUGEINT) // CAST($scale AS HUGEINT) AS fl,
           CAST(value AS HUGEINT) % CAST($scale AS HUGEINT) AS rem
    FROM _values
),
r AS (
    SELECT *, CAST($total AS HUGEINT) - sum(fl) OVER () AS missing,
           row_number() OVER (ORDER BY rem DESC, outlet, operator) AS rank
    FROM s
)
SELECT outlet, operator, units_e6, fetches, CAST(value AS VARCHAR) AS value,
       CAST(fl + CASE WHEN rank <= missing THEN 1 ELSE 0 END AS BIGINT) AS minor
FROM r
ORDER BY outlet, operator
