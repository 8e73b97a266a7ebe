-- Version 6: finding the queued run of an attempt (a job run) by its run id.
--
-- The service looks a run's queue row up by ordo_run_id: to show a job run's trigger and
-- worker beside it, and when a resumed attempt reports back. Without an index each lookup
-- read the whole queue, which grows by one row per triggered run.
CREATE INDEX ix_service_runs_ordo_run ON service_runs (ordo_run_id);
