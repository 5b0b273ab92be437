"""Metrics for the operations team, scraped from `/metrics` (docs/DEPLOY.md, Monitoring).

django-prometheus measures requests (rate and latency per view and method, status codes)
and database queries (count and duration per alias, through its database engine wrapper).
This module adds what is coprod's own: the report and page cache.

Extension point: a background job queue exposes its depth with `watch_queue_depth(name,
count)`, where `count()` returns the number of jobs waiting; it is read at each scrape.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

CACHE_SECONDS = Histogram(
    "coprod_cache_operation_seconds",
    "Time of report and page cache operations.",
    ["operation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
PAGE_CACHE = Counter(
    "coprod_page_cache_requests_total",
    "Public page requests by what the page cache did: hit, miss, or bypass (signed in).",
    ["result"],
)
QUEUE_DEPTH = Gauge("coprod_job_queue_depth", "Jobs waiting in a queue.", ["queue"])


@contextmanager
def timed_cache(operation: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        CACHE_SECONDS.labels(operation).observe(time.perf_counter() - started)


def watch_queue_depth(name: str, count: Callable[[], float]) -> None:
    """Report `count()` as the depth of queue `name` at every scrape."""
    QUEUE_DEPTH.labels(name).set_function(count)
