-- The fetches behind one outlet's amounts in a run, from the rows q of qualifying_fetches (narrowed to the
-- outlet and to the uploads the run read): per operator, purpose, verification verdict and robots.txt
-- verdict, the fetches and their weight (verification x robots multiplier x F3 purpose weight).
SELECT operator, purpose, verification, robots,
       CAST(count(*) AS BIGINT) AS fetches,
       CAST(sum(exact_weight) AS DECIMAL(38, 6)) AS weighted
FROM q
GROUP BY ALL
ORDER BY operator, purpose, verification, robots
