"""A short Locust run of loadtest/locustfile.py against the test stack: a few users
for a few seconds, every scenario reached, zero failures. No timing assertion.

Locust runs as a subprocess from .venv-load: it imports gevent, which
monkey-patches the interpreter and must never be imported inside pytest.
"""

from __future__ import annotations

import csv
import json
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from store.warmup import WARMUP_EVENT
from storectl.instance import PROJECT_ROOT
from support import LocalStack

pytestmark = pytest.mark.integration

LOCUST = PROJECT_ROOT / ".venv-load" / "bin" / "locust"


def test_locust_smoke_runs_every_scenario_without_failures(
    local_stack: LocalStack, api: httpx.Client, admin_token: str, tmp_path: Path
) -> None:
    assert LOCUST.exists(), "run `make install`: it creates .venv-load with Locust"
    category = f"smoke{uuid.uuid4().hex[:8]}"
    products = [
        {"name": f"Smoke item {i}", "category": category, "price": "4.20", "quantity": 10_000} for i in range(30)
    ]
    created = api.post(
        "/api/products/bulk", json={"products": products}, headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert created.status_code == 201, created.text

    samples = tmp_path / "samples.csv"
    run = subprocess.run(
        [
            str(LOCUST),
            "-f",
            str(PROJECT_ROOT / "loadtest" / "locustfile.py"),
            "--host",
            local_stack.api_url,
            "--headless",
            "--users",
            "4",
            "--spawn-rate",
            "4",
            "--run-time",
            "20s",
            "--csv",
            str(tmp_path / "locust"),
            "--only-summary",
        ],
        env={"PATH": "/usr/bin:/bin", "LOAD_SAMPLES_CSV": str(samples)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    # Locust exits 1 when any request failed.
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    with (tmp_path / "locust_stats.csv").open() as file:
        rows = {row["Name"]: row for row in csv.DictReader(file)}
    assert int(rows["Aggregated"]["Failure Count"]) == 0
    assert int(rows["Aggregated"]["Request Count"]) > 20
    for name in ("register", "login", "browse: page 1", "add_to_cart", "manage_cart: read"):
        assert name in rows, f"{name} never ran: {sorted(rows)}"

    with samples.open() as file:
        recorded = list(csv.DictReader(file))
    assert {row["scenario"] for row in recorded} >= {"register", "login", "browse", "add_to_cart", "manage_cart"}
    assert all(row["ok"] == "1" for row in recorded)


@pytest.mark.parametrize(
    ("output", "answer"),
    [
        ("OrderWorkflowFunctionName", {"warmed": True}),
        ("OrderStarterFunctionName", {"batchItemFailures": []}),
        ("NotificationsFunctionName", {"batchItemFailures": []}),
    ],
)
def test_event_functions_answer_the_warmup_invocation(
    local_stack: LocalStack, output: str, answer: dict[str, object]
) -> None:
    # What `storectl up` sends them after a deploy (store.warmup): a no-op, not an error,
    # since the emulator replaces a worker whose invocation failed.
    result = local_stack.client("lambda").invoke(
        FunctionName=local_stack.outputs[output], Payload=json.dumps(WARMUP_EVENT).encode()
    )
    assert "FunctionError" not in result, result["Payload"].read()
    assert json.loads(result["Payload"].read()) == answer
