"""Everything that reacts to a run's events, and nothing that changes what runs.

One module per subscriber: ``console`` (the terminal), ``log`` (the per-run log file),
``manifest`` (done marks in the manifest), ``store`` (the run store behind ``ordo runs``),
``notices`` (chat notifiers) and ``report`` (the review report of a failed run).
``standard`` builds the set a run of ``ordo.run`` has, and starts and closes it in order;
``_writer`` is the one background writer thread that the slow ones (manifest, store, notices)
hand their work to, so that nothing slow runs under the event bus's lock.
"""
