-- F1 values per outlet and operator, exactly: units (millionths) x price x operator multiplier x section
-- rate (each in millionths), so value is an integer of 10^-24 currency units. A purpose without a price
-- pays 0; an operator without a multiplier, and a path in no section, count with 1.
-- Inputs: _units (basis units), _prices (purpose, price_e6), _mults (operator, mult_e6), _sections
-- (section, rate_e6).
SELECT
    u.outlet,
    u.operator,
    sum(CAST(u.units_e6 AS HUGEINT) * coalesce(p.price_e6, 0) * coalesce(m.mult_e6, 1000000)
        * coalesce(s.rate_e6, 1000000)) AS value,
    CAST(sum(u.units_e6) AS BIGINT) AS units_e6,
    CAST(sum(u.fetches) AS BIGINT) AS fetches
FROM _units u
LEFT JOIN _prices p ON p.purpose = u.purpose
LEFT JOIN _mults m ON m.operator = u.operator
LEFT JOIN _sections s ON s.section = u.section
GROUP BY u.outlet, u.operator
