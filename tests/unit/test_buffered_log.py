"""The run log's file handler: warnings on disk at once, INFO lines soon, everything at close."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ordo.subscribers._buffered import BufferedFileHandler


def _logger(name: str, handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"ordo.test_buffered.{name}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger


def test_a_warning_is_on_disk_with_every_line_before_it(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    handler = BufferedFileHandler(path, delay=3600)  # the timer never fires in this test
    logger = _logger("warning", handler)
    try:
        logger.info("step one started")
        logger.warning("step one is slow")
        assert path.read_text(encoding="utf-8") == "step one started\nstep one is slow\n"
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_info_lines_reach_the_disk_without_a_close(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    handler = BufferedFileHandler(path, delay=0.05)
    logger = _logger("timer", handler)
    try:
        logger.info("step one started")
        deadline = time.monotonic() + 10
        while not path.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert path.read_text(encoding="utf-8") == "step one started\n"
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_close_writes_what_is_left_and_may_be_called_twice(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    handler = BufferedFileHandler(path, delay=3600)
    logger = _logger("close", handler)
    for n in range(100):
        logger.info("line %d", n)
    logger.removeHandler(handler)
    handler.close()
    handler.close()
    assert path.read_text(encoding="utf-8").splitlines() == [f"line {n}" for n in range(100)]
