"""Everything that reacts to a run's events, and nothing that changes what runs.

One module per subscriber: ``console`` (the terminal), ``log`` (the per-run log file),
``manifest`` (done marks in the manifest), ``store`` (the run store behind ``ordo runs``),
``notices`` (chat notifiers) and ``report`` (the review report of a failed run).
"""
