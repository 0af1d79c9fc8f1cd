-- The economists' workbench: outlet RPM for referral value (F9), operator payments and revenues for pool
-- sizing (F5), and the traces that let a settlement run be re-opened as an outlet statement. Runs stay
-- immutable: every table here is written once per run, in the run's transaction.

ALTER TABLE outlets ADD COLUMN rpm DECIMAL(18, 4);  -- revenue per 1,000 visits, in the schemes' currency

-- Operators' figures per period, as imported from a CSV or TOML file. A later import of the same
-- (operator, period) supersedes an earlier one; the earlier rows stay (append-only).
CREATE TABLE operator_imports (
    import_no       INTEGER PRIMARY KEY,     -- 1, 2, 3 ... in import order
    source          VARCHAR NOT NULL,        -- the file name as given
    content_sha256  VARCHAR NOT NULL,
    rows            INTEGER NOT NULL,
    imported_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE operator_inputs (
    import_no         INTEGER NOT NULL REFERENCES operator_imports (import_no),
    line_no           INTEGER NOT NULL,      -- where the row is in the imported file
    operator          VARCHAR NOT NULL,      -- as the ledger names operators (royalty usage --by operator)
    period            VARCHAR NOT NULL,      -- YYYY-MM (a month) or YYYY (a year)
    currency          VARCHAR NOT NULL,
    revenue           DECIMAL(38, 4),        -- relevant revenue in the period (levy, revenue tariff, F11)
    deals             DECIMAL(38, 4),        -- paid under direct deals (offsets a levy)
    payment           DECIMAL(38, 4),        -- what the operator pays (sizing = 'payments')
    value_of_news     DECIMAL(38, 4),        -- the value news creates for the operator (nash)
    repertoire_share  DECIMAL(9, 6),         -- the part of its usage that is the collective's repertoire
    PRIMARY KEY (import_no, operator, period)
);

-- Each pot of a run (the whole pool, a global pool, one operator's payment, one F7 key, ...).
CREATE TABLE settlement_pots (
    run_id        VARCHAR NOT NULL REFERENCES settlements (run_id),
    pot           VARCHAR NOT NULL,
    operator      VARCHAR,                  -- the paying operator of a per-operator pot
    key           VARCHAR NOT NULL,         -- what splits the pot: fetches, weighted, fte, equal, ...
    exact_amount  VARCHAR NOT NULL,         -- as an exact fraction
    amount        DECIMAL(38, 4) NOT NULL,  -- paid to outlets from this pot
    retained      DECIMAL(38, 4) NOT NULL,  -- kept back from this pot
    key_total     DECIMAL(38, 6) NOT NULL,  -- the sum of the key over the outlets sharing the pot
    detail        VARCHAR NOT NULL,         -- how the pot's size was computed, with the numbers
    PRIMARY KEY (run_id, pot)
);

-- Each outlet's share of each pot: the key value that earned it and the amount. One row per (run, pot,
-- outlet) by construction; like payouts below, no index (a run writes its rows once, in bulk).
CREATE TABLE settlement_shares (
    run_id     VARCHAR NOT NULL,
    pot        VARCHAR NOT NULL,
    outlet     VARCHAR NOT NULL,
    key_value  DECIMAL(38, 6) NOT NULL,
    amount     DECIMAL(38, 4) NOT NULL
);

-- Each outlet of a run: its status under the constraint layer and the exact amount before rounding.
CREATE TABLE settlement_outlets (
    run_id         VARCHAR NOT NULL,
    outlet         VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,        -- paid | floor | cap | group_cap | ineligible | unpaid
    basis_units    DECIMAL(38, 6) NOT NULL, -- qualifying units (after weights and refetch caps)
    fetches        BIGINT NOT NULL,
    exact_amount   VARCHAR NOT NULL,        -- the amount as an exact fraction, before rounding
    amount         DECIMAL(38, 4) NOT NULL,
    author_amount  DECIMAL(38, 4) NOT NULL, -- the authors' pass-through part of amount
    std_error      DOUBLE,                  -- Monte-Carlo Shapley: the estimate's standard error
    detail         VARCHAR NOT NULL         -- one row per (run, outlet) by construction
);

-- Named values a run solved or read: pool sizes, the water-filling lambda, group factors, digests.
CREATE TABLE settlement_facts (
    run_id  VARCHAR NOT NULL REFERENCES settlements (run_id),
    name    VARCHAR NOT NULL,
    value   VARCHAR NOT NULL,
    PRIMARY KEY (run_id, name)
);

-- The uploads a run read, so that a statement drills down to exactly the fetches behind it.
CREATE TABLE settlement_uploads (
    run_id      VARCHAR PRIMARY KEY REFERENCES settlements (run_id),
    upload_ids  VARCHAR[] NOT NULL          -- sorted
);

-- payouts without its primary key and foreign key: a run writes its payouts once, in its own transaction,
-- one row per (outlet, operator) by construction, and maintaining the key for hundreds of thousands of
-- rows per run cost more than computing the run (bench/bench_schemes.py). Same columns, same rows.
CREATE TABLE payouts_unkeyed (
    run_id       VARCHAR NOT NULL,
    outlet       VARCHAR NOT NULL,
    operator     VARCHAR NOT NULL,
    basis_units  DECIMAL(38, 6) NOT NULL,
    fetches      BIGINT NOT NULL,
    amount       DECIMAL(38, 4) NOT NULL,
    currency     VARCHAR NOT NULL
);
INSERT INTO payouts_unkeyed SELECT run_id, outlet, operator, basis_units, fetches, amount, currency FROM payouts;
DROP TABLE payouts;
ALTER TABLE payouts_unkeyed RENAME TO payouts;
