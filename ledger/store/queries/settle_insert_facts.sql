-- A run's named facts (_incoming: name, value).
INSERT INTO settlement_facts SELECT $run_id, name, value FROM _incoming
