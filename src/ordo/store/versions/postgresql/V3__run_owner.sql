-- Version 3: runs may end 'crashed' (their process is gone and never recorded the end), and
-- each run keeps the process that ran it (host name, pid, and what tells that process from a
-- later one with the same pid), so that a later run can tell. NULL for runs recorded before.
ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check CHECK (status IN
    ('running', 'success', 'partial_success', 'failed', 'aborted', 'crashed'));
ALTER TABLE job_runs ADD COLUMN owner_host TEXT;
ALTER TABLE job_runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE job_runs ADD COLUMN owner_started TEXT;
