-- A run's pots (_incoming: pot, operator, key, exact, minor, retained_minor, key_total, detail).
INSERT INTO settlement_pots
SELECT $run_id, pot, operator, key, exact,
       CAST(CAST(minor AS DECIMAL(38, 0)) * CAST($unit AS DECIMAL(5, 4)) AS DECIMAL(38, 4)),
       CAST(CAST(retained_minor AS DECIMAL(38, 0)) * CAST($unit AS DECIMAL(5, 4)) AS DECIMAL(38, 4)),
       CAST(key_total AS DECIMAL(38, 6)), detail
FROM _incoming
