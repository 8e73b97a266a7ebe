"""A scheduler replica in a process of its own, for tests that kill one mid-hour.

    python -m tests.support.scheduling URL START END SPEED EPOCH NAME OUT

ticks a ``Scheduler`` on the PostgreSQL store at ``URL`` along a simulated clock that runs
``SPEED`` times faster than the real one from ``EPOCH`` (a Unix time shared by every replica,
so they tick the same simulated moments), from ``START`` to ``END`` (ISO 8601), ending on a
tick at ``END`` exactly. Every fire it wins is appended to ``OUT`` as one JSON line, flushed
at once. It prints ``ticking`` when it has opened the store.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from ordo.service.scheduler import Fire, Scheduler
from ordo.store.postgresql import PostgresStore


def main(argv: list[str]) -> None:
    url, start_text, end_text, speed_text, epoch_text, name, out = argv
    start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    speed, epoch = float(speed_text), float(epoch_text)
    store = PostgresStore(make_url(url))
    with Path(out).open("a", encoding="utf-8") as written:

        def on_fire(fire: Fire) -> None:
            line = {"job": fire.job.name, "at": fire.scheduled_for.isoformat(), "by": name}
            written.write(json.dumps(line) + "\n")
            written.flush()

        scheduler = Scheduler(store, on_fire, name=name)
        print("ticking", flush=True)
        while True:
            now = start + timedelta(seconds=(time.time() - epoch) * speed)
            scheduler.tick(min(now, end))
            if now >= end:
                break
            time.sleep(0.005)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
