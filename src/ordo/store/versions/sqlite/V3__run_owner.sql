-- Version 3: runs may end 'crashed' (their process is gone and never recorded the end), and
-- each run keeps the process that ran it (host name, pid, and what tells that process from a
-- later one with the same pid), so that a later run can tell. NULL for runs recorded before.
--
-- SQLite cannot widen a CHECK in place, and with foreign keys on, dropping job_runs would
-- delete every task through ON DELETE CASCADE. So the tasks are set aside in a plain copy
-- first, both tables are made again as they now are, and everything is copied back, in the
-- migration's one transaction.

CREATE TABLE job_runs_v3 (
    id                 TEXT PRIMARY KEY,
    job_definition_id  TEXT NOT NULL REFERENCES job_definitions (id),
    status             TEXT NOT NULL CHECK (status IN
                           ('running', 'success', 'partial_success', 'failed', 'aborted',
                            'crashed')),
    started_at         TIMESTAMP NOT NULL,
    completed_at       TIMESTAMP,
    error_message      TEXT,
    manifest_hash      TEXT NOT NULL,
    manifest_text      TEXT NOT NULL,
    rehearsal          BOOLEAN NOT NULL DEFAULT 0 CHECK (rehearsal IN (0, 1)),
    resumed_from       TEXT,
    owner_host         TEXT,                    -- the machine that ran it
    owner_pid          INTEGER,
    owner_started      TEXT                     -- boot id and start time of that pid
);
INSERT INTO job_runs_v3 (id, job_definition_id, status, started_at, completed_at,
                         error_message, manifest_hash, manifest_text, rehearsal, resumed_from)
    SELECT id, job_definition_id, status, started_at, completed_at,
           error_message, manifest_hash, manifest_text, rehearsal, resumed_from
    FROM job_runs;

CREATE TABLE tasks_v3_copy AS SELECT * FROM tasks;
DROP TABLE tasks;
DROP TABLE job_runs;
ALTER TABLE job_runs_v3 RENAME TO job_runs;

CREATE INDEX ix_job_runs_started ON job_runs (started_at);
CREATE INDEX ix_job_runs_job_started ON job_runs (job_definition_id, started_at);
CREATE INDEX ix_job_runs_job_status ON job_runs (job_definition_id, status, started_at);

CREATE TABLE tasks (
    id                 TEXT PRIMARY KEY,
    job_run_id         TEXT NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,
    step               TEXT NOT NULL,
    task_type          TEXT,
    unit_index         INTEGER,
    transaction_group  TEXT,
    status             TEXT NOT NULL CHECK (status IN
                           ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'RETRYING', 'SKIPPED')),
    attempt_count      INTEGER NOT NULL DEFAULT 0,
    max_attempts       INTEGER,
    error_message      TEXT,
    rows_affected      BIGINT,
    duration_ms        REAL,
    started_at         TIMESTAMP,
    completed_at       TIMESTAMP,
    details            TEXT,
    UNIQUE (job_run_id, step)
);
INSERT INTO tasks (id, job_run_id, position, step, task_type, unit_index, transaction_group,
                   status, attempt_count, max_attempts, error_message, rows_affected,
                   duration_ms, started_at, completed_at, details)
    SELECT id, job_run_id, position, step, task_type, unit_index, transaction_group,
           status, attempt_count, max_attempts, error_message, rows_affected,
           duration_ms, started_at, completed_at, details
    FROM tasks_v3_copy;
DROP TABLE tasks_v3_copy;
