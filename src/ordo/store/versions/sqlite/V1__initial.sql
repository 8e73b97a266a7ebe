-- ordo's run state store, version 1: seed 003's data model plus what ordo needs.
-- Times are UTC, written by SQLAlchemy as 'YYYY-MM-DD HH:MM:SS.ffffff' text (SQLite has no
-- time type). Statuses are text with a CHECK rather than lookup tables: a later migration
-- can widen the list, and a row reads the same with any client.

CREATE TABLE job_definitions (
    id          TEXT PRIMARY KEY,               -- a UUID
    name        TEXT NOT NULL UNIQUE,           -- the pipeline's name
    schedule    TEXT,                           -- a cron expression, for the scheduler
    path        TEXT NOT NULL,                  -- the manifest file it was last run from
    definition  TEXT NOT NULL,                  -- the manifest text it was last run with
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE job_runs (
    id                 TEXT PRIMARY KEY,        -- ordo's run id
    job_definition_id  TEXT NOT NULL REFERENCES job_definitions (id),
    status             TEXT NOT NULL CHECK (status IN
                           ('running', 'success', 'partial_success', 'failed', 'aborted')),
    started_at         TIMESTAMP NOT NULL,
    completed_at       TIMESTAMP,
    error_message      TEXT,                    -- masked before it is written
    manifest_hash      TEXT NOT NULL,           -- sha256 of manifest_text, hex
    manifest_text      TEXT NOT NULL,           -- the exact manifest this run used
    rehearsal          BOOLEAN NOT NULL DEFAULT 0 CHECK (rehearsal IN (0, 1)),
    resumed_from       TEXT                     -- the run this one resumed (no foreign key:
                                                -- pruning old runs must not fail on it)
);

-- `ordo runs`: the newest runs, of all jobs or of one.
CREATE INDEX ix_job_runs_started ON job_runs (started_at);
CREATE INDEX ix_job_runs_job_started ON job_runs (job_definition_id, started_at);
-- `ordo run --resume`: the newest failed run of a job.
CREATE INDEX ix_job_runs_job_status ON job_runs (job_definition_id, status, started_at);

CREATE TABLE tasks (
    id                 TEXT PRIMARY KEY,        -- a UUID
    job_run_id         TEXT NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    position           INTEGER NOT NULL,        -- 1-based, in plan order
    step               TEXT NOT NULL,
    task_type          TEXT,                    -- the step's kind: sql, python, ...
    unit_index         INTEGER,                 -- 1-based index of its unit in the plan
    transaction_group  TEXT,
    status             TEXT NOT NULL CHECK (status IN
                           ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'RETRYING', 'SKIPPED')),
    attempt_count      INTEGER NOT NULL DEFAULT 0,
    max_attempts       INTEGER,
    error_message      TEXT,                    -- masked before it is written
    rows_affected      BIGINT,
    duration_ms        REAL,
    started_at         TIMESTAMP,
    completed_at       TIMESTAMP,
    UNIQUE (job_run_id, step)                   -- also the index every task update uses
);
