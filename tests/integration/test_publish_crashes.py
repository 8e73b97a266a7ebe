"""Publishers as real processes: two at once on one root, and one killed (SIGKILL) at random.

Each publisher is ``python`` running a short script that publishes three datasets of fresh
content in a loop, from source files of its own. After two run at once, every version either
made must be in the history and every listed file must hold what its hash says; after a kill
at any instant, the root must be consistent as it stands (a seed-002 reader opens it without
ordo), the next open must remove the leftovers, and a publish must then work.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from ordo.datasets.publishing import DatasetSource, publish
from ordo.datasets.versions import open_root
from tests.support.published import annotations, consistency_problems, products, write_schemas
from tests.support.published import write_table as write_source

DATASETS = ("alpha", "beta", "gamma")
COLUMNS = {"id": "int", "item": "text", "qty": "float"}

PUBLISHER = textwrap.dedent(
    """\
    import json, random, sys
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ordo.datasets.publishing import DatasetSource, publish

    root, schemas, sources, loops, seed = sys.argv[1:]
    rng = random.Random(int(seed))
    folder = Path(sources)
    folder.mkdir(parents=True, exist_ok=True)
    changed = {}
    print("ready", flush=True)
    for _ in range(int(loops)):
        for name in ("alpha", "beta", "gamma"):
            n = rng.randrange(1, 3000)
            start = rng.randrange(10**6)
            ids = list(range(start, start + n))
            table = pa.table({
                "id": pa.array(ids, pa.int64()),
                "item": [f"item {i}" for i in ids],
                "qty": [i * 0.5 for i in ids],
            })
            pq.write_table(table, folder / f"{name}.parquet")
        result = publish(
            root,
            schemas,
            {n: DatasetSource(parquet=folder / f"{n}.parquet") for n in ("alpha", "beta", "gamma")},
        )
        assert result.ok, result
        for d in result.datasets:
            changed[d.dataset] = changed.get(d.dataset, 0) + (d.status == "changed")
    print(json.dumps(changed), flush=True)
    """
)


def start(tmp_path: Path, root: Path, name: str, loops: int, seed: int) -> subprocess.Popen[str]:
    script = tmp_path / "publisher.py"
    script.write_text(PUBLISHER, encoding="utf-8")
    return subprocess.Popen(
        [
            sys.executable,
            str(script),
            str(root),
            str(tmp_path / "databaseSchemas.json"),
            str(tmp_path / "sources" / name),
            str(loops),
            str(seed),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def unlisted(root: Path) -> list[Path]:
    """What a killed publisher left that nobody lists: new files, links, temps."""
    if not (root / "newest").is_dir():
        return []  # killed before its first publish made the root
    listed = {Path(p).name for p in annotations(root).values()} | {"path_annotations.json"}
    left = [p for p in (root / "newest").iterdir() if p.name not in listed]
    return left + [p for p in (root / "historical_db").iterdir() if p.name in listed]


def schemas(tmp_path: Path) -> None:
    write_schemas(tmp_path / "databaseSchemas.json", {name: COLUMNS for name in DATASETS})


def test_two_publishers_at_once_lose_no_version_and_corrupt_nothing(tmp_path: Path) -> None:
    schemas(tmp_path)
    root = tmp_path / "shared"
    made = dict.fromkeys(DATASETS, 0)
    for round in range(3):  # repeatedly, each pair on the root the pair before left
        pair = [
            start(tmp_path, root, f"{who}{round}", 8, seed=round * 2 + i)
            for i, who in enumerate(("first", "second"))
        ]
        outputs = [p.communicate(timeout=240) for p in pair]
        assert [p.returncode for p in pair] == [0, 0], [err for _, err in outputs]
        for out, _ in outputs:
            for name, count in json.loads(out.strip().splitlines()[-1]).items():
                made[name] += count
        assert consistency_problems(root) == []
        with open_root(root) as opened:
            for name in DATASETS:
                history = opened.history(name)
                assert history[0].newest
                assert len(history) == made[name]  # every version either made is kept
                assert all(opened.damage(v) is None for v in history)
    assert sorted(annotations(root)) == sorted(DATASETS)


def test_a_publisher_killed_at_random_moments_leaves_the_root_consistent(
    tmp_path: Path,
) -> None:
    schemas(tmp_path)
    root = tmp_path / "shared"
    rng = random.Random(2026)
    sources = tmp_path / "mine"
    leftovers = 0  # kills that left unlisted files: the kills did land mid-publish
    for kill in range(24):
        publisher = start(tmp_path, root, f"killed{kill}", 1000, seed=kill)
        assert publisher.stdout is not None
        assert publisher.stdout.readline().strip() == "ready"
        try:
            publisher.wait(timeout=rng.uniform(0.01, 0.6))
        except subprocess.TimeoutExpired:
            publisher.send_signal(signal.SIGKILL)
        publisher.communicate(timeout=60)
        assert publisher.returncode == -signal.SIGKILL
        # as it stands, for a reader that takes no lock: every listed file is there and good
        assert consistency_problems(root) == [], f"after kill {kill}"
        leftovers += bool(unlisted(root))
        # the next open removes what the kill left; then a publish works
        with open_root(root, create=True) as opened:
            listed = set(opened.annotations.values())
            newest = {p.name for p in (root / "newest").glob("*.parquet")}
            assert newest == listed
            history = {p.name for p in (root / "historical_db").iterdir()}
            assert not history & listed
            assert not [p for p in (root / "newest").iterdir() if ".ordo-tmp-" in p.name]
        for i, name in enumerate(DATASETS):
            write_source(sources / f"{name}.parquet", products(5, start=kill * 10 + i))
        result = publish(
            root,
            tmp_path / "databaseSchemas.json",
            {n: DatasetSource(parquet=sources / f"{n}.parquet") for n in DATASETS},
        )
        assert result.ok
        assert consistency_problems(root) == []
    assert leftovers > 0
