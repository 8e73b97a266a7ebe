"""Which process runs a run, and whether it is gone: how ``running`` runs become ``crashed``.

A run killed with ``kill -9`` (or whose machine stopped) never records its end, so the store
would show it ``running`` forever and ``ordo run --resume`` would find nothing to resume. Each
run records its process (``RunOwner``: host name, pid, and the boot and start time of that
pid where the system tells them). A run that takes the manifest's lock then marks the earlier
``running`` runs of its pipeline whose process is gone as ``crashed``.

Why the process and not the lock alone: the manifest's lock being free does prove that no run
of *that file* is going on, but only on this machine, and a store can be shared (PostgreSQL)
by copies of a project on several machines, or by two manifests of one pipeline name. The
process record answers for every run, whatever file it ran. Gone means: recorded on this host
(another machine's processes cannot be seen from here, so those runs are left alone) and no
process with that pid is alive, or the one that is started at another time or in another boot
(the pid was reused). Without a start time to compare (systems other than Linux) a live pid
counts as the run's, so a run is never marked crashed while its process may live.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from pathlib import Path

from ordo.store.base import RunOwner, StateStore, StoreError

__all__ = ["current_owner", "mark_crashed_runs", "owner_gone"]

LOGGER = logging.getLogger("ordo")


def current_owner() -> RunOwner:
    """This process, as a run records it."""
    pid = os.getpid()
    return RunOwner(socket.gethostname(), pid, _started(pid))


def owner_gone(owner: RunOwner) -> bool:
    """True only when the process that ran the run surely no longer runs (see the module)."""
    if owner.host != socket.gethostname():
        return False  # another machine's: it may well be running there
    if owner.started is not None:
        return _started(owner.pid) != owner.started
    if os.name != "posix":
        return False  # no safe way to ask here (os.kill would end the process on Windows)
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def mark_crashed_runs(store: StateStore, job: str) -> list[str]:
    """Mark the ``running`` runs of ``job`` whose process is gone ``crashed``; their ids.

    Call it holding the manifest's lock. A store that cannot be read or written for it is a
    warning: the store is a record, and the run goes on.
    """
    crashed: list[str] = []
    try:
        for run in store.running_runs(job):
            owner = run.owner
            if owner is None or not owner_gone(owner):
                continue
            error = (
                f"its process (pid {owner.pid} on {owner.host}) ended without recording the "
                "end of the run: killed, or its machine stopped"
            )
            if store.mark_crashed(run.id, error=error):
                crashed.append(run.id)
                LOGGER.warning(
                    "run %s of '%s' crashed (its process is gone): marked crashed; "
                    "`ordo run --resume` runs what it did not complete",
                    run.id[:8],
                    job,
                )
    except StoreError as exc:
        LOGGER.warning("could not check for crashed runs: %s", exc.message)
    return crashed


@functools.cache
def _boot() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _started(pid: int) -> str | None:
    """The boot and start time (clock ticks since boot) of a live process; None if there is
    none, it is a zombie (dead, not yet reaped), or the system does not say (not Linux)."""
    boot = _boot()
    if boot is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the name, in brackets, may hold spaces
    if len(fields) < 20 or fields[0] == "Z":
        return None
    return f"{boot}:{fields[19]}"  # field 22 of the line: starttime
