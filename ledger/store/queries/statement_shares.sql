-- A run's pots and each outlet's share of them: the key value that earned it, the pot's key total and
-- amount ($outlet null: every outlet).
SELECT sh.pot, p.operator AS payer, p.key, sh.outlet, sh.key_value, p.key_total,
       CASE WHEN p.key_total = 0 THEN 0 ELSE CAST(sh.key_value / p.key_total AS DECIMAL(18, 9)) END AS key_share,
       p.amount AS pot_amount, sh.amount
FROM settlement_shares sh
JOIN settlement_pots p ON p.run_id = sh.run_id AND p.pot = sh.pot
WHERE sh.run_id = $run_id AND ($outlet IS NULL OR sh.outlet = $outlet)
ORDER BY sh.outlet, sh.pot
