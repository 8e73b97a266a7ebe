"""What the tests share, in one place: no test module imports another test module.

- ``cli``: run ``ordo`` in this process or as a real process; ``spawn_ordo``, ``wait_until``,
  ``clean_env``.
- ``project``: project folders (``make_project``, ``database_env``).
- ``runs``: projects on a test database and runs of them through ``ordo.run``.
- ``events``: ``EventRecorder``, a subscriber that keeps a run's events.
- ``manifests``, ``seeds``: shared manifest texts and seed 001's dictionaries.
- ``http``, ``telegram``, ``net``, ``managers``, ``processes``, ``db``: local servers and
  stand-ins, ``DatabaseManager`` builders, process facts, unique names.

Fixtures stay in the ``conftest.py`` files, which use these helpers.
"""
