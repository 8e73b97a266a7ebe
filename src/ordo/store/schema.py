"""The state store's tables as SQLAlchemy Core sees them, and where their migrations live.

The schema is created and evolved by the versioned files in ``migrations/<dialect>/``, run by
ordo's own Flyway-style ``Migrator`` with the history table ``ordo_store_schema_version``.
These ``Table`` objects only describe the result for Core's queries; a test checks that the
columns the migrations create are exactly these.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
)

__all__ = [
    "HISTORY_TABLE",
    "MIGRATIONS",
    "TIMESTAMP",
    "job_definitions",
    "job_runs",
    "metadata",
    "schedule_fires",
    "tasks",
    "tokens",
]

MIGRATIONS = Path(__file__).parent / "versions"
HISTORY_TABLE = "ordo_store_schema_version"
TIMESTAMP = DateTime(timezone=True)  # UTC; SQLite keeps it as text without a zone

metadata = MetaData()
job_definitions = Table(
    "job_definitions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("schedule", Text),
    Column("path", Text, nullable=False),
    Column("definition", Text, nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("updated_at", TIMESTAMP, nullable=False),
    # V4: what the service runs, and when (``store.jobs``); JSON values as text
    Column("timezone", Text, nullable=False, server_default="UTC"),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("max_active_runs", Integer, nullable=False, server_default="1"),
    Column("catchup", Text, nullable=False, server_default="latest"),
    Column("manifest", Text),
    Column("params", Text),
    Column("select_steps", Text),
    Column("extractor_type", Text),
    Column("extractor_config", Text),
    Column("loader_type", Text),
    Column("loader_config", Text),
    Column("origin", Text, nullable=False, server_default="run"),
)
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("job_definition_id", Text, ForeignKey("job_definitions.id"), nullable=False),
    Column("status", Text, nullable=False),
    Column("started_at", TIMESTAMP, nullable=False),
    Column("completed_at", TIMESTAMP),
    Column("error_message", Text),
    Column("manifest_hash", Text, nullable=False),
    Column("manifest_text", Text, nullable=False),
    Column("rehearsal", Boolean, nullable=False),
    Column("resumed_from", Text),
    Column("owner_host", Text),  # V3: the process that ran it (``RunOwner``)
    Column("owner_pid", Integer),
    Column("owner_started", Text),
)
tasks = Table(
    "tasks",
    metadata,
    Column("id", Text, primary_key=True),
    Column("job_run_id", Text, ForeignKey("job_runs.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("step", Text, nullable=False),
    Column("task_type", Text),
    Column("unit_index", Integer),
    Column("transaction_group", Text),
    Column("status", Text, nullable=False),
    Column("attempt_count", Integer, nullable=False),
    Column("max_attempts", Integer),
    Column("error_message", Text),
    Column("rows_affected", BigInteger),
    Column("duration_ms", Float),
    Column("started_at", TIMESTAMP),
    Column("completed_at", TIMESTAMP),
    Column("details", Text),  # V2: the step's details as JSON text
)
tokens = Table(  # V4
    "tokens",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("expires_at", TIMESTAMP),
    Column("revoked_at", TIMESTAMP),
    Column("last_used_at", TIMESTAMP),
)
schedule_fires = Table(  # V4
    "schedule_fires",
    metadata,
    Column(
        "job_definition_id",
        Text,
        ForeignKey("job_definitions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("scheduled_for", TIMESTAMP, primary_key=True),
    Column("claimed_at", TIMESTAMP, nullable=False),
    Column("claimed_by", Text),
    Column("job_run_id", Text),
)
