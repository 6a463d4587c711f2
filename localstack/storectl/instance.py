"""Where one local stack keeps its state and which ports it uses.

`make up` runs the "dev" instance; `make test` runs a separate "test" instance on
other ports and in a throwaway directory, so the suite never touches the data of
a running dev stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    """Downloads shared by every clone (the Cassandra jars): outside the work tree."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("STORE_CACHE_DIR", Path(base) / "product-store"))


@dataclass(frozen=True)
class Instance:
    name: str
    state_dir: Path
    emulator_port: int
    cassandra_port: int
    cassandra_storage_port: int
    stack_name: str
    docs_port: int = 8000
    # Comma-separated hosts of an external cluster; when set, no local node is run.
    external_cassandra_hosts: str | None = None
    # Monitoring: the metrics bridge, Prometheus, Alertmanager, Cassandra's JMX exporter.
    bridge_port: int = 9101
    prometheus_port: int = 9090
    alertmanager_port: int = 9093
    jmx_exporter_port: int = 9404
    # The trace server (Zipkin): its UI, its API and the spans the functions send.
    trace_port: int = 9411
    # An AWS emulator already running (a LocalStack, say); when set, none is started.
    external_emulator_url: str | None = None
    # Cassandra as the deployed functions reach it, when not as storectl does
    # (LocalStack in Docker runs them in containers: `cassandra`, not 127.0.0.1).
    functions_cassandra_hosts: str | None = None

    @property
    def endpoint_url(self) -> str:
        return (self.external_emulator_url or f"http://127.0.0.1:{self.emulator_port}").rstrip("/")

    @property
    def docs_url(self) -> str:
        return f"http://127.0.0.1:{self.docs_port}/"

    @property
    def cassandra_hosts(self) -> str:
        return self.external_cassandra_hosts or "127.0.0.1"

    @property
    def runs_local_cassandra(self) -> bool:
        """Whether the Cassandra node is the throwaway one storectl runs itself
        (the only place the well-known demo accounts may be created)."""
        return self.external_cassandra_hosts is None

    @property
    def cassandra_dir(self) -> Path:
        return self.state_dir / "cassandra"

    @property
    def emulator_dir(self) -> Path:
        return self.state_dir / "emulator"

    @property
    def build_dir(self) -> Path:
        return self.state_dir / "build"

    @property
    def monitoring_dir(self) -> Path:
        return self.state_dir / "monitoring"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://127.0.0.1:{self.alertmanager_port}"

    @property
    def bridge_url(self) -> str:
        return f"http://127.0.0.1:{self.bridge_port}"

    @property
    def trace_url(self) -> str:
        return f"http://127.0.0.1:{self.trace_port}"

    @property
    def tracing_dir(self) -> Path:
        return self.state_dir / "tracing"

    @property
    def docs_dir(self) -> Path:
        return self.state_dir / "docs"


def dev_instance() -> Instance:
    return Instance(
        name="dev",
        state_dir=Path(os.environ.get("STORE_STATE_DIR", PROJECT_ROOT / ".state" / "dev")),
        emulator_port=int(os.environ.get("STORE_EMULATOR_PORT", "4566")),
        cassandra_port=int(os.environ.get("CASSANDRA_PORT", "9042")),
        cassandra_storage_port=int(os.environ.get("CASSANDRA_STORAGE_PORT", "7000")),
        stack_name=os.environ.get("STORE_STACK_NAME", "product-store"),
        docs_port=int(os.environ.get("STORE_DOCS_PORT", "8000")),
        external_cassandra_hosts=os.environ.get("CASSANDRA_HOSTS") or None,
        bridge_port=int(os.environ.get("STORE_BRIDGE_PORT", "9101")),
        prometheus_port=int(os.environ.get("STORE_PROMETHEUS_PORT", "9090")),
        alertmanager_port=int(os.environ.get("STORE_ALERTMANAGER_PORT", "9093")),
        jmx_exporter_port=int(os.environ.get("STORE_JMX_EXPORTER_PORT", "9404")),
        trace_port=int(os.environ.get("STORE_TRACE_PORT", "9411")),
        external_emulator_url=os.environ.get("STORE_EMULATOR_URL") or None,
        functions_cassandra_hosts=os.environ.get("STORE_FUNCTIONS_CASSANDRA_HOSTS") or None,
    )


def test_instance(state_dir: Path) -> Instance:
    return Instance(
        name="test",
        state_dir=state_dir,
        emulator_port=int(os.environ.get("STORE_TEST_EMULATOR_PORT", "4599")),
        cassandra_port=int(os.environ.get("STORE_TEST_CASSANDRA_PORT", "19042")),
        cassandra_storage_port=int(os.environ.get("STORE_TEST_CASSANDRA_STORAGE_PORT", "17000")),
        stack_name="product-store-test",
        bridge_port=int(os.environ.get("STORE_TEST_BRIDGE_PORT", "9201")),
        prometheus_port=int(os.environ.get("STORE_TEST_PROMETHEUS_PORT", "9190")),
        alertmanager_port=int(os.environ.get("STORE_TEST_ALERTMANAGER_PORT", "9193")),
        jmx_exporter_port=int(os.environ.get("STORE_TEST_JMX_EXPORTER_PORT", "9504")),
        trace_port=int(os.environ.get("STORE_TEST_TRACE_PORT", "9511")),
        docs_port=int(os.environ.get("STORE_TEST_DOCS_PORT", "8099")),
        # Always a node of its own: the suite stops it to test the 503 path.
        # The emulator may be one already running (the suite then skips what
        # reads the bundled emulator's own views).
        external_emulator_url=os.environ.get("STORE_TEST_EMULATOR_URL") or None,
    )
