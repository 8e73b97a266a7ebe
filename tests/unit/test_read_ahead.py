"""``ordo._read_ahead``: a read started in the background is handed over only when it is the
same read of the same, unchanged files; anything else reads again."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ordo import _read_ahead


class Reads:
    """A read of one file that counts how often it ran, and on which thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.threads: list[str] = []

    def __call__(self) -> str:
        self.threads.append(threading.current_thread().name)
        text = self.path.read_text()
        if text.startswith("bad"):
            raise ValueError(f"cannot read {text!r}")
        return text


def wait_for_the_worker() -> None:
    """Until every read started so far has run: the worker reads in the order started."""
    _read_ahead.start("marker", [], lambda: None)
    _read_ahead.take("marker", [], lambda: pytest.fail("the marker was not read ahead"))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    return path


def test_a_started_read_is_handed_over_and_done_once_in_the_background(data: Path) -> None:
    read = Reads(data)
    _read_ahead.start(("k", data), [data], read)
    _read_ahead.start(("k", data), [data], read)  # the same key again: still one read
    assert _read_ahead.take(("k", data), [data], read) == "a,b\n1,2\n"
    assert read.threads == ["ordo-read-ahead"]


def test_without_a_start_the_caller_reads(data: Path) -> None:
    read = Reads(data)
    assert _read_ahead.take(("never started", data), [data], read) == "a,b\n1,2\n"
    assert read.threads == [threading.current_thread().name]


def test_a_read_is_taken_once(data: Path) -> None:
    read = Reads(data)
    _read_ahead.start(("once", data), [data], read)
    _read_ahead.take(("once", data), [data], read)
    _read_ahead.take(("once", data), [data], read)
    assert read.threads == ["ordo-read-ahead", threading.current_thread().name]


def test_a_file_changed_since_the_start_is_read_again(data: Path) -> None:
    read = Reads(data)
    _read_ahead.start(("changed", data), [data], read)
    wait_for_the_worker()
    data.write_text("a,b\n1,2\n3,4\n")
    assert _read_ahead.take(("changed", data), [data], read) == "a,b\n1,2\n3,4\n"
    assert read.threads == ["ordo-read-ahead", threading.current_thread().name]


def test_a_file_that_appeared_or_went_is_a_change(tmp_path: Path) -> None:
    later = tmp_path / "later.csv"
    read = Reads(later)
    later.write_text("x\n")
    _read_ahead.start(("gone", later), [later], read)
    assert _read_ahead.take(("gone", later), [later], read) == "x\n"
    missing = tmp_path / "missing.csv"
    _read_ahead.start(("appears", missing), [missing], lambda: "nothing there")
    missing.write_text("y\n")
    assert _read_ahead.take(("appears", missing), [missing], Reads(missing)) == "y\n"


def test_a_failed_read_fails_where_it_is_taken(data: Path) -> None:
    data.write_text("bad file")
    read = Reads(data)
    _read_ahead.start(("fails", data), [data], read)
    with pytest.raises(ValueError, match="cannot read 'bad file'"):
        _read_ahead.take(("fails", data), [data], read)
    assert read.threads == ["ordo-read-ahead"]


def test_a_failed_read_of_a_file_mended_since_is_read_again(data: Path) -> None:
    data.write_text("bad file")
    read = Reads(data)
    _read_ahead.start(("mended", data), [data], read)
    wait_for_the_worker()
    data.write_text("good file, longer")
    assert _read_ahead.take(("mended", data), [data], read) == "good file, longer"


def test_the_worker_ends_when_there_is_nothing_left_to_read(data: Path) -> None:
    _read_ahead.start(("ends", data), [data], Reads(data))
    _read_ahead.take(("ends", data), [data], Reads(data))
    for thread in threading.enumerate():
        if thread.name == "ordo-read-ahead":
            thread.join(timeout=10)
    assert "ordo-read-ahead" not in [t.name for t in threading.enumerate()]


def test_a_kept_value_is_handed_over_while_its_file_is_unchanged(data: Path) -> None:
    _read_ahead.keep(("kept", data), [data], "as read before")
    assert _read_ahead.take(("kept", data), [data], Reads(data)) == "as read before"
    _read_ahead.keep(("kept again", data), [data], "as read before")
    data.write_text("a,b\n1,2\nand more\n")
    assert _read_ahead.take(("kept again", data), [data], Reads(data)) == "a,b\n1,2\nand more\n"
