"""Powertools logger and metrics, one instance each per process.

The service name comes from POWERTOOLS_SERVICE_NAME, set per function in the
template, so every module logs and measures under its function's name.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

METRICS_NAMESPACE = "ProductStore"

logger = Logger()
metrics = Metrics(namespace=METRICS_NAMESPACE)
