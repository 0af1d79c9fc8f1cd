-- A run's shares of pots (_incoming: pot, outlet, key_value, minor).
INSERT INTO settlement_shares
SELECT $run_id, pot, outlet, CAST(key_value AS DECIMAL(38, 6)),
       CAST(CAST(minor AS DECIMAL(38, 0)) * CAST($unit AS DECIMAL(5, 4)) AS DECIMAL(38, 4))
FROM _incoming
