"""/metrics' text from the store's figures: counts, cumulative histogram buckets, workers."""

from __future__ import annotations

from ordo.service.metrics import render_metrics
from ordo.store.queue import QueueFigures


def test_figures_become_prometheus_text() -> None:
    figures = QueueFigures(
        runs={("sales", "COMPLETED"): 3, ("sales", "FAILED"): 1, ("hr", "PENDING"): 2},
        run_seconds=[("sales", 0.3), ("sales", 4.0), ("sales", 70.0)],
        step_seconds=[("sales", 0.05)],
        retries={"sales": 2},
        rows={"sales": 120},
        queue_depth=2,
        workers={"idle": 1, "lost": 1},
        scheduler_lag_seconds=7.5,
    )
    text, media = render_metrics(figures)
    assert media.startswith("text/plain")
    lines = set(text.splitlines())
    assert 'ordo_runs{job="sales",status="COMPLETED"} 3.0' in lines
    assert 'ordo_runs{job="hr",status="PENDING"} 2.0' in lines
    assert 'ordo_run_duration_seconds_bucket{job="sales",le="0.5"} 1.0' in lines
    assert 'ordo_run_duration_seconds_bucket{job="sales",le="5.0"} 2.0' in lines
    assert 'ordo_run_duration_seconds_bucket{job="sales",le="+Inf"} 3.0' in lines
    assert 'ordo_run_duration_seconds_count{job="sales"} 3.0' in lines
    assert 'ordo_run_duration_seconds_sum{job="sales"} 74.3' in lines
    assert 'ordo_step_duration_seconds_count{job="sales"} 1.0' in lines
    assert 'ordo_step_retries_total{job="sales"} 2.0' in lines
    assert 'ordo_rows_written_total{job="sales"} 120.0' in lines
    assert "ordo_queue_depth 2.0" in lines
    assert 'ordo_workers{state="idle"} 1.0' in lines
    assert 'ordo_workers{state="busy"} 0.0' in lines
    assert 'ordo_workers{state="lost"} 1.0' in lines
    assert "ordo_scheduler_lag_seconds 7.5" in lines
