"""The trace server of a local stack (Zipkin), and reading an order's trace from it.

Zipkin's server is one executable jar on Maven Central with its browser UI
inside (Jaeger built from the Go module proxy has no UI). It keeps spans in
memory, bounded by MAX_SPANS (Zipkin bounds spans, not traces: the oldest
traces go first), listens on 127.0.0.1 only, and takes spans in its own JSON
format (`POST /api/v2/spans`), which the functions' OpenTelemetry SDK sends
with `OTEL_TRACES_EXPORTER=zipkin` (this server has no OTLP receiver).
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storectl.errors import StoreCtlError
from storectl.instance import Instance, cache_root
from storectl.monitoring import maven_jar
from storectl.processes import get_local, read_pid, require_free_port, start_daemon, stop_session

ZIPKIN = "io.zipkin:zipkin-server:3.5.1:jar:exec"
MAX_SPANS = 50_000  # the seeds keep 50,000 traces; Zipkin's bound counts spans
HEAP = "256m"  # 50,000 spans fit with room; the JVM's default would take a quarter of the RAM
LOOKBACK_MS = 7 * 24 * 3600 * 1000


def server_jar() -> Path:
    return maven_jar(ZIPKIN, cache_root() / "zipkin", "the Zipkin trace server")


def _pid_file(instance: Instance) -> Path:
    return instance.tracing_dir / "zipkin.pid"


def _log_file(instance: Instance) -> Path:
    return instance.tracing_dir / "zipkin.log"


def spans_endpoint(instance: Instance) -> str:
    """Where the functions send their spans (OTEL_EXPORTER_ZIPKIN_ENDPOINT)."""
    return f"{instance.trace_url}/api/v2/spans"


def ui_url(instance: Instance) -> str:
    return f"{instance.trace_url}/zipkin/"


def start(instance: Instance) -> None:
    """Start the trace server (idempotent); `wait_ready` waits for it."""
    if read_pid(_pid_file(instance)) is not None:
        return
    java = shutil.which("java")
    if java is None:
        raise StoreCtlError("Java is missing; the trace server (Zipkin) runs on it", "install JDK 17")
    jar = server_jar()
    require_free_port(instance.trace_port, "the trace server (Zipkin)", "STORE_TRACE_PORT")
    instance.tracing_dir.mkdir(parents=True, exist_ok=True)
    start_daemon(
        [
            java,
            f"-Xmx{HEAP}",
            "-XX:+UseSerialGC",  # a small heap on a shared machine: the least memory and threads
            "-jar",
            str(jar),
            "--server.address=127.0.0.1",
            f"--server.port={instance.trace_port}",
            "--zipkin.storage.type=mem",
            f"--zipkin.storage.mem.max-spans={MAX_SPANS}",
            "--zipkin.self-tracing.enabled=false",
        ],
        env={"PATH": "/usr/bin:/bin", "HOME": str(instance.tracing_dir)},
        log_file=_log_file(instance),
        pid_file=_pid_file(instance),
    )


def is_up(instance: Instance) -> bool:
    return get_local(f"{instance.trace_url}/health", timeout=5.0) is not None


def wait_ready(instance: Instance, timeout: float = 120.0) -> float:
    """Wait until the server answers; the seconds since it was started."""
    pid_file = _pid_file(instance)
    started = pid_file.stat().st_mtime if pid_file.exists() else time.time()
    deadline = time.monotonic() + timeout
    while not is_up(instance):
        if read_pid(pid_file) is None:
            log = _log_file(instance)
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise StoreCtlError(f"the trace server exited while starting; the end of {log}:\n{tail}")
        if time.monotonic() > deadline:
            raise StoreCtlError(
                f"the trace server did not answer within {timeout:.0f} s", f"look at {_log_file(instance)}"
            )
        time.sleep(0.3)
    return time.time() - started


def stop(instance: Instance) -> bool:
    return stop_session(_pid_file(instance))


def running(instance: Instance) -> int | None:
    return read_pid(_pid_file(instance))


def order_spans(instance: Instance, order_id: str) -> list[dict[str, Any]]:
    """Every span of the traces that hold a span tagged with the order (Zipkin v2 JSON)."""
    query = urllib.parse.urlencode(
        {
            "annotationQuery": f"order.id={order_id}",
            "limit": 100,
            "lookback": LOOKBACK_MS,
            "endTs": int(time.time() * 1000) + 60_000,
        }
    )
    body = get_local(f"{instance.trace_url}/api/v2/traces?{query}", timeout=5.0)
    if body is None:
        raise StoreCtlError(f"the trace server does not answer on {instance.trace_url}", "run `make up`")
    traces: list[list[dict[str, Any]]] = json.loads(body)
    return [span for trace in traces for span in trace]


@dataclass
class Node:
    span: dict[str, Any]
    children: list[Node] = field(default_factory=list)

    @property
    def service(self) -> str:
        return str((self.span.get("localEndpoint") or {}).get("serviceName", "?"))

    @property
    def name(self) -> str:
        return str(self.span.get("name", "?"))

    @property
    def duration_ms(self) -> float:
        return float(self.span.get("duration", 0)) / 1000

    @property
    def status(self) -> str:
        tags = self.span.get("tags") or {}
        return "ERROR" if "error" in tags or tags.get("otel.status_code") == "ERROR" else "OK"


def span_tree(spans: list[dict[str, Any]]) -> list[Node]:
    """The spans as trees, by parent id; a span whose parent is missing is a root
    (so a broken link shows up as a second root)."""
    nodes = {span["id"]: Node(span) for span in spans}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.span.get("parentId", ""))
        (parent.children if parent is not None else roots).append(node)
    for node in nodes.values():
        node.children.sort(key=lambda child: child.span.get("timestamp", 0))
    return sorted(roots, key=lambda root: root.span.get("timestamp", 0))


def render(roots: list[Node]) -> list[str]:
    """One line per span: indentation, function, span name, duration, status."""
    lines: list[str] = []

    def walk(node: Node, depth: int) -> None:
        label = f"{'  ' * depth}{node.service}: {node.name}"
        lines.append(f"{label:<70} {node.duration_ms:>9.1f} ms  {node.status}")
        for child in node.children:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return lines
