"""Monitoring of the real test stack: a request's sample reaches Prometheus
exactly once (also across a bridge restart), every dashboard query evaluates,
the console dashboards draw data in headless Chromium, and alerts fire and
resolve in Alertmanager for a slow route, a dead-lettered message, a failed
lifecycle execution and 5xx with Cassandra stopped. Figures (delays, fire/resolve times) are printed, not asserted."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from metrics_bridge import dashboards
from storectl import cassandra, monitoring
from storectl.processes import read_pid
from support import LocalStack, add_to_cart, bearer, checkout, create_product, eventually, new_user

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "dashboards"
ROUTE = "/api/products/{product_id}"


def prom_query(local_stack: LocalStack, query: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{local_stack.instance.prometheus_url}/api/v1/query", params={"query": query}, timeout=10)
    body = response.json()
    assert response.status_code == 200, (query, body)
    assert body["status"] == "success", (query, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def prom_value(local_stack: LocalStack, query: str) -> float:
    result = prom_query(local_stack, query)
    return float(result[0]["value"][1]) if result else 0.0


def bridge_value(local_stack: LocalStack, name: str, labels: dict[str, str]) -> float:
    text = httpx.get(f"{local_stack.instance.bridge_url}/metrics", timeout=10).text
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(part in line for part in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


def bridge_polls(local_stack: LocalStack) -> int:
    polls: int = httpx.get(f"{local_stack.instance.bridge_url}/health", timeout=10).json()["polls"]
    return polls


def settled(local_stack: LocalStack, probe: Any, *, quiet: float = 12.0, timeout: float = 180.0) -> float:
    """The probe's value once it has not changed for `quiet` seconds and two
    bridge polls (the bridge has caught up with earlier log lines; a poll can
    take long on a busy machine)."""
    deadline = time.monotonic() + timeout
    value, since, polls = probe(), time.monotonic(), bridge_polls(local_stack)
    while time.monotonic() - since < quiet or bridge_polls(local_stack) < polls + 2:
        assert time.monotonic() < deadline, "the value never settled"
        time.sleep(2)
        current = probe()
        if current != value:
            value, since, polls = current, time.monotonic(), bridge_polls(local_stack)
    return float(value)


REQUEST_LABELS = {"route": ROUTE, "method": "GET", "status_class": "4xx"}


def _missing_product(api: httpx.Client, token: str) -> None:
    assert api.get(f"/api/products/{uuid.uuid4()}", headers=bearer(token)).status_code == 404


@pytest.fixture(scope="module")
def traffic(local_stack: LocalStack, api: httpx.Client, admin_token: str) -> str:
    """Some of everything the dashboards show: sign-up, login, product reads, a
    category listing, cart, checkout (which starts a lifecycle execution)."""
    _user, token = new_user(api)
    product = create_product(api, admin_token, quantity=50)
    for _ in range(3):
        assert api.get(f"/api/products/{product['id']}", headers=bearer(token)).status_code == 200
    api.get("/api/categories", headers=bearer(token))
    assert add_to_cart(api, token, product["id"], 2).status_code in (200, 201)
    assert checkout(api, token, key=str(uuid.uuid4())).status_code in (200, 201)
    return token


def test_each_request_reaches_prometheus_exactly_once(local_stack: LocalStack, api: httpx.Client, traffic: str) -> None:
    query = f'sum(http_requests_total{{route="{ROUTE}", method="GET", status_class="4xx"}}) or vector(0)'
    before = settled(local_stack, lambda: prom_value(local_stack, query))
    delays = []
    for _ in range(3):
        expected = prom_value(local_stack, query) + 1
        sent = time.monotonic()
        _missing_product(api, traffic)

        def arrived(expected: float = expected) -> bool:
            return prom_value(local_stack, query) >= expected

        eventually(arrived, timeout=120, interval=0.2, what="the sample")
        delays.append(time.monotonic() - sent)
    for _ in range(17):
        _missing_product(api, traffic)
    eventually(lambda: prom_value(local_stack, query) >= before + 20, timeout=120, what="20 samples")
    # Later polls re-read the overlap window: nothing may be counted twice.
    assert settled(local_stack, lambda: prom_value(local_stack, query)) == before + 20
    print(f"\nrequest -> Prometheus sample: median {statistics.median(delays):.1f} s, max {max(delays):.1f} s")


def test_bridge_restart_neither_loses_nor_recounts(local_stack: LocalStack, api: httpx.Client, traffic: str) -> None:
    instance = local_stack.instance
    before = settled(local_stack, lambda: bridge_value(local_stack, "http_requests_total", REQUEST_LABELS))
    pid = read_pid(instance.monitoring_dir / "bridge.pid")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # no chance to save anything on the way out
    eventually(lambda: read_pid(instance.monitoring_dir / "bridge.pid") is None, timeout=10, what="bridge gone")
    for _ in range(10):
        _missing_product(api, traffic)
    monitoring.start(instance)
    monitoring.wait_ready(instance)
    # Counted before the kill: kept (no reset); sent while down: counted once.
    eventually(
        lambda: bridge_value(local_stack, "http_requests_total", REQUEST_LABELS) >= before + 10,
        timeout=120,
        what="the 10 requests sent while the bridge was down",
    )
    assert settled(local_stack, lambda: bridge_value(local_stack, "http_requests_total", REQUEST_LABELS)) == before + 10


def test_every_dashboard_query_evaluates_and_each_dashboard_has_data(local_stack: LocalStack, traffic: str) -> None:
    def all_have_data() -> list[str]:
        missing = []
        for dashboard in dashboards.DASHBOARDS:
            if not any(prom_query(local_stack, panel.expr) for panel in dashboard.panels):
                missing.append(dashboard.slug)
        return missing

    eventually(lambda: not all_have_data(), timeout=90, interval=5, what="data on every dashboard")
    empty = [
        f"{d.slug}: {p.title}" for d in dashboards.DASHBOARDS for p in d.panels if not prom_query(local_stack, p.expr)
    ]
    print(f"\npanels without data after the traffic: {empty}")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "headless Chromium is missing: `apt-get install chromium` (.ci/run does it)"
    return found


def test_console_dashboards_draw_data_in_headless_chromium(local_stack: LocalStack, traffic: str) -> None:
    browser = _chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=15000"]
    for dashboard in dashboards.DASHBOARDS:
        url = f"{local_stack.instance.prometheus_url}/consoles/{dashboard.slug}.html"
        dom = subprocess.run(
            [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        subprocess.run(
            [browser, *flags, "--window-size=1280,2200", f"--screenshot={ARTIFACTS / (dashboard.slug + '.png')}", url],
            capture_output=True,
            timeout=120,
            check=True,
        )
        assert dom.count('class="panel-graph"') == len(dashboard.panels), dashboard.slug
        # Rickshaw draws each series as an SVG path with points.
        drawn = re.findall(r'<path[^>]* d="M[^"]+"', dom)
        assert drawn, f"{dashboard.slug}: no graph holds data"
        assert "Error" not in re.sub(r"<script.*?</script>", "", dom, flags=re.S), f"{dashboard.slug} shows an error"
        assert (ARTIFACTS / f"{dashboard.slug}.png").stat().st_size > 10_000


def _notifications(local_stack: LocalStack) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = httpx.get(f"{local_stack.instance.bridge_url}/alerts", timeout=10).json()
    return notes


def _alert_event(local_stack: LocalStack, name: str, since: float, **labels: str) -> tuple[str, float] | None:
    """The newest status Alertmanager sent for alert `name` (with `labels`) after
    `since`, and when the receiver got it."""
    event = None
    for note in _notifications(local_stack):
        if note["received"] < since:
            continue
        for alert in note.get("alerts", []):
            if alert["labels"].get("alertname") == name and all(alert["labels"].get(k) == v for k, v in labels.items()):
                event = (str(alert["status"]), float(note["received"]))
    return event


def _alert_state(local_stack: LocalStack, name: str, since: float, **labels: str) -> str | None:
    event = _alert_event(local_stack, name, since, **labels)
    return event[0] if event else None


class AlertClock:
    """When each watched alert fired and resolved, counted from when it was provoked or cleared."""

    def __init__(self, local_stack: LocalStack) -> None:
        self.local_stack = local_stack
        self.figures: list[str] = []

    def wait(self, title: str, name: str, expect: str, since: float, *, keep_going: Any = None, **labels: str) -> None:
        def reached() -> bool:
            if keep_going is not None:
                keep_going()
            return _alert_state(self.local_stack, name, since, **labels) == expect

        eventually(reached, timeout=240, interval=1, what=f"{name} {expect}")
        # The receiver's timestamp of the first such notification: waits run one
        # after another, and a group's later notifications repeat its alerts.
        first = min(
            note["received"]
            for note in _notifications(self.local_stack)
            if note["received"] >= since
            for alert in note.get("alerts", [])
            if alert["labels"].get("alertname") == name
            and alert["status"] == expect
            and all(alert["labels"].get(k) == v for k, v in labels.items())
        )
        self.figures.append(f"{title}: {expect} after {first - since:.0f} s")


def _slow_database(api: httpx.Client, token: str, cassandra_pid: int, stop: threading.Event) -> None:
    """A real slow route, whatever the machine's speed: Cassandra is paused
    (SIGSTOP) for 0.8 s while category listings wait for it, again and again."""
    with ThreadPoolExecutor(max_workers=2) as readers:
        while not stop.is_set():
            os.kill(cassandra_pid, signal.SIGSTOP)
            try:
                waiting = [readers.submit(api.get, "/api/categories", headers=bearer(token)) for _ in range(2)]
                time.sleep(0.8)
            finally:
                os.kill(cassandra_pid, signal.SIGCONT)
            for answer in waiting:
                assert answer.result().status_code == 200
            stop.wait(1)


@pytest.fixture
def cassandra_back(local_stack: LocalStack) -> Iterator[None]:
    yield
    cassandra.start(local_stack.instance)
    cassandra.wait_ready(local_stack.instance)


@pytest.mark.usefixtures("cassandra_back")
def test_alerts_fire_and_resolve_end_to_end(local_stack: LocalStack, api: httpx.Client, admin_token: str) -> None:
    """Phase 1 provokes a slow route, a dead-lettered message and a failed
    lifecycle execution at once; phase 2 clears them and stops Cassandra (5xx);
    phase 3 brings Cassandra back. Each alert must reach Alertmanager's receiver
    as firing, then as resolved."""
    clock = AlertClock(local_stack)
    sqs = local_stack.client("sqs")
    dlq = local_stack.outputs["NotificationsDeadLetterQueueUrl"]
    sqs.purge_queue(QueueUrl=dlq)

    provoked = time.time()
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        cassandra_pid = read_pid(local_stack.instance.cassandra_dir / "cassandra.pid")
        assert cassandra_pid is not None
        slow = pool.submit(_slow_database, api, admin_token, cassandra_pid, stop)
        sqs.send_message(QueueUrl=dlq, MessageBody='{"poison": true}')
        # No such order: the first task fails, Compensate fails too -> FAILED.
        local_stack.client("stepfunctions").start_execution(
            stateMachineArn=local_stack.outputs["OrderLifecycleStateMachineArn"],
            name=f"obs-{uuid.uuid4().hex}",
            input=json.dumps({"order_id": "not-an-order"}),
        )
        try:
            clock.wait("DLQ message", "DeadLetterMessages", "firing", provoked)
            clock.wait("failed execution", "OrderWorkflowFailed", "firing", provoked, status="FAILED")
            clock.wait("slow route", "HighP99Latency", "firing", provoked, route="/api/categories")
        finally:
            stop.set()
            slow.result()
    # `storectl alerts` lists them (pointed at this stack's Alertmanager).
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "storectl"), "alerts"],
        env={**os.environ, "STORE_ALERTMANAGER_PORT": str(local_stack.instance.alertmanager_port)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "critical  DeadLetterMessages" in listed, listed
    assert "OrderWorkflowFailed" in listed, listed

    assert api.get("/api/health").status_code == 200
    cleared = time.time()
    sqs.purge_queue(QueueUrl=dlq)
    cassandra.stop(local_stack.instance)
    broken = time.time()

    def failing_requests() -> None:
        assert api.get("/api/health").status_code == 503

    clock.wait(
        "5xx (Cassandra stopped)", "HighErrorRate", "firing", broken, keep_going=failing_requests, service="catalog"
    )
    assert _alert_state(local_stack, "ServiceUnavailable", broken, service="catalog") == "firing"
    clock.wait("DLQ message", "DeadLetterMessages", "resolved", cleared)
    clock.wait("failed execution", "OrderWorkflowFailed", "resolved", cleared, status="FAILED")
    clock.wait("slow route", "HighP99Latency", "resolved", cleared, route="/api/categories")

    cassandra.start(local_stack.instance)
    cassandra.wait_ready(local_stack.instance)
    back = time.time()

    def healthy_requests() -> None:
        api.get("/api/health")

    clock.wait(
        "5xx (Cassandra stopped)", "HighErrorRate", "resolved", back, keep_going=healthy_requests, service="catalog"
    )
    print("\n" + "\n".join(clock.figures))
