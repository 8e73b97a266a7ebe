"""The ledger's rows commit and roll back with the unit's work, on every database."""

from __future__ import annotations

from sqlalchemy import Engine

from ordo.runner.ledger import Ledger


def test_rows_commit_with_the_work_and_roll_back_with_it(engine: Engine) -> None:
    ledger = Ledger("demo:queue/manifest.yaml")
    with engine.connect() as conn:
        ledger.ensure(conn)
        ledger.ensure(conn)  # a second time is harmless
        assert ledger.exists(conn)
        conn.exec_driver_sql("CREATE TABLE work (x INT)")
        conn.commit()
        with conn.begin():
            conn.exec_driver_sql("INSERT INTO work VALUES (1)")
            ledger.record(conn, ["a", "b"], "run-1")
        trans = conn.begin()
        conn.exec_driver_sql("INSERT INTO work VALUES (2)")
        ledger.record(conn, ["c"], "run-1")
        trans.rollback()
        assert set(ledger.entries(conn)) == {"a", "b"}
        assert ledger.entries(conn)["a"].run_id == "run-1"
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM work").scalar_one() == 1


def test_pipelines_are_kept_apart_and_rows_can_be_forgotten(engine: Engine) -> None:
    one, two = Ledger("one:queue/a.yaml"), Ledger("two:queue/b.yaml")
    with engine.connect() as conn:
        one.ensure(conn)
        with conn.begin():
            one.record(conn, ["s"], "r1")
            two.record(conn, ["s"], "r2")
        assert one.entries(conn)["s"].run_id == "r1"
        assert two.entries(conn)["s"].run_id == "r2"
        with conn.begin():
            one.record(conn, ["s"], "r3")  # recorded again by a later run: one row, the newest
        assert one.entries(conn)["s"].run_id == "r3"
        one.forget(conn, ["s"])
        assert one.entries(conn) == {}
        assert set(two.entries(conn)) == {"s"}
