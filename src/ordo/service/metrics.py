"""``GET /metrics``: the queue's figures in Prometheus' text format, from prometheus-client.

The figures are read from the store at each scrape (``ServiceStore.queue_figures``), not counted
in this process: every replica of ``ordo serve`` on one store reports the same numbers, and a
restart loses none. So the registry is built anew for each scrape, from those figures.
"""

from __future__ import annotations

from ordo.store.queue import QueueFigures

__all__ = ["DURATION_BUCKETS", "render_metrics"]

DURATION_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0, float("inf"))


def render_metrics(figures: QueueFigures) -> tuple[str, str]:
    """The exposition text and its media type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )

    class _Figures:
        def collect(self):  # type: ignore[no-untyped-def]
            runs = GaugeMetricFamily(
                "ordo_runs",
                "Service runs in the store, by job and status",
                labels=["job", "status"],
            )
            for (job, status), count in sorted(figures.runs.items()):
                runs.add_metric([job, status], count)
            yield runs
            yield _histogram(
                HistogramMetricFamily,
                "ordo_run_duration_seconds",
                "Duration of finished service runs",
                figures.run_seconds,
            )
            yield _histogram(
                HistogramMetricFamily,
                "ordo_step_duration_seconds",
                "Duration of the steps of service runs",
                figures.step_seconds,
            )
            retries = CounterMetricFamily(
                "ordo_step_retries", "Step attempts past the first, by job", labels=["job"]
            )
            for job, count in sorted(figures.retries.items()):
                retries.add_metric([job], count)
            yield retries
            rows = CounterMetricFamily(
                "ordo_rows_written", "Rows the steps of service runs wrote", labels=["job"]
            )
            for job, count in sorted(figures.rows.items()):
                rows.add_metric([job], count)
            yield rows
            yield GaugeMetricFamily(
                "ordo_queue_depth", "Runs waiting for a worker", value=figures.queue_depth
            )
            workers = GaugeMetricFamily("ordo_workers", "Workers by state", labels=["state"])
            for state in ("idle", "busy", "lost"):
                workers.add_metric([state], figures.workers.get(state, 0))
            yield workers
            yield GaugeMetricFamily(
                "ordo_scheduler_lag_seconds",
                "How long the oldest scheduled run has waited past its fire time",
                value=figures.scheduler_lag_seconds,
            )

    registry = CollectorRegistry()
    registry.register(_Figures())
    return generate_latest(registry).decode("utf-8"), CONTENT_TYPE_LATEST


def _histogram(family: type, name: str, text: str, values: list[tuple[str, float]]) -> object:
    """A histogram per job, its buckets cumulative as Prometheus has them."""
    made = family(name, text, labels=["job"])
    by_job: dict[str, list[float]] = {}
    for job, seconds in values:
        by_job.setdefault(job, []).append(seconds)
    for job, found in sorted(by_job.items()):
        buckets = [
            (_bound(bound), float(sum(1 for v in found if v <= bound)))
            for bound in DURATION_BUCKETS
        ]
        made.add_metric([job], buckets, sum(found))
    return made


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else str(bound)
