"""The dashboards, defined once: Grafana JSON (for users who run Grafana) and
Prometheus console templates (served by the local Prometheus at /consoles/).

    python -m metrics_bridge.dashboards observability/grafana/dashboards   # rewrite the Grafana JSON
"""

from __future__ import annotations

import html
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GRAFANA_DIR = Path(__file__).resolve().parents[1] / "grafana" / "dashboards"


@dataclass(frozen=True)
class Panel:
    title: str
    expr: str
    legend: str = ""  # Grafana legend format, e.g. "{{route}}"
    unit: str = "short"  # Grafana unit: s, reqps, percentunit, short, bytes


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    panels: tuple[Panel, ...]


def _p(q: float, selector: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by (le, {by}) (rate(http_request_duration_seconds_bucket{{{selector}}}[5m])))"


def _service_latency(service: str) -> Panel:
    return Panel(f"p95 latency by route ({service})", _p(0.95, f'service="{service}"', "route"), "{{route}}", "s")


DASHBOARDS: tuple[Dashboard, ...] = (
    Dashboard(
        "catalog",
        "Catalog and products",
        (
            Panel("Product views/s by category", "sum by (category) (rate(product_views_total[5m]))", "{{category}}"),
            Panel(
                "Category listings/s by category",
                "sum by (category) (rate(category_requests_total[5m]))",
                "{{category}}",
            ),
            Panel("Products per category", "max by (category) (products_per_category)", "{{category}}"),
            _service_latency("catalog"),
        ),
    ),
    Dashboard(
        "cart",
        "Cart and checkout",
        (
            Panel("Units added to carts/s", "sum(rate(items_added_to_cart_total[5m]))", "units/s"),
            Panel("Checkouts/s by outcome", "sum by (outcome) (rate(checkouts_total[5m]))", "{{outcome}}"),
            Panel(
                "Stock validation failures/s", "sum by (stage) (rate(stock_validation_failures_total[5m]))", "{{stage}}"
            ),
            Panel(
                "Order value p50 (currency units)",
                "histogram_quantile(0.5, sum by (le) (rate(cart_value_distribution_bucket[15m])))",
                "p50",
            ),
            _service_latency("cart"),
        ),
    ),
    Dashboard(
        "orders",
        "Orders and delivery time",
        (
            Panel("Orders created/s", "sum(rate(orders_created_total[5m]))", "orders/s"),
            Panel(
                "Status changes/s by status",
                "sum by (status) (rate(orders_status_total[5m]) or rate(order_status_changes_total[5m]))",
                "{{status}}",
            ),
            Panel(
                "Delivery time p50 (placed to delivered)",
                "histogram_quantile(0.5, sum by (le) (rate(order_delivery_duration_seconds_bucket[30m])))",
                "p50",
                "s",
            ),
            _service_latency("orders"),
        ),
    ),
    Dashboard(
        "users",
        "Users and authentication",
        (
            Panel("Logins/s by outcome", "sum by (outcome) (rate(login_attempts_total[5m]))", "{{outcome}}"),
            Panel("Sign-ups/s", "sum(rate(users_registered_total[5m]))", "sign-ups/s"),
            _service_latency("users"),
        ),
    ),
    Dashboard(
        "api",
        "API edge (API Gateway): requests, latency, errors",
        (
            Panel("Requests/s by function", "sum by (service) (rate(http_requests_total[5m]))", "{{service}}", "reqps"),
            Panel("p99 latency by route", _p(0.99, "", "route"), "{{route}}", "s"),
            Panel("p50 latency by function", _p(0.5, "", "service"), "{{service}}", "s"),
            Panel(
                "4xx and 5xx ratio by function",
                'sum by (service, status_class) (rate(http_requests_total{status_class=~"4xx|5xx"}[5m]))'
                " / ignoring(status_class) group_left sum by (service) (rate(http_requests_total[5m]))",
                "{{service}} {{status_class}}",
                "percentunit",
            ),
        ),
    ),
    Dashboard(
        "cassandra",
        "Cassandra",
        (
            Panel(
                "Client requests/s by operation (node)",
                "sum by (operation) (rate(cassandra_client_requests_total[1m]))",
                "{{operation}}",
                "reqps",
            ),
            Panel(
                "Node latency p99 by operation",
                'max by (operation) (cassandra_client_request_latency_seconds{quantile="0.99"})',
                "{{operation}}",
                "s",
            ),
            Panel(
                "Query p95 seen by the functions",
                "histogram_quantile(0.95, sum by (le, service) (rate(cassandra_query_duration_seconds_bucket[5m])))",
                "{{service}}",
                "s",
            ),
            Panel("JVM heap used", 'sum(jvm_memory_used_bytes{job="cassandra", area="heap"})', "heap", "bytes"),
        ),
    ),
    Dashboard(
        "tracing",
        "Tracing: where request time goes",
        (
            Panel("Slowest routes (p95)", f"topk(5, {_p(0.95, '', 'route')})", "{{route}}", "s"),
            Panel(
                "Cassandra time per request by function",
                "sum by (service) (rate(cassandra_query_duration_seconds_sum[5m]))"
                " / sum by (service) (rate(http_requests_total[5m]))",
                "{{service}}",
                "s",
            ),
            Panel(
                "Cassandra queries per request by function",
                "sum by (service) (rate(cassandra_query_duration_seconds_count[5m]))"
                " / sum by (service) (rate(http_requests_total[5m]))",
                "{{service}}",
            ),
        ),
    ),
    Dashboard(
        "workflow",
        "Order workflow and queues",
        (
            Panel("Executions by status", "sum by (status) (stepfunctions_executions)", "{{status}}"),
            Panel("Oldest running execution", "max(stepfunctions_oldest_running_seconds)", "age", "s"),
            Panel("Messages waiting by queue", "sum by (queue) (sqs_messages_visible)", "{{queue}}"),
            Panel("Outbox backlog", "sum(outbox_pending_events)", "pending"),
            Panel("Oldest pending outbox event", "max(outbox_oldest_pending_age_seconds)", "age", "s"),
        ),
    ),
)


