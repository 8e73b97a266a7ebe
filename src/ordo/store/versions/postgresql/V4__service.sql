-- Version 4: what the service needs (issue 14): a job says what to run and when, tokens let
-- people in, and each scheduled fire is claimed once.
--
-- job_definitions keeps its rows and columns: the jobs `ordo run` recorded stay as they are
-- (origin 'run', no manifest: the service does not run them). JSON values are TEXT, as in
-- tasks.details, so a row reads the same on both databases. The steps to run are in
-- select_steps, since SELECT is SQL's own word.
ALTER TABLE job_definitions ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE job_definitions ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE job_definitions ADD COLUMN max_active_runs INTEGER NOT NULL DEFAULT 1
    CHECK (max_active_runs >= 1);
ALTER TABLE job_definitions ADD COLUMN catchup TEXT NOT NULL DEFAULT 'latest'
    CHECK (catchup IN ('latest', 'all', 'none'));
ALTER TABLE job_definitions ADD COLUMN manifest TEXT;          -- path inside the project
ALTER TABLE job_definitions ADD COLUMN params TEXT;            -- JSON object
ALTER TABLE job_definitions ADD COLUMN select_steps TEXT;      -- JSON list of selectors
ALTER TABLE job_definitions ADD COLUMN extractor_type TEXT;
ALTER TABLE job_definitions ADD COLUMN extractor_config TEXT;  -- JSON object
ALTER TABLE job_definitions ADD COLUMN loader_type TEXT;
ALTER TABLE job_definitions ADD COLUMN loader_config TEXT;     -- JSON object
-- Who made it: 'run' (recorded by `ordo run`), 'api' (created through the service),
-- 'file' (declared in ordo.yaml: removed from the file, it is disabled).
ALTER TABLE job_definitions ADD COLUMN origin TEXT NOT NULL DEFAULT 'run'
    CHECK (origin IN ('run', 'api', 'file'));

-- API tokens: only the sha256 of a token is kept, never the token.
CREATE TABLE tokens (
    id            TEXT PRIMARY KEY,             -- a UUID
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash    TEXT NOT NULL UNIQUE,         -- sha256 of the token, hex
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ
);

-- One row per fire of a job's schedule: the primary key lets exactly one scheduler claim
-- it (INSERT ... ON CONFLICT DO NOTHING), however many run or restart.
CREATE TABLE schedule_fires (
    job_definition_id  TEXT NOT NULL REFERENCES job_definitions (id) ON DELETE CASCADE,
    scheduled_for      TIMESTAMPTZ NOT NULL,            -- the fire time, UTC
    claimed_at         TIMESTAMPTZ NOT NULL,
    claimed_by         TEXT,                    -- the scheduler: host and pid
    job_run_id         TEXT,                    -- the run it started (no foreign key: the
                                                -- run is recorded after the claim)
    PRIMARY KEY (job_definition_id, scheduled_for)
);
