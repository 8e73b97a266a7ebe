"""``type: clear`` through ``ordo.run`` on the four live databases.

What is left is read with SQLAlchemy's inspector, not with ordo's own catalog, so a catalog
that missed a table would show here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, inspect

import ordo
from tests.support.runs import backend_of, execute, make, run

CREATE = [  # made parents first, as they must be; names sort against the drop order
    "CREATE TABLE stg_a (id INTEGER PRIMARY KEY)",
    "CREATE TABLE stg_b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES stg_a (id))",
    "CREATE TABLE int_c (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES stg_b (id))",
    "CREATE TABLE fct_d (id INTEGER PRIMARY KEY, c_id INTEGER REFERENCES int_c (id))",
    "CREATE VIEW stg_v AS SELECT id FROM stg_b",
    "CREATE VIEW dim_w AS SELECT stg_v.id FROM stg_v JOIN fct_d ON fct_d.id = stg_v.id",
    # never matched: another prefix, a prefix's '_' taken as any character, no '_' at all
    "CREATE TABLE stgx (id INTEGER)",
    "CREATE TABLE stg1 (id INTEGER)",
    "CREATE TABLE ab (id INTEGER)",
    "CREATE VIEW abview AS SELECT id FROM ab",
]
LEFT_ALONE = {"stgx", "stg1", "ab", "abview"}


def _mariadb_keys(statements: list[str]) -> list[str]:
    """MariaDB ignores an inline ``REFERENCES`` on a column: the key must be a clause."""
    out = []
    for sql in statements:
        if " REFERENCES " not in sql or not sql.startswith("CREATE TABLE"):
            out.append(sql)
            continue
        column = sql.split(", ")[1].split()[0]
        parent = sql.split(" REFERENCES ")[1].split()[0]
        key = f"{column} INTEGER, FOREIGN KEY ({column}) REFERENCES {parent} (id)"
        out.append(f"{sql.split(', ')[0]}, {key})")
    return out


def setup(url: URL, statements: list[str]) -> None:
    engine = create_engine(url)
    if backend_of(url) == "mariadb":
        statements = _mariadb_keys(statements)
    execute(engine, *statements)


def left(url: URL, schema: str | None = None) -> set[str]:
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return set(found.get_table_names(schema)) | set(found.get_view_names(schema))
    finally:
        engine.dispose()


def manifest(step: str) -> str:
    return f"name: clearing\nsteps:\n  - name: clear\n    type: clear\n{step}"


def test_clear_by_prefix_drops_views_and_keys_dependants_first(db_url: URL, tmp_path: Path) -> None:
    setup(db_url, CREATE)
    root = make(tmp_path, db_url, manifest("    prefixes: [stg_, int_, fct_, dim_, a_]\n"))
    result = run(root)
    [step] = result.steps
    assert step.status == "success", step.error
    assert left(db_url) - {"ordo_ledger"} == LEFT_ALONE
    from ordo.api.run_history import show_run

    [task] = show_run(result.run_id, project=root).tasks
    # views first (dim_w reads stg_v), then each table before the one its key references
    assert task.details["dropped"] == ["dim_w", "stg_v", "fct_d", "int_c", "stg_b", "stg_a"]


def test_keep_and_tables(db_url: URL, tmp_path: Path) -> None:
    setup(db_url, CREATE)
    step = "    prefixes: [stg_]\n    tables: [fct_d, int_c, dim_w, no_such]\n    keep: [stg_a]\n"
    root = make(tmp_path, db_url, manifest(step))
    result = run(root)
    assert result.status == "success", result.steps[0].error
    assert left(db_url) - {"ordo_ledger"} == LEFT_ALONE | {"stg_a"}
    from ordo.api.run_history import show_run

    [task] = show_run(result.run_id, project=root).tasks
    assert task.details["not_there"] == ["no_such"]


def test_views_false_leaves_every_view(db_url: URL, tmp_path: Path) -> None:
    setup(
        db_url,
        [
            "CREATE TABLE ab (id INTEGER)",
            "CREATE TABLE stg_a (id INTEGER)",
            "CREATE VIEW stg_v AS SELECT id FROM ab",
        ],
    )
    root = make(tmp_path, db_url, manifest("    prefixes: stg_\n    views: false\n"))
    assert run(root).status == "success"
    assert left(db_url) - {"ordo_ledger"} == {"ab", "stg_v"}


def test_a_kept_table_referencing_a_cleared_one_stops_it(db_url: URL, tmp_path: Path) -> None:
    setup(
        db_url,
        [
            "CREATE TABLE stg_parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE stg_other (id INTEGER)",
            "CREATE TABLE orders (id INTEGER, p INTEGER REFERENCES stg_parent (id))",
        ],
    )
    root = make(tmp_path, db_url, manifest("    prefixes: [stg_]\n"))
    result = run(root)
    [step] = result.steps
    assert step.status == "failed"
    error = step.error or ""
    assert "table orders (not cleared)" in error
    assert "to table stg_parent" in error
    assert "nothing was dropped" in error
    assert left(db_url) - {"ordo_ledger"} == {"stg_parent", "stg_other", "orders"}


def test_a_view_left_alone_reading_a_cleared_table_stops_it_where_known(
    db_url: URL, tmp_path: Path
) -> None:
    setup(db_url, ["CREATE TABLE stg_a (id INTEGER)", "CREATE VIEW report AS SELECT id FROM stg_a"])
    root = make(tmp_path, db_url, manifest("    prefixes: [stg_]\n"))
    [step] = run(root).steps
    if backend_of(db_url) == "postgresql":  # the catalog knows what the view reads
        assert step.status == "failed"
        assert "view report (not cleared) reads table stg_a" in (step.error or "")
        assert left(db_url) - {"ordo_ledger"} == {"stg_a", "report"}
    else:  # the view is left reading nothing: said in the README
        assert step.status == "success", step.error
        assert left(db_url) - {"ordo_ledger"} == {"report"}


def test_names_are_matched_as_stored(db_url: URL, tmp_path: Path) -> None:
    backend = backend_of(db_url)
    quote = "`" if backend == "mariadb" else '"'
    setup(
        db_url,
        [
            f"CREATE TABLE {quote}Stg_Mixed{quote} (id INTEGER)",
            "CREATE TABLE stg_lower (id INTEGER)",
            "CREATE TABLE STG_UNQUOTED (id INTEGER)",
        ],
    )
    # PostgreSQL folds the unquoted name to lower case; the others keep it as written
    unquoted = "stg_unquoted" if backend == "postgresql" else "STG_UNQUOTED"
    assert left(db_url) == {"Stg_Mixed", "stg_lower", unquoted}
    step = "    prefixes: [stg_]\n    tables: [STG_MIXED]\n"
    root = make(tmp_path / "first", db_url, manifest(step))
    result = run(root)
    assert result.status == "success", result.steps[0].error
    mixed = {"Stg_Mixed"} | ({unquoted} - {"stg_unquoted"})
    assert left(db_url) - {"ordo_ledger"} == mixed
    from ordo.api.run_history import show_run

    [task] = show_run(result.run_id, project=root).tasks
    assert task.details["not_there"] == ["STG_MIXED"]  # the stored name is Stg_Mixed
    root = make(tmp_path / "second", db_url, manifest("    prefixes: [Stg_]\n"))
    assert run(root).status == "success"
    assert left(db_url) - {"ordo_ledger"} == mixed - {"Stg_Mixed"}


def test_tables_made_in_any_order(db_url: URL, tmp_path: Path) -> None:
    """Children made before their parents, keys added last where the database allows it
    (DuckDB adds no key to a table that exists: there parents come first). The names sort
    the wrong way round: a_3 references a_2, which references a_1."""
    backend = backend_of(db_url)
    parent = {"a_3": "a_2", "a_2": "a_1"}
    view = "CREATE VIEW a_0 AS SELECT id FROM a_1"
    if backend in ("postgresql", "mariadb"):
        setup(
            db_url,
            [f"CREATE TABLE {n} (id INTEGER PRIMARY KEY, ref INTEGER)" for n in ("a_3", "a_2")]
            + ["CREATE TABLE a_1 (id INTEGER PRIMARY KEY)", view]
            + [
                f"ALTER TABLE {child} ADD FOREIGN KEY (ref) REFERENCES {to} (id)"
                for child, to in parent.items()
            ],
        )
    else:  # SQLite: a key may name a table made later; DuckDB: in the only order it takes
        order = ["a_1", "a_2", "a_3"] if backend == "duckdb" else ["a_3", "a_2", "a_1"]
        setup(
            db_url,
            [
                f"CREATE TABLE {n} (id INTEGER PRIMARY KEY"
                + (f", ref INTEGER REFERENCES {parent[n]} (id))" if n in parent else ")")
                for n in order
            ]
            + [view],
        )
    root = make(tmp_path, db_url, manifest("    prefixes: [a_]\n"))
    result = run(root)
    assert result.status == "success", result.steps[0].error
    assert left(db_url) - {"ordo_ledger"} == set()
    from ordo.api.run_history import show_run

    [task] = show_run(result.run_id, project=root).tasks
    assert task.details["dropped"] == ["a_0", "a_3", "a_2", "a_1"]


def test_a_keep_name_in_another_case_is_refused(db_url: URL, tmp_path: Path) -> None:
    setup(db_url, ["CREATE TABLE stg_a (id INTEGER)", "CREATE TABLE stg_b (id INTEGER)"])
    root = make(tmp_path, db_url, manifest("    prefixes: [stg_]\n    keep: [STG_A]\n"))
    [step] = run(root).steps
    assert step.status == "failed"
    assert "keep names 'STG_A', but the database stores 'stg_a'" in (step.error or "")
    assert left(db_url) - {"ordo_ledger"} == {"stg_a", "stg_b"}


GROUP = """\
name: clearing
steps:
  - name: clear
    type: clear
    prefixes: [stg_]
    transaction_group: rebuild
  - name: then fails
    sql: INSERT INTO no_such_table VALUES (1)
    transaction_group: rebuild
