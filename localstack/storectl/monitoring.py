"""Monitoring of a local stack: the metrics bridge, Prometheus, Alertmanager,
and the JMX exporter agent inside the Cassandra node.

Prometheus 2.42 and Alertmanager 0.25 are Debian 12 packages, fetched once with
`apt-get download` and unpacked with `dpkg -x` into the user's cache (no root,
no system service); the JMX exporter agent comes from Maven Central. Every
server listens on 127.0.0.1 only and keeps its data under the instance's state
directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from storectl.errors import StoreCtlError
from storectl.instance import PROJECT_ROOT, Instance, cache_root
from storectl.processes import get_local, read_pid, require_free_port, start_daemon, stop_session

PROMETHEUS_VERSION = "2.42.0"
ALERTMANAGER_VERSION = "0.25.0"
# The servers, and the JavaScript the Prometheus console templates load
# (the web assets link to them with relative symlinks).
DEBIAN_PACKAGES = (
    "prometheus",
    "prometheus-alertmanager",
    "libjs-jquery",
    "libjs-bootstrap4",
    "libjs-d3",
    "libjs-eonasdan-bootstrap-datetimepicker",
    "libjs-jquery-hotkeys",
    "libjs-moment",
    "libjs-moment-timezone",
    "libjs-mustache",
    "libjs-popper.js",
    "libjs-rickshaw",
    "fonts-glyphicons-halflings",
)
JMX_EXPORTER = "io.prometheus.jmx:jmx_prometheus_javaagent:1.0.1"
OBSERVABILITY_DIR = PROJECT_ROOT / "observability"
RULES_FILE = OBSERVABILITY_DIR / "alerts" / "rules.yml"
SCRAPE_INTERVAL = "10s"  # the seeds' interval

# Cassandra's client request and CQL metrics (the JVM's own come with the agent).
_JMX_CONFIG = """\
lowercaseOutputName: true
includeObjectNames:
  - "org.apache.cassandra.metrics:type=ClientRequest,*"
  - "org.apache.cassandra.metrics:type=CQL,*"
  - "org.apache.cassandra.metrics:type=Client,*"
rules:
  - pattern: 'org.apache.cassandra.metrics<type=ClientRequest, scope=(\\w+), name=Latency><>Count'
    name: cassandra_client_requests_total
    type: COUNTER
    labels: {operation: "$1"}
  - pattern: 'org.apache.cassandra.metrics<type=ClientRequest, scope=(\\w+), name=Latency><>(50|95|99)thPercentile'
    name: cassandra_client_request_latency_seconds
    type: GAUGE
    valueFactor: 0.000001
    labels: {operation: "$1", quantile: "0.$2"}
  - pattern: >-
      org.apache.cassandra.metrics<type=ClientRequest, scope=(\\w+), name=(Timeouts|Unavailables|Failures)><>Count
    name: cassandra_client_request_$2_total
    type: COUNTER
    labels: {operation: "$1"}
  - pattern: 'org.apache.cassandra.metrics<type=Client, name=connectedNativeClients><>Value'
    name: cassandra_connected_native_clients
    type: GAUGE
