"""From a loaded manifest to a ``Plan``: every check that can be made before a database is touched.

``build`` validates and prepares the steps and forms units, ``graph`` orders them by their
dependencies, ``selection`` narrows a plan to ``--select``/``--exclude``, ``rollback`` prepares
each step's ``rollback:``, and ``model`` holds what comes out: ``Plan`` and ``Unit``.
"""

from ordo.planning.build import build_plan
from ordo.planning.model import Plan, Unit

__all__ = ["Plan", "Unit", "build_plan"]
