-- Which optional tables, views and macros this ledger has (other migrations add them).
SELECT table_name AS name FROM duckdb_tables() WHERE NOT temporary
UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT temporary
UNION ALL SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro' AND NOT internal
