"""Project folders for tests: seed 000's layout with a manifest, scripts and a config env."""

from __future__ import annotations

import textwrap
from pathlib import Path

from sqlalchemy import URL


def make_project(
    root: Path,
    manifest: str,
    *,
    sql: dict[str, str] | None = None,
    python: dict[str, str] | None = None,
    env: str = "DATABASE_URL=sqlite:///data/test.db\n",
) -> Path:
    """Write a project in seed 000's layout and return its root."""
    for folder in ("config", "queue", "scripts/sql", "scripts/python", "logs", "data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "config" / ".env").write_text(env, encoding="utf-8")
    (root / "queue" / "manifest.yaml").write_text(textwrap.dedent(manifest), encoding="utf-8")
    for name, text in (sql or {}).items():
        (root / "scripts" / "sql" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    for name, text in (python or {}).items():
        (root / "scripts" / "python" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def database_env(url: URL) -> str:
    """A ``config/.env`` text whose ``DATABASE_URL`` is ``url``, password and all."""
    return f"DATABASE_URL={url.render_as_string(hide_password=False)}\n"
