"""Names for the objects a test makes in a shared database server."""

from __future__ import annotations

import uuid


def unique_name(prefix: str = "ordo_test") -> str:
    """A name no other test (or concurrent test run) uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
