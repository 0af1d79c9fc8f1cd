-- Runs of null bytes taken out of an upload's text (`ledger.blocks.Holes`): holes a crash or a copytruncate
-- rotation leaves in a log file. No access log writes a null byte; the line is read from after the run, and
-- the text before it on its line (the start of a line the hole cut off) is dropped. These count the runs,
-- their bytes, and the texts dropped, so that what was not read is on record with the upload.

ALTER TABLE uploads ADD COLUMN null_runs BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN null_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN null_cuts BIGINT NOT NULL DEFAULT 0;
