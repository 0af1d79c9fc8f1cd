-- One settlement run's payouts per outlet. Parameter: $run_id. author_amount is the authors' pass-through
-- part of amount (F8 author_share; 0 when the scheme has none).
SELECT
    p.outlet,
    CAST(sum(p.basis_units) AS DECIMAL(38, 6)) AS basis_units,
    CAST(sum(p.fetches) AS BIGINT) AS fetches,
    CAST(sum(p.amount) AS DECIMAL(38, 4)) AS amount,
    any_value(p.currency) AS currency,
    CASE WHEN any_value(s.total) = 0 THEN 0
         ELSE CAST(sum(p.amount) / any_value(s.total) AS DECIMAL(9, 6)) END AS share,
    CAST(coalesce(any_value(o.author_amount), 0) AS DECIMAL(38, 4)) AS author_amount
FROM payouts p
JOIN settlements s USING (run_id)
LEFT JOIN settlement_outlets o ON o.run_id = p.run_id AND o.outlet = p.outlet
WHERE p.run_id = $run_id
GROUP BY p.outlet
ORDER BY amount DESC, p.outlet
