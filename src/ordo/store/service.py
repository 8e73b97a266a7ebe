"""What the service needs of a store beyond runs: jobs, tokens and schedule fires (issue 14).

A separate protocol, not more of ``StateStore``: a store that only records runs (a third
party's, from the ``ordo.state_stores`` entry points) keeps working for ``ordo run``, and the
service says plainly that it needs more (``ordo.service.store``). The SQL stores (through
``service_sql``) and the memory store implement it; ``tests/integration/test_service_store.py``
is its contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from ordo.store.base import StateStore
from ordo.store.jobs import JobDefinition, JobOrigin, JobSpec
from ordo.store.tokens import TokenRecord

__all__ = ["FireRecord", "ServiceStore"]


@dataclass(frozen=True)
class FireRecord:
    """One claimed fire of a job's schedule, and the run it started (None until known)."""

    job_id: str
    scheduled_for: datetime
    claimed_at: datetime
    claimed_by: str | None
    run_id: str | None


@runtime_checkable
class ServiceStore(StateStore, Protocol):
    """A ``StateStore`` that also keeps service jobs, tokens and schedule fires.

    Times given may be naive (read as local time) or aware; they come back as aware UTC.
    """

    # -- jobs: only those of origin api or file; ``ordo run``'s own rows are not jobs here --

    def create_job(self, spec: JobSpec, *, origin: JobOrigin, at: datetime) -> JobDefinition:
        """Store a new job; ``JobExists`` if a job has its name. A row ``ordo run`` recorded
        under that name becomes the job, keeping its id and so its runs; its ``created_at`` is
        then ``at``, when it became a job (the scheduler counts a new job's fires from it)."""
        ...

    def update_job(
        self, job_id: str, spec: JobSpec, *, at: datetime, origin: JobOrigin | None = None
    ) -> JobDefinition:
        """Replace the job's spec (``updated_at`` moves only if something changed);
        ``JobNotFound``, or ``JobExists`` when renamed to a name another job has."""
        ...

    def get_job(self, key: str) -> JobDefinition:
        """The job with this id, else this name; ``JobNotFound`` names the key otherwise."""
        ...

    def list_jobs(self) -> list[JobDefinition]:
        """Every job, by name."""
        ...

    def delete_job(self, job_id: str) -> None:
        """Delete a job and its fires; ``JobHasRuns`` if runs are recorded for it."""
        ...

    # -- tokens ------------------------------------------------------------------------------

    def add_token(self, token: TokenRecord, token_hash: str) -> None:
        """Store a new token's record and hash; ``TokenExists`` if the name is taken."""
        ...

    def find_token(self, token_hash: str) -> TokenRecord | None:
        """The token with this hash, revoked or expired ones too; None if there is none."""
        ...

    def token_used(self, token_id: str, at: datetime) -> None:
        """Record that the token was just used."""
        ...

    def list_tokens(self) -> list[TokenRecord]:
        """Every token, by name."""
        ...

    def revoke_token(self, name: str, at: datetime) -> bool:
        """Revoke it from ``at`` on (a revoked one keeps its first revocation time); False
        when no token has the name."""
        ...

    # -- schedule fires ----------------------------------------------------------------------

    def claim_fire(
        self,
        job_id: str,
        scheduled_for: datetime,
        *,
        at: datetime,
        by: str | None = None,
        run_id: str | None = None,
    ) -> bool:
        """Claim the fire of ``job_id`` at ``scheduled_for``: True for exactly one caller,
        whichever process or thread it is in; False for every other."""
        ...

    def last_fire(self, job_id: str) -> datetime | None:
        """The latest claimed fire time of the job; None if it never fired."""
        ...

    def list_fires(self, job_id: str) -> list[FireRecord]:
        """The job's claimed fires, oldest first."""
        ...
