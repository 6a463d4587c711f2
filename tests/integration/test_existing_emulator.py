"""`make up` with STORE_EMULATOR_URL: deploy to an emulator that is already
running instead of starting one, and leave it running at `down`. The test
stack's emulator plays the user's; a second stack is deployed to it and deleted
afterwards (its outbox sweep would otherwise publish the test stack's events
to its own topic)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storectl.processes import port_is_free
from support import LocalStack

STACK = "product-store-existing"


def _free_port(taken: tuple[int, ...] = ()) -> int:
    return next(port for port in range(18700, 18800) if port not in taken and port_is_free(port))


@pytest.fixture
def existing(local_stack: LocalStack) -> Iterator[dict[str, str]]:
    state = tempfile.mkdtemp(prefix="product-store-existing-")
    env = {
        **os.environ,
        "STORE_EMULATOR_URL": local_stack.instance.endpoint_url + "/",
        "STORE_EMULATOR_PORT": "9",  # must not matter: nothing is started
        "CASSANDRA_HOSTS": "127.0.0.1",
        "CASSANDRA_PORT": str(local_stack.instance.cassandra_port),
        "STORE_STACK_NAME": STACK,
        "STORE_STATE_DIR": state,
        # Its own docs server, monitoring and trace server, on free ports; no workers warmed.
        "STORE_WARM_WORKERS": "0",
    }
    ports: tuple[int, ...] = ()
    for name in (
        "STORE_DOCS_PORT",
        "STORE_BRIDGE_PORT",
        "STORE_PROMETHEUS_PORT",
        "STORE_ALERTMANAGER_PORT",
        "STORE_TRACE_PORT",
    ):
        ports = (*ports, _free_port(ports))
        env[name] = str(ports[-1])
    try:
        yield env
    finally:
        subprocess.run([_storectl(), "down"], env=env, capture_output=True, check=False, timeout=60)
        local_stack.client("cloudformation").delete_stack(StackName=STACK)
        local_stack.client("cloudformation").get_waiter("stack_delete_complete").wait(
            StackName=STACK, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )


def _storectl() -> str:
    return str(Path(sys.executable).parent / "storectl")


@pytest.mark.runs_last
def test_up_deploys_to_a_running_emulator_and_down_leaves_it(local_stack: LocalStack, existing: dict[str, str]) -> None:
    up = subprocess.run([_storectl(), "up"], env=existing, capture_output=True, text=True, check=False, timeout=480)
    assert up.returncode == 0, up.stdout + up.stderr
    api = next(line.split()[3] for line in up.stdout.splitlines() if "API base URL:" in line)
    assert api.startswith(local_stack.instance.endpoint_url + "/_aws/execute-api/")
    assert api != local_stack.api_url  # a stack of its own on the same emulator
    assert httpx.get(f"{api}/api/health", timeout=30).json()["cassandra"] == "up"

    status = subprocess.run([_storectl(), "status"], env=existing, capture_output=True, text=True, check=False)
    assert f"running (yours) on {local_stack.instance.endpoint_url}" in status.stdout, status.stdout

    down = subprocess.run([_storectl(), "down"], env=existing, capture_output=True, text=True, check=False)
    assert down.returncode == 0, down.stderr
    # What storectl started for it (docs, monitoring, Zipkin); not the emulator, not Cassandra.
    assert down.stdout.strip() == "stopped: docs, prometheus, alertmanager, bridge, trace server"
    # The emulator still serves the test stack.
    assert httpx.get(f"{local_stack.api_url}/api/health", timeout=30).status_code == 200
