-- A run's outlets (_incoming: outlet, status, units_e6, fetches, exact, minor, author_minor, std_error, detail).
INSERT INTO settlement_outlets
SELECT $run_id, outlet, status,
       CAST(CAST(units_e6 AS DECIMAL(38, 0)) * CAST(0.000001 AS DECIMAL(7, 6)) AS DECIMAL(38, 6)),
       fetches, exact,
       CAST(CAST(minor AS DECIMAL(38, 0)) * CAST($unit AS DECIMAL(5, 4)) AS DECIMAL(38, 4)),
       CAST(CAST(author_minor AS DECIMAL(38, 0)) * CAST($unit AS DECIMAL(5, 4)) AS DECIMAL(38, 4)),
       std_error, detail
FROM _incoming
