-- ordo's run state store, version 1: seed 003's data model plus what ordo needs.
-- Tables are created unqualified, so they land in the first schema of the search_path
-- (ORDO_STATE_URL=postgresql://.../db?options=-csearch_path%3Dordo puts them in "ordo").
-- Statuses are text with a CHECK rather than enum types: a later migration can widen the
-- list with one ALTER, and a row reads the same with any client.

CREATE TABLE job_definitions (
    id          TEXT PRIMARY KEY,               -- a UUID
    name        TEXT NOT NULL UNIQUE,           -- the pipeline's name
    schedule    TEXT,                           -- a cron expression, for the scheduler
    path        TEXT NOT NULL,                  -- the manifest file it was last run from
    definition  TEXT NOT NULL,                  -- the manifest text it was last run with
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE job_runs (
    id                 TEXT PRIMARY KEY,        -- ordo's run id
    job_definition_id  TEXT NOT NULL REFERENCES job_definitions (id),
    status             TEXT NOT NULL CHECK (status IN
                           ('running', 'success', 'partial_success', 'failed', 'aborted')),
    started_at         TIMESTAMPTZ NOT NULL,
    completed_at       TIMESTAMPTZ,
    error_message      TEXT,                    -- masked before it is written
    manifest_hash      TEXT NOT NULL,           -- sha256 of manifest_text, hex
    manifest_text      TEXT NOT NULL,           -- the exact manifest this run used
    rehearsal          BOOLEAN NOT NULL DEFAULT FALSE,
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
    duration_ms        DOUBLE PRECISION,
    started_at         TIMESTAMPTZ,
    completed_at       TIMESTAMPTZ,
    UNIQUE (job_run_id, step)                   -- also the index every task update uses
);
