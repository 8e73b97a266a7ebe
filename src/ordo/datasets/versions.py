"""The versioned root of published datasets: ``newest/``, ``historical_db/`` and the map.

The layout is the DataLoaderAgent's, so its readers keep working::

    <root>/newest/<name>_<YYYYmmddTHHMMSSffffff>.parquet     each dataset's newest version
    <root>/newest/path_annotations.json                       {dataset: path of that file}
    <root>/historical_db/<name>_<timestamp>.parquet           every older version kept

``path_annotations.json`` stays exactly the ``{dataset: path}`` map seed-002 readers load (an
absolute path, so a reader in any folder can open it); ordo adds no keys to it and keeps no
other file. The history is the files themselves: a version's time is in its name (UTC), and
its row count and content hash (``hashing.content_hash``) are in its Parquet footer
(``parquet_files``), so nothing can drift from what it describes. ordo reads only the file
name from each path, so a root that was moved still opens, and a root an earlier program made
is taken over as it is: its files keep their names (a version ordo did not name has no time,
and one without a hash in its footer is trusted when it reads).

Every change (a publish, a rollback, a restore) is one switch, with no journal, in this order:

1. each new newest file is written into ``newest/`` under its own new name (temp, fsync,
   rename), or hard-linked there from ``historical_db/`` for a rollback;
2. each replaced newest file is hard-linked (or copied and fsynced, where links are not to be
   had) into ``historical_db/``;
3. ``path_annotations.json`` is rewritten atomically, once, for all datasets: the commit point;
4. the replaced files are unlinked from ``newest/`` (and a rolled-back version from
   ``historical_db/``, now that it is newest again).

At every moment each listed file exists and holds what its footer hash says, whatever
instant a SIGKILL strikes; what a crash can leave is only files nobody lists (a new file not
yet committed, a link of a file that is still newest, a temp), and ``open_root`` removes them
(under the lock) before anything else: an unlisted ``.parquet`` in ``newest/``, a file in
``historical_db/`` that is some dataset's listed newest, and any ordo temp file. A lock on the
root (``filelock``, ``<root>/.ordo-datasets.lock``) keeps two runs from interleaving.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ordo._files import TEMP_MARKER, write_atomic
from ordo.errors import InvalidInput, PermanentError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ANNOTATIONS",
    "HISTORICAL",
    "NEWEST",
    "DatasetRoot",
    "DatasetVersion",
    "UnknownDataset",
    "open_root",
]

NEWEST = "newest"
HISTORICAL = "historical_db"
ANNOTATIONS = "path_annotations.json"
LOCK = ".ordo-datasets.lock"
_STAMP = "%Y%m%dT%H%M%S%f"
_NAME = re.compile(r"(?P<dataset>.+)_(?P<stamp>\d{8}T\d{12})")
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # as the schema file's dataset names


class UnknownDataset(InvalidInput):
    """A dataset or a version the root does not hold; the message lists those it does."""


@dataclass(frozen=True)
class DatasetVersion:
    """One stored version of a dataset: its file, when it was published, what it holds."""

    dataset: str
    name: str  # the file's stem, ``productRecords_20261203T101500123456``: what --to takes
    path: Path
    time: datetime | None  # UTC, from the name; None for a file ordo did not name
    rows: int | None  # from the footer; None when the file cannot be read
    hash: str | None  # the content hash in the footer; None when ordo did not write it
    newest: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "version": self.name,
            "path": str(self.path),
            "time": self.time.isoformat() if self.time else None,
            "rows": self.rows,
            "hash": self.hash,
            "newest": self.newest,
        }


@contextmanager
def open_root(root: Path, *, create: bool = False, timeout: float = 600) -> Iterator[DatasetRoot]:
    """``root`` locked for this process, with what a crash left behind removed.

    ``create`` makes the folders (a publish); without it a root that holds no datasets is an
    ``InvalidInput`` (``ordo datasets`` pointed at the wrong folder)."""
    from filelock import FileLock, Timeout

    root = Path(root).absolute()
    if create:
        (root / NEWEST).mkdir(parents=True, exist_ok=True)
        (root / HISTORICAL).mkdir(parents=True, exist_ok=True)
    elif not (root / NEWEST).is_dir():
        raise InvalidInput(
            f"{root} holds no published datasets (no {NEWEST}/ folder in it)",
            hint="give the root: of a publish step with --root DIR",
        )
    lock = FileLock(str(root / LOCK), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise PermanentError(
            f"{root} is locked by another run for over {timeout:.0f} s",
            hint="wait for the other publish to finish, then run again",
        ) from None
    try:
        opened = DatasetRoot(root)
        opened.clean()
        yield opened
    finally:
        lock.release()


class DatasetRoot:
    """An opened root; only ``open_root`` makes one, holding the root's lock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.newest_dir = root / NEWEST
        self.historical_dir = root / HISTORICAL
        self.annotations_path = self.newest_dir / ANNOTATIONS
        self.annotations = self._read_annotations()  # dataset -> file name in newest/

    # -- reading -------------------------------------------------------------------------

    def datasets(self) -> list[str]:
        return list(self.annotations)

    def newest(self, dataset: str) -> DatasetVersion | None:
        name = self.annotations.get(dataset)
        if name is None:
            return None
        return _version(dataset, self.newest_dir / name, newest=True)

    def versions(self) -> list[DatasetVersion]:
        """Each dataset's newest version, in the map's order."""
        return [v for d in self.annotations if (v := self.newest(d)) is not None]

    def history(self, dataset: str) -> list[DatasetVersion]:
        """Every version of ``dataset``, the newest first, then the older ones by time."""
        newest = self.newest(dataset)
        older = [
            _version(dataset, path, newest=False)
            for path in sorted(self.historical_dir.glob("*.parquet"))
            if self._dataset_of(path) == dataset
        ]
        if newest is None and not older:
            raise self._unknown(dataset)
        older.sort(key=lambda v: (v.time or datetime.min.replace(tzinfo=UTC), v.name))
        return ([newest] if newest else []) + older[::-1]

    def damage(self, version: DatasetVersion) -> str | None:
        """Why ``version``'s file cannot be trusted (missing, unreadable, not its hash)."""
        from ordo.datasets.hashing import content_hash

        if not version.path.is_file():
            return f"{version.path} is missing"
        try:
            import pyarrow.parquet as pq

            table = pq.read_table(version.path)
        except Exception as exc:  # pyarrow raises several kinds for a damaged file
            return f"{version.path} cannot be read ({type(exc).__name__})"
        if version.hash is not None and content_hash(table) != version.hash:
            return f"{version.path} does not hold what its hash says (changed or damaged)"
        return None

    # -- changing ------------------------------------------------------------------------

    def publish(
        self,
        tables: Mapping[str, tuple[pa.Table, str]],
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> dict[str, DatasetVersion]:
        """Make each ``{dataset: (table, hash)}`` its dataset's newest version, all at once."""
        from ordo.datasets.parquet_files import write_parquet

        now = (clock or _now)()
        placed: dict[str, str] = {}
        try:
            for dataset, (table, digest) in tables.items():
                name = self._free_name(dataset, now)
                write_parquet(self.newest_dir / name, table, digest)
                placed[dataset] = name
        except BaseException:
            for name in placed.values():
                (self.newest_dir / name).unlink(missing_ok=True)
            raise
        self._switch(placed)
        return {d: v for d in placed if (v := self.newest(d)) is not None}

    def rollback(self, dataset: str, to: str | None = None) -> DatasetVersion:
        """Make an older version of ``dataset`` its newest again (the newest one is kept in
        ``historical_db/``); ``to`` names it, else the latest version older than the newest."""
        versions = self.history(dataset)
        current = versions[0] if versions and versions[0].newest else None
        older = [v for v in versions if not v.newest]
        if to is None:
            earlier = [v for v in older if current is None or _before(v, current)]
            if not earlier:
                raise UnknownDataset(
                    f"dataset '{dataset}' has no version older than its newest to roll back to",
                    hint=_versions_hint(versions),
                )
            chosen = earlier[0]
        else:
            wanted = to.removesuffix(".parquet")
            found = [v for v in older if v.name == wanted]
            if not found:
                now = " (that is its newest already)" if current and current.name == wanted else ""
                raise UnknownDataset(
                    f"dataset '{dataset}' has no older version '{to}'{now}",
                    hint=_versions_hint(versions),
                )
            chosen = found[0]
        self.switch_to({dataset: chosen})
        newest = self.newest(dataset)
        assert newest is not None
        return newest

    def switch_to(self, versions: Mapping[str, DatasetVersion], *, keep_old: bool = True) -> None:
        """Make each historical ``version`` its dataset's newest; ``keep_old: False`` drops
        the replaced newest files instead of keeping them (a restore, when they are damaged)."""
        placed: dict[str, str] = {}
        for dataset, version in versions.items():
            target = self.newest_dir / version.path.name
            _link_or_copy(version.path, target)
            placed[dataset] = version.path.name
        _sync_folder(self.newest_dir)
        self._switch(placed, keep_old=keep_old)
        for name in placed.values():  # newest again: not history any more
            (self.historical_dir / name).unlink(missing_ok=True)
        _sync_folder(self.historical_dir)

    def prune(self, keep: int, datasets: list[str] | None = None) -> list[Path]:
        """Remove all but the ``keep`` latest historical versions of each dataset."""
        removed: list[Path] = []
        for dataset in datasets if datasets is not None else self.datasets():
            older = [v for v in self.history(dataset) if not v.newest]
            for version in older[keep:]:
                version.path.unlink(missing_ok=True)
                removed.append(version.path)
        if removed:
            _sync_folder(self.historical_dir)
        return removed

    def clean(self) -> list[Path]:
        """Remove what a killed writer left: files nobody lists, and temps (see the module)."""
        listed = set(self.annotations.values())
        removed: list[Path] = []
        for folder in (self.newest_dir, self.historical_dir):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                temp = TEMP_MARKER in path.name
                unlisted_new = folder == self.newest_dir and path.suffix == ".parquet"
                stale = unlisted_new and path.name not in listed
                duplicate = folder == self.historical_dir and path.name in listed
                if temp or stale or (duplicate and (self.newest_dir / path.name).is_file()):
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed

    # -- the switch ----------------------------------------------------------------------

    def _switch(self, placed: Mapping[str, str], *, keep_old: bool = True) -> None:
        """Steps 2-4 of the module's switch; the new files are already in ``newest/``."""
        replaced = {d: self.annotations[d] for d in placed if d in self.annotations}
        replaced = {d: old for d, old in replaced.items() if old != placed[d]}
        if keep_old:
            for old in replaced.values():
                source = self.newest_dir / old
                if source.is_file() and not (self.historical_dir / old).exists():
                    _link_or_copy(source, self.historical_dir / old)
            _sync_folder(self.historical_dir)
        annotations = {**self.annotations, **placed}
        self._write_annotations(annotations)  # the commit point
        self.annotations = annotations
        for old in replaced.values():
            (self.newest_dir / old).unlink(missing_ok=True)
        _sync_folder(self.newest_dir)

    def _dataset_of(self, path: Path) -> str | None:
        """The dataset a historical file belongs to: by ordo's name for it, else (a file from
        before ordo took the root over) by the longest dataset name it starts with."""
        match = _NAME.fullmatch(path.stem)
        if match:
            return match["dataset"]
        prefixes = [d for d in self.annotations if path.stem.startswith(f"{d}_")]
        return max(prefixes, key=len, default=None)

    def _free_name(self, dataset: str, now: datetime) -> str:
        """``<dataset>_<stamp>.parquet``, a microsecond later while that name is taken."""
        if not _SAFE.fullmatch(dataset):  # the schema file allows no other: a caller's bug
            raise ValueError(f"{dataset!r} cannot name a file")
        while True:
            name = f"{dataset}_{now.strftime(_STAMP)}.parquet"
            taken = (self.newest_dir / name).exists() or (self.historical_dir / name).exists()
            if not taken and name not in self.annotations.values():
                return name
            now += timedelta(microseconds=1)

    def _read_annotations(self) -> dict[str, str]:
        if not self.annotations_path.is_file():
            return {}
        try:
            found = json.loads(self.annotations_path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise PermanentError(
                f"{self.annotations_path} cannot be read as a JSON object ({exc})",
                hint="restore it from a backup: it maps each dataset to its newest file",
            ) from None
        if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
            raise PermanentError(
                f"{self.annotations_path} is not a map of dataset names to file paths",
                hint="restore it from a backup: it maps each dataset to its newest file",
            )
        return {str(k): Path(v).name for k, v in found.items()}

    def _write_annotations(self, annotations: Mapping[str, str]) -> None:
        shown = {d: str(self.newest_dir / name) for d, name in annotations.items()}
        text = json.dumps(shown, indent=2, ensure_ascii=False) + "\n"
        write_atomic(self.annotations_path, text.encode("utf-8"))

    def _unknown(self, dataset: str) -> UnknownDataset:
        known = ", ".join(self.annotations) or "none yet"
        return UnknownDataset(
            f"no dataset '{dataset}' under {self.root}",
            hint=f"its datasets: {known}",
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _before(a: DatasetVersion, b: DatasetVersion) -> bool:
    if a.time is None or b.time is None:
        return True
    return a.time < b.time


def _versions_hint(versions: list[DatasetVersion]) -> str:
    names = [f"{v.name}{' (newest)' if v.newest else ''}" for v in versions]
    return f"its versions: {', '.join(names)}" if names else "it has no versions"


def _version(dataset: str, path: Path, *, newest: bool) -> DatasetVersion:
    from ordo.datasets.parquet_files import HASH_KEY

    match = _NAME.fullmatch(path.stem)
    time = None
    if match:
        with contextlib.suppress(ValueError):
            time = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
    rows: int | None = None
    digest: str | None = None
    try:
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path)
        rows = meta.num_rows
        value = (meta.metadata or {}).get(HASH_KEY)
        digest = value.decode() if value is not None else None
    except Exception:  # missing or damaged: shown as unknown; ``damage`` says which
        pass
    return DatasetVersion(dataset, path.stem, path, time, rows, digest, newest)


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` the same file as ``source``: a hard link, else a fsynced copy via a temp."""
    if target.exists():
        return
    try:
        os.link(source, target)
        return
    except OSError:
        pass  # another filesystem, or links not allowed: copy
    tmp = target.with_name(f".{target.name}{TEMP_MARKER}copy")
    shutil.copyfile(source, tmp)
    with open(tmp, "rb+") as out:
        os.fsync(out.fileno())
    os.replace(tmp, target)


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a folder to fsync it
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