"""


def servers_root() -> Path:
    return cache_root() / f"prometheus-{PROMETHEUS_VERSION}"


def ensure_servers() -> Path:
    """Prometheus and Alertmanager unpacked into the cache; fetched once."""
    root = servers_root()
    if (root / ".complete").exists():
        return root
    apt_get = shutil.which("apt-get")
    dpkg_deb = shutil.which("dpkg-deb")
    if not apt_get or not dpkg_deb:
        raise StoreCtlError(
            "Prometheus and Alertmanager come from Debian packages, but apt-get/dpkg-deb are missing",
            "run on Debian 12 (bookworm), or unpack the packages "
            + ", ".join(DEBIAN_PACKAGES[:2])
            + f" yourself into {root} and create {root / '.complete'}",
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    with tempfile.TemporaryDirectory(dir=root.parent) as downloads:
        # apt's sandbox user cannot write into a private directory; keep it simple.
        os.chmod(downloads, 0o755)  # noqa: S103 - a throwaway download folder
        result = subprocess.run(
            [apt_get, "download", "-q", *DEBIAN_PACKAGES], cwd=downloads, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise StoreCtlError(
                f"apt-get could not download {', '.join(DEBIAN_PACKAGES)}:\n{result.stderr[-2000:]}",
                "run `sudo apt-get update` (a fresh machine has no package lists), then retry",
            )
        for deb in sorted(Path(downloads).glob("*.deb")):
            subprocess.run([dpkg_deb, "-x", str(deb), str(partial)], check=True, capture_output=True)
    for binary in ("prometheus", "promtool", "prometheus-alertmanager", "amtool"):
        if not (partial / "usr" / "bin" / binary).exists():
            raise StoreCtlError(f"the Debian packages held no usr/bin/{binary}", f"look into {partial}")
    _relocate_alertmanager(partial / "usr" / "bin" / "prometheus-alertmanager")
    # 212 MB of per-zone files; the web UI loads the bundled moment-timezone-with-data.
    shutil.rmtree(partial / "usr" / "share" / "javascript" / "moment-timezone" / "data", ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    partial.rename(root)
    (root / ".complete").touch()
    return root


# Debian's Alertmanager reads its notification templates from this fixed path
# (no flag changes it). The cached copy gets a relative path of the same length
# instead, and runs with the cache folder as its working directory.
_AM_SYSTEM_PATH = b"/usr/share/prometheus/alertmanager"
_AM_RELATIVE_PATH = b"usr//share/prometheus/alertmanager"


def _relocate_alertmanager(executable: Path) -> None:
    data = executable.read_bytes()
    if _AM_SYSTEM_PATH not in data:
        raise StoreCtlError(f"{executable} does not name {_AM_SYSTEM_PATH.decode()}; another build of Alertmanager?")
    executable.write_bytes(data.replace(_AM_SYSTEM_PATH, _AM_RELATIVE_PATH))


def binary(name: str) -> Path:
    return ensure_servers() / "usr" / "bin" / name


def jmx_agent() -> Path:
    """The Prometheus JMX exporter agent jar from Maven Central; fetched once."""
    return maven_jar(JMX_EXPORTER, cache_root() / "jmx-exporter", "the JMX exporter agent for Cassandra's metrics")


def maven_jar(coordinates: str, target: Path, purpose: str) -> Path:
    """One jar (`group:artifact:version[:jar:classifier]`) from Maven Central into
    `target`; fetched once."""
    parts = coordinates.split(":")
    artifact, version = parts[1], parts[2]
    classifier = f"-{parts[4]}" if len(parts) > 4 else ""
    jar = target / f"{artifact}-{version}{classifier}.jar"
    if jar.exists():
        return jar
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StoreCtlError(
            f"Maven is missing; it fetches {purpose}",
            "install Maven (Debian: `apt-get install maven`)",
        )
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [mvn, "-B", "-q", "dependency:copy", f"-Dartifact={coordinates}", f"-DoutputDirectory={target}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not jar.exists():
        raise StoreCtlError(
            f"Maven could not fetch {coordinates}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}",
            "check that Maven Central is reachable, then retry",
        )
    return jar


def jmx_agent_option(instance: Instance) -> str:
    """The -javaagent option that serves Cassandra's JVM and table metrics on 127.0.0.1."""
    config = instance.monitoring_dir / "jmx-exporter.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(_JMX_CONFIG)
    return f"-javaagent:{jmx_agent()}=127.0.0.1:{instance.jmx_exporter_port}:{config}"


def _pid_file(instance: Instance, name: str) -> Path:
    return instance.monitoring_dir / f"{name}.pid"


def _prometheus_config(instance: Instance) -> str:
    targets = {
        "bridge": instance.bridge_port,
        "prometheus": instance.prometheus_port,
        "alertmanager": instance.alertmanager_port,
    }
    if not instance.external_cassandra_hosts:
        targets["cassandra"] = instance.jmx_exporter_port
    config: dict[str, Any] = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(RULES_FILE)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{instance.alertmanager_port}"]}]}]},
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]} for job, port in targets.items()
        ],
    }
    return json.dumps(config, indent=2)  # JSON is YAML


def _alertmanager_config(instance: Instance) -> str:
    config = {
        "route": {
            "receiver": "local",
            "group_by": ["severity"],
            # Short waits: a local stack should show a new alert within seconds.
            "group_wait": "5s",
            "group_interval": "10s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "local",
                "webhook_configs": [{"url": f"{instance.bridge_url}/alerts", "send_resolved": True}],
            }
        ],
    }
    return json.dumps(config, indent=2)


