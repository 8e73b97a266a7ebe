-- Version 2: what a step's kind reported beyond a row count (rows per file, each check's
-- outcome, each model's result), as JSON text. NULL for steps that reported nothing.
ALTER TABLE tasks ADD COLUMN details TEXT;
