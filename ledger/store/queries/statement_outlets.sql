-- A run's outlets with their share of the total ($outlet null: every outlet).
SELECT o.outlet, o.status, o.basis_units, o.fetches, o.exact_amount, o.amount, o.author_amount,
       CASE WHEN s.total = 0 THEN 0 ELSE CAST(o.amount / s.total AS DECIMAL(9, 6)) END AS share,
       o.std_error, o.detail
FROM settlement_outlets o
JOIN settlements s USING (run_id)
WHERE o.run_id = $run_id AND ($outlet IS NULL OR o.outlet = $outlet)
ORDER BY o.amount DESC, o.outlet
