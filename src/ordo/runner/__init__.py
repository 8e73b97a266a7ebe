"""Running a plan: units in dependency order, each in its transaction, with retries and events.

``scheduler`` starts units as their dependencies commit (``frontier``) within each database's
bounds (``lanes``) and hands them to an executor (``executors``: inline or threads); ``unit``
runs one unit (retries, transaction, ledger row, commit) on connections the run holds
(``connections``), its steps through ``steps``, which the rehearsal shares; ``bookkeeping``
keeps each step's result; ``ledger`` makes each unit's commit recorded exactly once;
``recovery`` runs a failed step's ``rollback:``; ``rehearsal`` runs everything and rolls it
all back; ``result`` is what a run returns.
"""
