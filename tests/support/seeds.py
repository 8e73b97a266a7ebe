"""Seed 001's dictionaries, written out here so the tests pin the seed, not the code."""

from __future__ import annotations

HEALTH_KEYS = {
    "database_name",
    "database_type",
    "status",
    "connection",
    "query_test",
    "migration_status",
    "response_time_ms",
    "timestamp",
}
POOL_KEYS = {
    "database_name",
    "pool_size",
    "checked_in",
    "checked_out",
    "overflow",
    "invalid",
    "timestamp",
}
