-- The operators' figures in force: for each (operator, period), the row of the latest import.
SELECT operator, period, currency, revenue, deals, payment, value_of_news, repertoire_share
FROM operator_inputs
QUALIFY row_number() OVER (PARTITION BY operator, period ORDER BY import_no DESC) = 1
ORDER BY operator, period
