"""The marks journal beside a manifest: which (step, run) marks reached the disk."""

from __future__ import annotations

from pathlib import Path

from ordo.manifest.journal import MarkJournal


def test_forgetting_keeps_the_other_steps_entries(tmp_path: Path) -> None:
    journal = MarkJournal(tmp_path / "manifest.yaml")
    journal.add([("a", "r1"), ("b", "r1")])
    journal.forget(["a"])
    assert journal.read() == {("b", "r1")}
    journal.forget(["b"])
    assert not journal.path.exists()


def test_a_journal_that_cannot_be_read_is_left_as_it_is(tmp_path: Path) -> None:
    # Forgetting one step rewrote the file from what could be read: an unreadable one lost
    # every other step's entries, which are what keep an old ledger row from winning.
    journal = MarkJournal(tmp_path / "manifest.yaml")
    journal.path.write_bytes(b'["a", "r1"]\n["b", "r\xff"]\n')
    journal.forget(["a"])
    assert journal.path.read_bytes() == b'["a", "r1"]\n["b", "r\xff"]\n'
