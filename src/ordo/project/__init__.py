"""Where a project's files live (config, queue, scripts, logs), found once from the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ordo.errors import InvalidInput

__all__ = ["DEFAULT_MANIFEST", "Project", "find_root"]

DEFAULT_MANIFEST = Path("queue/manifest.yaml")

# What makes a folder a project when looking upwards: what `ordo init` writes first.
_MARKERS = (DEFAULT_MANIFEST, Path("config/.env"))


def find_root(start: Path) -> Path:
    """``start`` or the nearest folder above it holding ``queue/manifest.yaml`` or
    ``config/.env``; ``start`` itself when none does (a project may be only a manifest path)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).is_file() for marker in _MARKERS):
            return folder
    return start


@dataclass(frozen=True)
class Project:
    """A project folder: ``config/.env``, ``queue/manifest.yaml``, ``scripts/``, ``logs/``."""

    root: Path

    @classmethod
    def at(cls, root: Path | str | None = None) -> Project:
        """The project at ``root``; without one, the nearest folder upwards from the current
        one that holds a project (as git finds its repository), else the current folder."""
        path = Path(root) if root is not None else find_root(Path.cwd())
        if not path.is_dir():
            raise InvalidInput(
                f"project folder {path} does not exist",
                hint="pass --project DIR with an existing folder, or run `ordo init DIR` first",
            )
        return cls(path.resolve())

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def scripts_dir(self) -> Path:
        """Where step files live, one folder per kind (each kind declares its ``folder``)."""
        return self.root / "scripts"

    @property
    def seeds_dir(self) -> Path:
        """Where CSV seeds live (``type: seed`` steps look here first, then beside the
        manifest)."""
        return self.root / "seeds"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def state_dir(self) -> Path:
        return self.root / ".ordo"

    def manifest_path(self, manifest: Path | str | None = None) -> Path:
        """The manifest to run: the given path (from the current folder), else the default."""
        path = Path(manifest) if manifest is not None else self.root / DEFAULT_MANIFEST
        if not path.is_absolute():
            path = (Path.cwd() / path) if manifest is not None else path
        if not path.is_file():
            raise InvalidInput(
                f"manifest {path} not found",
                file=path,
                hint="pass the manifest path (`ordo run PATH`) or --project DIR",
            )
        return path.resolve()

    def contains(self, path: Path) -> bool:
        """True when ``path`` lies inside the project once ``..`` and links are resolved."""
        try:
            path.resolve().relative_to(self.root)
        except ValueError:
            return False
        return True
