"""Settings, resolved once at the edge and passed down.

Values come from env files and the real environment, the environment winning. The files read,
in order (a later file overrides an earlier one): ``core/envs/.env.{env}``,
``config/.env`` (replaced by ``--env-file`` when given) and ``config/.env.{env}``,
where ``env`` is ``ORDO_ENV`` lower-cased (default ``development``).

Connections are looked up by name here and nowhere else, so new sources of connection settings
(the ``{ENV}_GLOBAL_{NAME}_*`` variables of named connections) plug in without touching the callers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dotenv import dotenv_values

from ordo.config.connections import connection_names, resolve
from ordo.config.url import parse_url, url_secrets
from ordo.errors import ConfigError

if TYPE_CHECKING:
    from ordo.config.connections import ConnectionSettings
from ordo.masking import Masker

__all__ = ["DEFAULT_CONNECTION", "Settings"]

DEFAULT_CONNECTION = "default"  # the same name as ordo.db.connections.DEFAULT_CONNECTION

# Settings whose values are secrets wherever they appear.
_SECRET_KEYS = ("PASS", "PASSWORD", "TOKEN", "SECRET", "CONNECTION_STRING", "DATABASE_URL")


def _project_root(named: str | None) -> Path:
    if not named:
        return Path.cwd().resolve()
    path = Path(named)
    if not path.is_dir():
        raise ConfigError(
            f"project folder {path} (ORDO_PROJECT) does not exist",
            hint="set ORDO_PROJECT to an existing project folder, or pass project=",
        )
    return path.resolve()


@dataclass(frozen=True)
class Settings:
    """Every setting of one invocation: merged env files plus the real environment."""

    values: Mapping[str, str]
    root: Path
    env_name: str = "development"
    files: tuple[Path, ...] = field(default_factory=tuple)

    @classmethod
    def load(
        cls,
        root: Path | None = None,
        *,
        env_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Merge the env files of the project at ``root`` with ``environ`` (default: the real
        environment, read here and nowhere else).

        Without a ``root`` the project is the one ``ORDO_PROJECT`` names in ``environ`` (what
        ordo sets for a python step, so its ``DatabaseManager()`` finds the step's project),
        else the current folder.
        """
        environ = dict(os.environ if environ is None else environ)
        if root is None:
            root = _project_root(environ.get("ORDO_PROJECT"))
        env_name = (environ.get("ORDO_ENV") or "development").strip().lower()
        if env_file is not None and not env_file.is_file():
            raise ConfigError(
                f"env file {env_file} not found", hint="pass an existing file to --env-file"
            )
        candidates = [
            root / "core" / "envs" / f".env.{env_name}",
            env_file if env_file is not None else root / "config" / ".env",
            root / "config" / f".env.{env_name}",
        ]
        merged: dict[str, str] = {}
        read: list[Path] = []
        for path in candidates:
            if path.is_file():
                read.append(path)
                merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
        merged.update(environ)
        return cls(values=merged, root=root, env_name=env_name, files=tuple(read))

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        return value if value not in (None, "") else default

    def connection(self, name: str = DEFAULT_CONNECTION) -> ConnectionSettings:
        """The connection called ``name`` (any case); ``ConfigError`` when it is not set."""
        return resolve(self.values, self.env_name, name, self.root)

    def connection_names(self) -> list[str]:
        """Every configured connection name, ``default`` first."""
        return connection_names(self.values, self.env_name)

    def has_connection(self, name: str) -> bool:
        if name.lower() == DEFAULT_CONNECTION:
            return True  # whether it is complete is checked when it is built
        return name.lower() in self.connection_names()

    def masker(self) -> Masker:
        """A masker that knows every secret value in these settings."""
        masker = Masker()
        for key, value in self.values.items():
            if any(part in key.upper() for part in _SECRET_KEYS):
                if "://" not in value:
                    masker.add(value, name=key)
                    continue
                try:
                    url = parse_url(value)
                except ConfigError:
                    masker.add(value, name=key)  # not a URL after all: mask the whole value
                    continue
                if url.password or url.query:
                    masker.add(value, name=key)  # a query may hold a secret in a form of its own
                # A URL with neither holds nothing secret: its masked form is shown in
                # messages ("cannot connect to 'default' (postgresql://app@db/sales)").
                for secret in url_secrets(url):
                    masker.add(secret, name=key)
        return masker

    def child_environment(self) -> dict[str, str]:
        """What a python step sees: every setting, so its own connection matches ordo's."""
        return dict(self.values)
