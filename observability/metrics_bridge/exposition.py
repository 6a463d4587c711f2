"""Expose a MetricState and the polled gauges through prometheus_client."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from metrics_bridge.state import MetricState


class Gauges:
    """The latest polled figures (queues, executions, outbox), replaced as a whole."""

    def __init__(self) -> None:
        self.families: list[GaugeMetricFamily] = []


class StateCollector(Collector):
    def __init__(self, state: MetricState, gauges: Gauges, lock: threading.Lock) -> None:
        self._state = state
        self._gauges = gauges
        self._lock = lock

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            families = list(self._state.families.values())
            snapshot = [(family.spec, dict(family.series)) for family in families]
            polled = list(self._gauges.families)
        for spec, series in snapshot:
            metric: Metric
            if spec.kind == "counter":
                metric = CounterMetricFamily(spec.name, spec.help)
                for labels, s in series.items():
                    metric.add_sample(f"{spec.name.removesuffix('_total')}_total", dict(labels), s.value)
            elif spec.kind == "gauge":
                metric = GaugeMetricFamily(spec.name, spec.help)
                for labels, s in series.items():
                    metric.add_sample(spec.name, dict(labels), s.value)
            else:
                metric = HistogramMetricFamily(spec.name, spec.help)
                for labels, s in series.items():
                    cumulative = 0
                    for bound, count in zip([*spec.buckets, math.inf], s.counts, strict=True):
                        cumulative += count
                        le = "+Inf" if math.isinf(bound) else repr(float(bound))
                        metric.add_sample(f"{spec.name}_bucket", {**dict(labels), "le": le}, cumulative)
                    metric.add_sample(f"{spec.name}_count", dict(labels), s.count)
                    metric.add_sample(f"{spec.name}_sum", dict(labels), s.total)
            yield metric
        yield from polled
