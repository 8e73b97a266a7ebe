"""A log file handler that flushes on a short timer instead of after every line.

A run logs about three INFO lines per step; ``logging.FileHandler`` flushes after each, a
write system call per line that cost a noticeable part of a step's overhead (issue 8). This
handler lets INFO lines sit in the file's buffer for at most ``delay`` seconds: a timer thread
flushes them then, a WARNING or worse flushes at once (with everything before it), and
``close()`` flushes the rest. The price: if the process dies without closing the handler
(``kill -9``, a power cut), the last fraction of a second of INFO lines may be missing from
the log file; warnings and errors are on disk when ``emit`` returns.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

__all__ = ["BufferedFileHandler"]


class BufferedFileHandler(logging.FileHandler):
    """``logging.FileHandler`` whose INFO lines reach the disk within ``delay`` seconds."""

    def __init__(self, path: Path, *, delay: float = 0.2, encoding: str = "utf-8") -> None:
        super().__init__(path, encoding=encoding)
        self._delay = delay
        self._timer: threading.Timer | None = None
        self._urgent = False

    def emit(self, record: logging.LogRecord) -> None:
        # StreamHandler.emit calls self.flush() after the write: flush() decides what it means.
        self._urgent = record.levelno >= logging.WARNING
        super().emit(record)

    def write_text(self, text: str, *, urgent: bool) -> None:
        """One line already formatted and masked, beside the records ``emit`` writes.

        The run's own event lines come this way: a ``LogRecord`` per line (the caller's frame
        looked up, the thread named, the filters run) cost about a fifth of a millisecond
        step (issue 8, point 4). Lines written after ``close()`` are dropped, as records are.
        """
        with self.lock or _NO_LOCK:
            if self.stream is None:
                return
            self.stream.write(text + self.terminator)
            self._urgent = urgent
            self.flush()

    def flush(self) -> None:
        """At once for a warning or worse; otherwise once the timer fires."""
        with self.lock or _NO_LOCK:
            if self._urgent:
                self._urgent = False
                self._flush_now()
            elif self._timer is None and self.stream is not None:
                timer = threading.Timer(self._delay, self._on_timer)
                timer.daemon = True  # never keeps the process alive; close() flushes anyway
                self._timer = timer
                timer.start()

    def _on_timer(self) -> None:
        with self.lock or _NO_LOCK:
            self._timer = None
            self._flush_now()

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().flush()

    def close(self) -> None:
        with self.lock or _NO_LOCK:
            self._urgent = True  # FileHandler.close() flushes: at once, and no new timer
            super().close()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()
