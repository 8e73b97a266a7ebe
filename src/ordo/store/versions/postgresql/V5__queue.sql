-- Version 5: the service's run queue and its workers (issue 14).
--
-- A triggered or scheduled run is a PENDING row of service_runs; a worker claims it with a
-- lease (lease_until) that its heartbeats move on. A lease that runs out puts the run back
-- in reach of every worker: it is resumed, the ledger of the run (keyed by its id) skipping
-- what it committed. Statuses are the scheduler's; ordo's own outcome (success,
-- partial_success, ...) is kept beside them. Each attempt is an ordo run (job_runs row),
-- the latest one named by ordo_run_id.
CREATE TABLE service_runs (
    id                 TEXT PRIMARY KEY,        -- a UUID, also the ledger's key of the run
    job_definition_id  TEXT NOT NULL REFERENCES job_definitions (id),
    status             TEXT NOT NULL CHECK (status IN
                           ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    outcome            TEXT,                    -- ordo's run status once it ended
    trigger            TEXT NOT NULL CHECK (trigger IN ('schedule', 'api', 'cli')),
    params             TEXT,                    -- JSON object, over the job's own
    select_steps       TEXT,                    -- JSON list of selectors
    scheduled_for      TIMESTAMPTZ,             -- a scheduled run's fire time
    requested_at       TIMESTAMPTZ NOT NULL,
    started_at         TIMESTAMPTZ,             -- first claimed
    finished_at        TIMESTAMPTZ,
    attempts           INTEGER NOT NULL DEFAULT 0,
    worker_id          TEXT,                    -- the worker holding (or last holding) it
    lease_until        TIMESTAMPTZ,
    cancel_requested   BOOLEAN NOT NULL DEFAULT FALSE,
    ordo_run_id        TEXT,                    -- the latest attempt's run in job_runs
    error_message      TEXT                     -- masked before it is written
);
CREATE INDEX ix_service_runs_queue ON service_runs (status, requested_at);
CREATE INDEX ix_service_runs_job ON service_runs (job_definition_id, status);
CREATE INDEX ix_service_runs_requested ON service_runs (requested_at);

-- One row per worker process; one that stopped heartbeating is shown as lost.
CREATE TABLE workers (
    id              TEXT PRIMARY KEY,           -- host:pid:random
    host            TEXT NOT NULL,
    pid             INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('idle', 'busy', 'stopped')),
    started_at      TIMESTAMPTZ NOT NULL,
    last_heartbeat  TIMESTAMPTZ NOT NULL,
    current_run     TEXT
);
