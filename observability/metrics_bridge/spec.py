"""How each EMF metric becomes a Prometheus metric: type, name, scale, buckets.

Names and buckets follow the seeds where they give them; a metric not listed
here is a counter when its unit is Count, a histogram in seconds when its unit
is a time, and a histogram of raw values otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "histogram", "gauge"]

# Latency buckets: 500 ms is a bound, so the p99 > 500 ms alert is exact there.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DB_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
VALUE_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
_TIME_SCALE = {"Seconds": 1.0, "Milliseconds": 0.001, "Microseconds": 0.000001}


@dataclass(frozen=True)
class Spec:
    kind: Kind
    name: str
    help: str
    scale: float = 1.0
    buckets: tuple[float, ...] = ()
    # Also count every observation as `<counter>` (requests from their durations).
    counter: str | None = None


KNOWN: dict[str, Spec] = {
    "http_request_duration_ms": Spec(
        "histogram",
        "http_request_duration_seconds",
        "HTTP request duration per function, route template, method and status class",
        scale=0.001,
        buckets=LATENCY_BUCKETS,
        counter="http_requests_total",
    ),
    "cassandra_query_duration_seconds": Spec(
        "histogram",
        "cassandra_query_duration_seconds",
        "Cassandra query duration (driver)",
        buckets=DB_BUCKETS,
    ),
    "password_hash_seconds": Spec(
        "histogram", "password_hash_seconds", "argon2id hash or verify duration", buckets=LATENCY_BUCKETS
    ),
    "profile_aggregation_seconds": Spec(
        "histogram", "profile_aggregation_seconds", "profile page aggregation duration", buckets=LATENCY_BUCKETS
    ),
    "order_delivery_duration_seconds": Spec(
        "histogram",
        "order_delivery_duration_seconds",
        "time from order placed to delivered",
        buckets=(30.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 480.0, 600.0),
    ),
    "order_completion_seconds": Spec(
        "histogram",
        "order_completion_seconds",
        "time from order placed to a final status",
        buckets=(60.0, 120.0, 180.0, 300.0, 600.0),
    ),
    "cart_value_distribution": Spec(
        "histogram", "cart_value_distribution", "order value in currency units", buckets=(10, 50, 100, 200, 500, 1000)
    ),
    "cart_items_count_distribution": Spec(
        "histogram", "cart_items_count", "units per order", buckets=(1, 2, 5, 10, 20)
    ),
    "products_per_category": Spec("gauge", "products_per_category", "products in a category when last listed"),
    "products_total": Spec("gauge", "products_total", "products in the catalog when the categories were last listed"),
    "cart_abandonment": Spec("gauge", "cart_abandonment", "open carts not changed for a day, at the last sweep"),
    "circuit_breaker_state": Spec(
        "gauge", "circuit_breaker_state", "a circuit breaker's state at its last change: 0 closed, 1 half-open, 2 open"
    ),
    "consumer_lag_seconds": Spec(
        "histogram", "consumer_lag_seconds", "time a queue message waited for its consumer", buckets=LATENCY_BUCKETS
    ),
    "outbox_processing_seconds": Spec(
        "histogram",
        "outbox_processing_seconds",
        "time from a change to its event's publication",
        buckets=LATENCY_BUCKETS,
    ),
}


def spec_for(name: str, unit: str) -> Spec:
    known = KNOWN.get(name)
    # A histogram name emitted as a Count (an older pre-bucketed counter) stays a counter.
    if known is not None and not (known.kind == "histogram" and unit == "Count"):
        return known
    if unit == "Count":
        return Spec("counter", name if name.endswith("_total") else f"{name}_total", f"EMF metric {name}")
    scale = _TIME_SCALE.get(unit)
    if scale is not None:
        base = name.removesuffix("_ms").removesuffix("_seconds")
        return Spec("histogram", f"{base}_seconds", f"EMF metric {name}", scale=scale, buckets=LATENCY_BUCKETS)
    return Spec("histogram", name, f"EMF metric {name} ({unit})", buckets=VALUE_BUCKETS)
