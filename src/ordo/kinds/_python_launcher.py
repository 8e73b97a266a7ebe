"""Runs a python step's script as ``python script.py`` would, its output buffered yet live.

Run as a file (``python _python_launcher.py script.py args...``), never imported by ordo: it
must cost the script nothing at start, so it imports only what the interpreter has loaded.

Why: a script whose output goes to a pipe writes it in 8 KiB blocks, so a line printed now
may arrive minutes later; run unbuffered (``PYTHONUNBUFFERED``) it arrives at once but pays a
write per line, and a script printing a million lines took three times as long as on its own.
Here stdout stays buffered and a thread flushes it every 0.1 s, so output reaches the log and
the console live at the speed of a buffered script. stderr is the same stream as stdout: the
two reach ordo's one pipe in the order they were written, as on a terminal, and a traceback
comes after the lines printed before it (not before them, when the buffer is flushed at exit).

Everything else is as ``python script.py``: the script runs in the real ``__main__`` module
(as pdb runs one), with ``sys.argv``, ``sys.path[0]`` and ``__file__`` as Python sets them; an
uncaught exception prints its traceback (without this file's frame) through ``sys.excepthook``
and exits with 1. A step whose environment sets ``PYTHONUNBUFFERED`` gets what it asked for:
unbuffered streams, left alone.
"""

from __future__ import annotations

import os
import sys
import threading

TYPE_CHECKING = False  # not typing's: the launcher imports nothing the script would not
if TYPE_CHECKING:
    from typing import IO

FLUSH_EVERY = 0.1  # seconds a printed line may wait before it reaches ordo


# The script's run clears this module's globals (it is ``__main__``, which the script takes
# over): code that runs afterwards uses only its locals, arguments and builtins.


def _flush_periodically(stream: IO[str], stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            stream.flush()
        except (OSError, ValueError):  # the pipe is gone, or the script closed the stream
            return


def _buffer_output() -> None:
    import atexit

    stream = sys.stdout
    sys.stderr = stream  # one stream, one order
    stop = threading.Event()
    flusher = threading.Thread(
        target=_flush_periodically,
        args=(stream, stop, FLUSH_EVERY),
        name="ordo-output",
        daemon=True,
    )

    def finish() -> None:
        # Before the interpreter's own final flush: a daemon thread caught inside a flush at
        # shutdown would hold the stream's lock and abort the process.
        stop.set()
        flusher.join()

    flusher.start()
    atexit.register(finish)


def _run(script: str) -> None:
    import builtins
    from importlib.machinery import SourceFileLoader

    import __main__

    with open(script, "rb") as source:  # bytes: compile reads a coding cookie as Python does
        code = compile(source.read(), script, "exec", dont_inherit=True)
    main_globals = __main__.__dict__
    main_globals.clear()
    main_globals.update(
        __name__="__main__",
        __file__=script,
        __builtins__=builtins,
        __doc__=None,
        __spec__=None,
        __package__=None,
        __loader__=SourceFileLoader("__main__", script),
    )
    exec(code, main_globals)


def main() -> None:
    sys_, launcher, run = sys, __file__, _run  # see above: the globals are the script's soon
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    if not os.environ.get("PYTHONUNBUFFERED"):
        _buffer_output()
    try:
        run(script)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:  # printed as Python prints it, then exit 1
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == launcher:
            tb = tb.tb_next
        sys_.excepthook(type(exc), exc.with_traceback(tb), tb)
        sys_.exit(1)


if __name__ == "__main__":  # imported (by a test that imports every module): nothing runs
    main()