"""


def test_a_failure_after_the_drops_leaves_everything(db_url: URL, tmp_path: Path) -> None:
    setup(db_url, CREATE)
    root = make(tmp_path, db_url, GROUP)
    if backend_of(db_url) == "mariadb":  # each DROP commits: the planner says so first
        with pytest.raises(ordo.ManifestInvalid, match="DROP TABLE and DROP VIEW"):
            run(root)
        return
    assert run(root).status == "failed"
    assert left(db_url) - {"ordo_ledger"} == {r.split()[2] for r in CREATE}


@pytest.mark.postgres
def test_a_failure_half_way_through_the_drops_leaves_everything(
    postgres_url: URL, tmp_path: Path
) -> None:
    """PostgreSQL refuses to drop a table a function's result type depends on: the second
    ``DROP`` fails after the first succeeded, and the unit's rollback brings both back."""
    setup(
        postgres_url,
        [
            "CREATE TABLE stg_a (id INTEGER)",
            "CREATE TABLE stg_b (id INTEGER)",
            "CREATE FUNCTION all_b() RETURNS SETOF stg_b LANGUAGE sql AS 'SELECT * FROM stg_b'",
        ],
    )
    root = make(tmp_path, postgres_url, manifest("    prefixes: [stg_]\n"))
    [step] = run(root).steps
    assert step.status == "failed"
    assert "stg_b" in (step.error or "")
    assert left(postgres_url) - {"ordo_ledger"} == {"stg_a", "stg_b"}