def grafana_json(dashboard: Dashboard) -> dict[str, Any]:
    panels = [
        {
            "id": index + 1,
            "type": "timeseries",
            "title": panel.title,
            "gridPos": {"x": (index % 2) * 12, "y": (index // 2) * 8, "w": 12, "h": 8},
            "datasource": {"type": "prometheus", "uid": "prometheus"},
            "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
            "targets": [{"refId": "A", "expr": panel.expr, "legendFormat": panel.legend}],
        }
        for index, panel in enumerate(dashboard.panels)
    ]
    return {
        "uid": f"product-store-{dashboard.slug}",
        "title": f"Product Store: {dashboard.title}",
        "tags": ["product-store"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "10s",
        "time": {"from": "now-1h", "to": "now"},
        "panels": panels,
    }


_CONSOLE_UNITS = {"s": "s", "reqps": "/s", "percentunit": "", "bytes": "B", "short": ""}


def console_template(dashboard: Dashboard) -> str:
    """A console page: one Rickshaw graph per panel (prom.lib's PromConsole.Graph)."""
    parts = [
        '{{ template "head" . }}',
        '{{ template "prom_content_head" . }}',
        f"<h1>{html.escape(dashboard.title)}</h1>",
    ]
    for index, panel in enumerate(dashboard.panels):
        options = {
            "expr": panel.expr,
            "name": panel.legend.replace("{{", "[[").replace("}}", "]]"),
            "yUnits": _CONSOLE_UNITS.get(panel.unit, ""),
        }
        # Go templates read "{{"; the console's legend syntax is [[label]].
        payload = json.dumps(options).replace("{{", "{ {").replace("}}", "} }")
        parts += [
            f'<h3 class="panel-title">{html.escape(panel.title)}</h3>',
            f'<div class="panel-graph" id="panel{index}" data-expr="{html.escape(panel.expr)}"></div>',
            "<script>",
            f'new PromConsole.Graph(Object.assign({payload}, {{node: document.querySelector("#panel{index}"),'
            " yAxisFormatter: PromConsole.NumberFormatter.humanize,"
            " yHoverFormatter: PromConsole.NumberFormatter.humanize}));",
            "</script>",
        ]
    parts += ['{{ template "prom_content_tail" . }}', '{{ template "tail" }}']
    return "\n".join(parts) + "\n"


def console_templates() -> dict[str, str]:
    pages = {f"{d.slug}.html": console_template(d) for d in DASHBOARDS}
    links = "".join(f'<li><a href="{d.slug}.html">{html.escape(d.title)}</a></li>' for d in DASHBOARDS)
    pages["index.html"] = (
        '{{ template "head" . }}{{ template "prom_content_head" . }}'
        f"<h1>Product Store dashboards</h1><ul>{links}</ul>"
        '{{ template "prom_content_tail" . }}{{ template "tail" }}\n'
    )
    return pages


def menu_library() -> str:
    """The console navbar (replaces the example menu.lib, which lists node dashboards)."""
    items = "".join(
        f'<li class="nav-item"><a class="nav-link" href="{{{{ pathPrefix }}}}/consoles/{d.slug}.html">'
        f"{html.escape(d.title.split(':')[0])}</a></li>"
        for d in DASHBOARDS
    )
    return (
        '{{ define "navbar" }}<nav class="navbar navbar-expand-lg navbar-dark bg-dark">'
        '<a class="navbar-brand" href="{{ pathPrefix }}/consoles/index.html">Product Store</a>'
        f'<ul class="navbar-nav">{items}</ul></nav>{{{{ end }}}}\n'
        '{{ define "menu" }}{{ end }}\n'
    )


def write_grafana(target: Path = GRAFANA_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for dashboard in DASHBOARDS:
        path = target / f"{dashboard.slug}.json"
        path.write_text(json.dumps(grafana_json(dashboard), indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write_grafana(Path(sys.argv[1]) if len(sys.argv) > 1 else GRAFANA_DIR):
        print(written)
