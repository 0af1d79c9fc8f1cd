-- A run's payouts per outlet and operator, from the allocation (_incoming: outlet, operator, units_e6,
-- fetches, minor). Units and amounts become exact decimals by multiplication (never division).
INSERT INTO payouts (run_id, outlet, operator, basis_units, fetches, amount, currency)
SELECT $run_id, outlet, operator,
       CAST(CAST(units_e6 AS DECIMAL(38, 0)) * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 6)),
       fetches,
       CAST(CAST(minor AS DECIMAL(38, 0)) * CAST($unit AS DECIMAL(5, 4)) AS DECIMAL(38, 4)),
       $currency
FROM _incoming
