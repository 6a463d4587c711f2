"""Powertools logger and metrics, one instance each per process.

The service name comes from POWERTOOLS_SERVICE_NAME, set per function in the
template, so every module logs and measures under its function's name.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

__all__ = ["METRICS_NAMESPACE", "MetricUnit", "count", "logger", "metrics", "observe"]

METRICS_NAMESPACE = "ProductStore"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """A business counter with its own dimensions (e.g. category), written at
    once as one EMF record: the per-invocation `metrics` share one dimension set."""
    observe(name, MetricUnit.Count, value, **dimensions)


def observe(name: str, unit: MetricUnit, value: float, **dimensions: str) -> None:
    """One raw value with its own dimensions, as one EMF record (the metrics
    bridge rebuilds exact histograms from the raw values). Dimensions must be
    bounded: a route template, never a raw path or an id."""
    with single_metric(name=name, unit=unit, value=value, namespace=METRICS_NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
