-- The zone an upload's times without an offset were read in (`royalty ingest --timezone`): null when they
-- were read as UTC, or when its format's times carry their own offset. The stored times are UTC either way;
-- this keeps the assumption behind them with the evidence.

ALTER TABLE uploads ADD COLUMN timezone VARCHAR;
