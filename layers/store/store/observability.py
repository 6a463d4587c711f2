"""Powertools logger and metrics, one instance each per process.

The service name comes from POWERTOOLS_SERVICE_NAME, set per function in the
template, so every module logs and measures under its function's name.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

METRICS_NAMESPACE = "ProductStore"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """A business counter with its own dimensions (e.g. category), written at
    once as one EMF record: the per-invocation `metrics` share one dimension set.
    It keeps the function's default dimensions (the service)."""
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=METRICS_NAMESPACE,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
