"""The use cases: plain functions that the ``ordo`` command (and a server) call, one per task.

``runs`` plans, runs, resumes and enables; ``databases`` lists, checks and queries named
connections; ``migrations`` applies and inspects Flyway-style migrations; ``run_history`` reads
the run store. Everything here is re-exported from ``ordo``; the CLI only parses and prints.
"""
