"""The bridge's daemon: poll every few seconds, serve /metrics and an
Alertmanager webhook receiver on 127.0.0.1.

    python -m metrics_bridge --port 9101 --endpoint-url http://127.0.0.1:4566 \
        --stack-name product-store --state-dir .state/dev/bridge
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from metrics_bridge import emf
from metrics_bridge.cursor import GroupCursor, LogReader
from metrics_bridge.exposition import Gauges, StateCollector
from metrics_bridge.sources import (
    CloudWatchLogs,
    OutboxProbe,
    StackResources,
    execution_gauges,
    queue_gauges,
    stack_resources,
)
from metrics_bridge.state import MetricState

log = logging.getLogger("metrics_bridge")


@dataclass(frozen=True)
class Options:
    port: int
    endpoint_url: str | None
    region: str
    stack_name: str
    state_dir: Path
    interval: float
    overlap_ms: int
    cassandra_hosts: list[str]
    cassandra_port: int
    keyspace: str


class Bridge:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.lock = threading.Lock()
        self.state_file = options.state_dir / "state.json"
        self.state = MetricState.load(self.state_file)
        self.gauges = Gauges()
        self.registry = CollectorRegistry()
        self.registry.register(StateCollector(self.state, self.gauges, self.lock))
        self.alerts_file = options.state_dir / "alerts.jsonl"
        session = boto3.session.Session(region_name=options.region)
        kwargs: dict[str, Any] = {"endpoint_url": options.endpoint_url} if options.endpoint_url else {}
        self.logs = session.client("logs", **kwargs)
        self.sqs = session.client("sqs", **kwargs)
        self.sfn = session.client("stepfunctions", **kwargs)
        self.cloudformation = session.client("cloudformation", **kwargs)
        self.reader = LogReader(CloudWatchLogs(self.logs), overlap_ms=options.overlap_ms)
        self.outbox = OutboxProbe(options.cassandra_hosts, options.cassandra_port, options.keyspace)
        self.polls = 0
        self.last_poll_seconds = 0.0
        self.resources: StackResources | None = None
        self.resources_at = 0.0

    def poll(self) -> None:
        started = time.monotonic()
        now = time.time()
        # The stack's resources change only on a deploy: list them every 30 s.
        if self.resources is None or not self.resources.log_groups or time.monotonic() - self.resources_at > 30:
            self.resources = stack_resources(self.cloudformation, self.options.stack_name)
            self.resources_at = time.monotonic()
        resources = self.resources
        gauges: list[GaugeMetricFamily] = []
        pollers: list[tuple[str, Callable[[], list[GaugeMetricFamily]]]] = [
            ("queues", lambda: queue_gauges(self.sqs, resources.queue_urls, now)),
            ("executions", lambda: execution_gauges(self.sfn, resources.state_machines, now)),
            ("outbox", lambda: self.outbox.gauges(now)),
        ]
        for name, collect in pollers:
            try:
                gauges.extend(collect())
            except Exception:
                log.exception("polling %s failed", name)
        # Read every group outside the lock, then apply values and cursors together.
        updates: list[tuple[str, GroupCursor, list[emf.Observation]]] = []
        for group in resources.log_groups:
            with self.lock:
                known = self.state.cursors.get(group)
                cursor = GroupCursor.from_json(known.to_json()) if known else GroupCursor(position=0)
            try:
                events = self.reader.read(group, cursor)
            except Exception:
                log.exception("reading %s failed", group)
                continue
            updates.append((group, cursor, [o for event in events for o in emf.parse(event.message)]))
        took = time.monotonic() - started
        bridge = GaugeMetricFamily("bridge_poll_seconds", "duration of the bridge's last poll")
        bridge.add_metric([], took)
        with self.lock:
            for group, cursor, observations in updates:
                for observation in observations:
                    self.state.record(observation)
                self.state.cursors[group] = cursor
            self.gauges.families = [*gauges, bridge]
            self.state.save(self.state_file)
        self.polls += 1
        self.last_poll_seconds = took

    def record_alerts(self, payload: dict[str, Any]) -> None:
        with self.lock, self.alerts_file.open("a") as out:
            out.write(json.dumps({"received": time.time(), **payload}) + "\n")

    def received_alerts(self) -> list[dict[str, Any]]:
        with self.lock:
            if not self.alerts_file.exists():
                return []
            return [json.loads(line) for line in self.alerts_file.read_text().splitlines() if line]


def _handler(bridge: Bridge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                self._reply(200, generate_latest(bridge.registry), CONTENT_TYPE_LATEST)
            elif self.path.startswith("/alerts"):
                self._reply(200, json.dumps(bridge.received_alerts()).encode(), "application/json")
            elif self.path.startswith("/health"):
                self._reply(200, json.dumps({"polls": bridge.polls}).encode(), "application/json")
            else:
                self._reply(404, b"not found\n", "text/plain")

        def do_POST(self) -> None:
            # Alertmanager's webhook receiver: keep every notification.
            if not self.path.startswith("/alerts"):
                self._reply(404, b"not found\n", "text/plain")
                return
            length = int(self.headers.get("Content-Length", "0"))
            try:
                payload = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._reply(400, b"invalid json\n", "text/plain")
                return
            bridge.record_alerts(payload)
            self._reply(200, b"{}", "application/json")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="metrics_bridge", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint-url", default=None, help="AWS endpoint (the local emulator); unset on AWS")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    parser.add_argument("--overlap-ms", type=int, default=10_000, help="how late a log line may land and still count")
    parser.add_argument("--cassandra-hosts", default="127.0.0.1")
    parser.add_argument("--cassandra-port", type=int, default=9042)
    parser.add_argument("--keyspace", default="store")
    args = parser.parse_args(argv)
    return Options(
        port=args.port,
        endpoint_url=args.endpoint_url,
        region=args.region,
        stack_name=args.stack_name,
        state_dir=args.state_dir,
        interval=args.interval,
        overlap_ms=args.overlap_ms,
        cassandra_hosts=args.cassandra_hosts.split(","),
        cassandra_port=args.cassandra_port,
        keyspace=args.keyspace,
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("cassandra").setLevel(logging.ERROR)  # driver chatter on every connect
    options = parse_args(argv)
    options.state_dir.mkdir(parents=True, exist_ok=True)
    bridge = Bridge(options)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), _handler(bridge))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("serving http://127.0.0.1:%d/metrics", options.port)
    while not stop.is_set():
        try:
            bridge.poll()
        except Exception:
            log.exception("poll failed")
        stop.wait(options.interval)
    server.shutdown()
