-- A run's payouts per outlet and operator ($outlet null: every outlet).
SELECT outlet, operator, basis_units, fetches, amount, currency
FROM payouts
WHERE run_id = $run_id AND ($outlet IS NULL OR outlet = $outlet)
ORDER BY outlet, amount DESC, operator
