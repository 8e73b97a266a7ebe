"""Running a plan: units in dependency order, each in its transaction, with retries and events.

``scheduler`` starts units as their dependencies commit (``frontier``) within each database's
bounds (``lanes``), on connections the run holds (``connections``); ``ledger`` makes each
unit's commit recorded exactly once; ``recovery`` runs a failed step's ``rollback:``;
``rehearsal`` runs everything and rolls it all back; ``result`` is what a run returns.
"""
