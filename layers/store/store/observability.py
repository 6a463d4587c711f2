"""Powertools logger and metrics, one instance each per process.

The service name comes from POWERTOOLS_SERVICE_NAME, set per function in the
template, so every module logs and measures under its function's name.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

__all__ = ["METRICS_NAMESPACE", "MetricUnit", "count", "counted", "logger", "metrics", "observe", "timed"]

P = ParamSpec("P")
R = TypeVar("R")

METRICS_NAMESPACE = "ProductStore"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """A business counter with its own dimensions (e.g. category), written at
    once as one EMF record: the per-invocation `metrics` share one dimension set."""
    observe(name, MetricUnit.Count, value, **dimensions)


def observe(name: str, unit: MetricUnit, value: float, /, **dimensions: str) -> None:
    """One raw value with its own dimensions, as one EMF record (the metrics
    bridge rebuilds exact histograms from the raw values). Dimensions must be
    bounded: a route template, never a raw path or an id."""
    with single_metric(name=name, unit=unit, value=value, namespace=METRICS_NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


def consumer_lag(consumer: str, sent_timestamp_ms: str | int | None) -> None:
    """How long a queue message waited before its consumer took it
    (`consumer_lag_seconds`, from SQS's SentTimestamp)."""
    if sent_timestamp_ms is None:
        return
    lag = max(0.0, time.time() - int(sent_timestamp_ms) / 1000)
    observe("consumer_lag_seconds", MetricUnit.Seconds, lag, consumer=consumer)


def timed(name: str, **dimensions: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: observe each call's duration in seconds as `name` (raw value)."""

    def wrap(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                observe(name, MetricUnit.Seconds, time.perf_counter() - started, **dimensions)

        return call

    return wrap


def counted(name: str, **dimensions: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: count each call as `name` with `status` ok, or error when it raises."""

    def wrap(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                result = function(*args, **kwargs)
            except Exception:
                observe(name, MetricUnit.Count, 1, status="error", **dimensions)
                raise
            observe(name, MetricUnit.Count, 1, status="ok", **dimensions)
            return result

        return call

    return wrap