def test_rehearse_drops_nothing_and_says_what_it_would(db_url: URL, tmp_path: Path) -> None:
    setup(db_url, CREATE)
    root = make(tmp_path, db_url, manifest("    prefixes: [stg_, int_, fct_, dim_]\n"))
    options = ordo.RunOptions(rehearse=True, notify=False)
    if backend_of(db_url) == "mariadb":
        with pytest.raises(ordo.InvalidInput, match="cannot rehearse"):
            ordo.run(project=root, environ={}, options=options)
        return
    from tests.support.events import EventRecorder

    recorder = EventRecorder()
    options = ordo.RunOptions(rehearse=True, notify=False, subscribers=[recorder])
    result = ordo.run(project=root, environ={}, options=options)
    assert result.status == "success", result.steps[0].error
    assert left(db_url) == {r.split()[2] for r in CREATE}
    from ordo.events import StepSucceeded

    [done] = [e for e in recorder.events if isinstance(e, StepSucceeded)]
    assert done.details["dropped"] == ["dim_w", "stg_v", "fct_d", "int_c", "stg_b", "stg_a"]


@pytest.mark.postgres
def test_a_cycle_of_keys_and_another_schema(postgres_url: URL, tmp_path: Path) -> None:
    schema = "clear_" + tmp_path.name[-12:].lower().replace("-", "_")
    setup(
        postgres_url,
        [
            f'CREATE SCHEMA "{schema}"',
            f'CREATE TABLE "{schema}".stg_a (id INTEGER PRIMARY KEY, b_id INTEGER)',
            f'CREATE TABLE "{schema}".stg_b (id INTEGER PRIMARY KEY, '
            f'a_id INTEGER REFERENCES "{schema}".stg_a)',
            f'ALTER TABLE "{schema}".stg_a ADD CONSTRAINT a_to_b '
            f'FOREIGN KEY (b_id) REFERENCES "{schema}".stg_b',
            "CREATE TABLE stg_here (id INTEGER)",
        ],
    )
    try:
        root = make(
            tmp_path, postgres_url, manifest(f"    prefixes: [stg_]\n    schema: {schema}\n")
        )
        result = run(root)
        assert result.status == "success", result.steps[0].error
        assert left(postgres_url, schema) == set()
        assert "stg_here" in left(postgres_url)  # the current schema is not touched
        from ordo.api.run_history import show_run

        [task] = show_run(result.run_id, project=root).tasks
        assert task.details["cycle_keys"] == ["stg_a.a_to_b", "stg_b.stg_b_a_id_fkey"]
    finally:
        execute(create_engine(postgres_url), f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