def start(instance: Instance) -> None:
    """Start the bridge, Alertmanager and Prometheus (idempotent)."""
    root = ensure_servers()
    base = instance.monitoring_dir
    base.mkdir(parents=True, exist_ok=True)
    if read_pid(_pid_file(instance, "bridge")) is None:
        require_free_port(instance.bridge_port, "the metrics bridge", "STORE_BRIDGE_PORT")
        start_daemon(
            [
                sys.executable,
                "-m",
                "metrics_bridge",
                f"--port={instance.bridge_port}",
                f"--endpoint-url={instance.endpoint_url}",
                f"--stack-name={instance.stack_name}",
                f"--state-dir={base / 'bridge'}",
                f"--cassandra-hosts={instance.cassandra_hosts}",
                f"--cassandra-port={instance.cassandra_port}",
            ],
            env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
            log_file=base / "bridge.log",
            pid_file=_pid_file(instance, "bridge"),
        )
    if read_pid(_pid_file(instance, "alertmanager")) is None:
        require_free_port(instance.alertmanager_port, "Alertmanager", "STORE_ALERTMANAGER_PORT")
        (base / "alertmanager.yml").write_text(_alertmanager_config(instance))
        start_daemon(
            [
                str(root / "usr" / "bin" / "prometheus-alertmanager"),
                f"--config.file={base / 'alertmanager.yml'}",
                f"--storage.path={base / 'alertmanager-data'}",
                f"--web.listen-address=127.0.0.1:{instance.alertmanager_port}",
                f"--web.external-url={instance.alertmanager_url}",
                "--cluster.listen-address=",  # no gossip: one local instance
            ],
            env=os.environ,
            log_file=base / "alertmanager.log",
            pid_file=_pid_file(instance, "alertmanager"),
            cwd=root,  # where its relocated templates path resolves
        )
    if read_pid(_pid_file(instance, "prometheus")) is None:
        require_free_port(instance.prometheus_port, "Prometheus", "STORE_PROMETHEUS_PORT")
        (base / "prometheus.yml").write_text(_prometheus_config(instance))
        consoles, libraries = _write_consoles(instance, root)
        start_daemon(
            [
                str(root / "usr" / "bin" / "prometheus"),
                f"--config.file={base / 'prometheus.yml'}",
                f"--storage.tsdb.path={base / 'prometheus-data'}",
                "--storage.tsdb.retention.time=7d",
                f"--web.listen-address=127.0.0.1:{instance.prometheus_port}",
                f"--web.external-url={instance.prometheus_url}",
                f"--web.local-assets={root / 'usr' / 'share' / 'prometheus' / 'web'}",
                f"--web.console.templates={consoles}",
                f"--web.console.libraries={libraries}",
            ],
            env=os.environ,
            log_file=base / "prometheus.log",
            pid_file=_pid_file(instance, "prometheus"),
        )


def _write_consoles(instance: Instance, root: Path) -> tuple[Path, Path]:
    """The dashboards as console templates, from their one definition."""
    from metrics_bridge import dashboards  # noqa: PLC0415 - only needed when Prometheus starts

    consoles = instance.monitoring_dir / "consoles"
    libraries = instance.monitoring_dir / "console_libraries"
    shutil.rmtree(consoles, ignore_errors=True)
    shutil.rmtree(libraries, ignore_errors=True)
    consoles.mkdir(parents=True)
    libraries.mkdir(parents=True)
    shutil.copy(root / "usr/share/doc/prometheus/examples/console_libraries/prom.lib", libraries / "prom.lib")
    (libraries / "menu.lib").write_text(dashboards.menu_library())
    for name, html in dashboards.console_templates().items():
        (consoles / name).write_text(html)
    return consoles, libraries


def ready_urls(instance: Instance) -> dict[str, str]:
    return {
        "bridge": f"{instance.bridge_url}/health",
        "alertmanager": f"{instance.alertmanager_url}/-/ready",
        "prometheus": f"{instance.prometheus_url}/-/ready",
    }


def is_up(instance: Instance, name: str) -> bool:
    return get_local(ready_urls(instance)[name]) is not None


def wait_ready(instance: Instance, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    for name in ("bridge", "alertmanager", "prometheus"):
        while not is_up(instance, name):
            if read_pid(_pid_file(instance, name)) is None:
                log = instance.monitoring_dir / f"{name}.log"
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise StoreCtlError(f"{name} exited while starting; the end of {log}:\n{tail}")
            if time.monotonic() > deadline:
                raise StoreCtlError(
                    f"{name} did not answer within {timeout:.0f} s",
                    f"look at {instance.monitoring_dir / (name + '.log')}",
                )
            time.sleep(0.3)


def stop(instance: Instance) -> list[str]:
    return [name for name in ("prometheus", "alertmanager", "bridge") if stop_session(_pid_file(instance, name))]


def running(instance: Instance) -> dict[str, int | None]:
    return {name: read_pid(_pid_file(instance, name)) for name in ("bridge", "prometheus", "alertmanager")}


def firing_alerts(instance: Instance) -> list[dict[str, Any]]:
    """Alerts Alertmanager holds now (API v2)."""
    body = get_local(f"{instance.alertmanager_url}/api/v2/alerts")
    if body is None:
        raise StoreCtlError(f"Alertmanager does not answer on {instance.alertmanager_url}", "run `make up`")
    alerts: list[dict[str, Any]] = json.loads(body)
    return alerts
