"""``ordo status``: prints what ``ordo.api.status`` found, as lines or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ordo._words import plural
from ordo.api.status import ProjectStatus, status
from ordo.db.dialects.names import parse_table_name

__all__ = ["print_status"]

_MARKS = {"done": "✓", "pending": "·", "disabled": "–"}


def print_status(
    manifest: Path | None, project: Path | None, env_file: Path | None, as_json: bool
) -> int:
    found = status(manifest, project=project, env_file=env_file)
    if as_json:
        sys.stdout.write(json.dumps(found.as_dict(), indent=2, default=str) + "\n")
    else:
        sys.stdout.write("\n".join(_lines(found)) + "\n")
    return 0 if found.ok else 1


def _lines(found: ProjectStatus) -> list[str]:
    done = sum(s.state == "done" for s in found.steps)
    lines = [
        f"Pipeline '{found.pipeline}' ({found.manifest}): "
        f"{plural(len(found.steps), 'step')}, {done} done",
    ]
    width = max((len(s.name) for s in found.steps), default=0)
    for step in found.steps:
        said = f"done {step.done}" if step.done else step.state
        lines.append(f"  {_MARKS[step.state]} {step.name:<{width}}  {step.kind:<8} {said}")
    lines.append("Connections:")
    for c in found.connections:
        pending = len(c["migration_status"]["pending_migrations"])
        more = f", {plural(pending, 'pending migration')}" if pending else ""
        error = f": {c['error']}" if c.get("error") else ""
        lines.append(
            f"  {c['database_name']} ({c['database_type']}): {c['status']}, "
            f"{c['response_time_ms']:.1f} ms{more}{error}"
        )
    run = found.last_run
    if run is None:
        lines.append("Last run: none recorded")
    else:
        took = f" in {run.duration:.1f}s" if run.duration is not None else ""
        what = " (a rehearsal or ordo check: rolled back)" if run.rehearsal else ""
        lines.append(
            f"Last run: {run.id[:8]} {run.status.value}{what}, started "
            f"{run.started_at:%Y-%m-%d %H:%M:%S}{took}"
        )
    if found.tables:
        lines.append("Tables:")
        for t in found.tables:
            rows = plural(t.rows, "row") if t.rows is not None else t.error or "unknown"
            lines.append(f"  {t.connection}: {_shown(t.table)}: {rows}")
    for held in found.locked:
        lines.append(f"Locked: {held}")
    lines += [f"Not read: {problem}" for problem in found.problems]
    return lines


def _shown(table: str) -> str:
    """A table as a person reads it: ``"orders"`` (an exact name, as seeds give) is orders."""
    try:
        name = parse_table_name(table)
    except ValueError:
        return table
    parts = [name.schema, name.table] if name.schema else [name.table]
    return ".".join(part.text for part in parts if part is not None)
