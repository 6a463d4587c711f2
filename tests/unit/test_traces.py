"""`storectl trace`'s tree of Zipkin spans: parents before children, children
by start time, a span whose parent is missing shown as a root of its own."""

from __future__ import annotations

from typing import Any

from storectl import traces


def _span(span_id: str, name: str, service: str, timestamp: int, parent: str | None = None, **tags: str) -> Any:
    span: dict[str, Any] = {
        "traceId": "t" * 32,
        "id": span_id,
        "name": name,
        "timestamp": timestamp,
        "duration": 1500,
        "localEndpoint": {"serviceName": service},
        "tags": tags,
    }
    if parent:
        span["parentId"] = parent
    return span


def test_the_tree_follows_parent_links_and_start_times() -> None:
    spans = [
        _span("c", "task transition", "order_workflow", 30, "a"),
        _span("a", "post /cart-api/cart/checkout", "cart", 10),
        _span("b", "checkout", "cart", 20, "a", **{"otel.status_code": "ERROR"}),
        _span("d", "notification", "notifications", 40, "missing"),
    ]
    lines = traces.render(traces.span_tree(spans))
    assert [line[:70].rstrip() for line in lines] == [  # the label column is 70 wide
        "cart: post /cart-api/cart/checkout",
        "  cart: checkout",
        "  order_workflow: task transition",
        "notifications: notification",
    ]
    assert lines[1].endswith("1.5 ms  ERROR")
    assert lines[0].endswith("OK")
