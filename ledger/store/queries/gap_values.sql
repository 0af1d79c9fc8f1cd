-- F9 values per outlet and operator, exactly, as integers of 10^-24 currency units. F = qualifying units
-- (millionths), R = referred visits. $mode:
--   net_count         price x max(0, F - kappa x R)
--   value_offset      max(0, price x F - rpm / 1000 x R)          (rpm in 10^-4: outlets' RPM)
--   ratio_multiplier  price x multiplier[o] x F                   (multiplier in 10^-9, per operator)
-- Inputs: _units (outlet, operator, units_e6, fetches), _refs (outlet, operator, referrals),
-- _rpm (outlet, rpm_e4), _mults (operator, mult_e9). Parameters are integers: $price_e6, $kappa_e6.
WITH cells AS (
    SELECT coalesce(u.outlet, r.outlet) AS outlet, coalesce(u.operator, r.operator) AS operator,
           coalesce(u.units_e6, 0) AS units_e6, coalesce(u.fetches, 0) AS fetches,
           coalesce(r.referrals, 0) AS referrals
    FROM _units u
    FULL OUTER JOIN _refs r ON r.outlet = u.outlet AND r.operator = u.operator
)
SELECT
    c.outlet, c.operator, c.units_e6, c.fetches, c.referrals,
    CASE $mode
        WHEN 'net_count' THEN CAST($price_e6 AS HUGEINT)
            * greatest(0, CAST(c.units_e6 AS HUGEINT) - CAST($kappa_e6 AS HUGEINT) * c.referrals) * 1000000000000
        WHEN 'value_offset' THEN greatest(0,
            CAST($price_e6 AS HUGEINT) * c.units_e6 * 1000000000000
            - CAST(coalesce(x.rpm_e4, 0) AS HUGEINT) * c.referrals * 100000000000000000)
        ELSE CAST($price_e6 AS HUGEINT) * coalesce(m.mult_e9, 0) * c.units_e6 * 1000
    END AS value
FROM cells c
LEFT JOIN _rpm x ON x.outlet = c.outlet
LEFT JOIN _mults m ON m.operator = c.operator
