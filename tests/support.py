"""Helpers for integration and end-to-end tests."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest

from store.aws import execution_arn
from storectl import stack
from storectl.emulator import aws_client
from storectl.instance import PROJECT_ROOT, Instance

T = TypeVar("T")

# Test artifacts (screenshots), kept per run and never committed (.gitignore).
SCREENSHOTS = PROJECT_ROOT / ".artifacts" / "screenshots"

# Template parameters of the test stack. The visibility timeout is small enough
# that a poison message reaches the DLQ within a minute; the order lifecycle
# runs at 1/50 of the seeds' timings (every wait at least 1 s: about 10-15 s
# from payment to purge).
# Throttles: waits of 3 s doubling to at most 6 s instead of 2 s to 60 (the lockout test waits it
# out); registrations per source are effectively unlimited, since the whole
# suite (Schemathesis too) registers from one address - the registration
# throttle's test fills its own address's allowance in Cassandra instead.
TEST_PARAMETERS = {
    "EventQueueVisibilityTimeout": "15",
    "OrderTimeScale": "0.02",
    "CheckoutIntentSeconds": "20",
    "ThrottleBaseDelaySeconds": "3",
    "ThrottleMaxDelaySeconds": "6",
    "RegistrationsPerSourcePerHour": "100000",
    # Functions see a rotated signing key within 2 s (default 300).
    "JwtKeyCacheSeconds": "2",
    "CorsAllowedOrigins": "https://shop.example.com",
}


class LocalStack:
    def __init__(self, instance: Instance, result: stack.UpResult) -> None:
        self.instance = instance
        self.outputs = result.outputs
        self.api_url = result.api_url
        self.timings = result.timings

    def client(self, service: str) -> Any:
        return aws_client(self.instance, service)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=30)


HEALTH_PATHS = ("/api/health", "/cart-api/health", "/order-api/health", "/user-api/health")


def wait_until_every_function_serves(api: httpx.Client, *, workers: int = 4, timeout: float = 90.0) -> None:
    """After Cassandra comes back: every function answers `workers` concurrent
    health checks (so several warm workers each, not just one), so the tests
    that follow find a healthy stack."""
    with ThreadPoolExecutor(workers) as pool:
        for path in HEALTH_PATHS:

            def serves(path: str = path) -> bool:
                return set(pool.map(lambda _: _status_or_timeout(api, path), range(workers))) == {200}

            eventually(serves, timeout=timeout, what=f"{path} to serve on {workers} workers")


def _status_or_timeout(api: httpx.Client, path: str) -> int | None:
    """A cold worker on a busy machine may outlast the client's timeout: not yet, not a failure."""
    try:
        return api.get(path).status_code
    except httpx.TimeoutException:
        return None


def eventually(probe: Callable[[], T | None], *, timeout: float = 60.0, interval: float = 0.5, what: str = "") -> T:
    """Poll `probe` until it returns something other than None (or falsy)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or probe.__name__}")
        time.sleep(interval)


def unique_username(prefix: str = "u") -> str:
    """A fresh, valid username, so tests never depend on each other's users."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def fake_ip() -> str:
    """A source IP of a test's own. The emulator's API Gateway takes `sourceIp` from
    X-Forwarded-For (real API Gateway uses the TCP peer), so each test that fails
    logins gets its own per-IP throttle bucket."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(api: httpx.Client, username: str | None = None, password: str = "a-good-password", **extra: Any) -> Any:
    response = api.post(
        "/user-api/register", json={"username": username or unique_username(), "password": password, **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


def login(api: httpx.Client, username: str, password: str, ip: str | None = None) -> httpx.Response:
    return api.post(
        "/user-api/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": ip or fake_ip()},
    )


def token_for(api: httpx.Client, username: str, password: str) -> str:
    response = login(api, username, password)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def new_user(api: httpx.Client, password: str = "a-good-password") -> tuple[dict[str, Any], str]:
    """A freshly registered user and a token of theirs."""
    user = register(api, password=password)
    return user, token_for(api, user["username"], password)


def create_product(api: httpx.Client, admin_token: str, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Green Tea", "category": f"t-{uuid.uuid4().hex[:8]}", "price": "2.50", "quantity": 10}
    response = api.post("/api/products", json=body | overrides, headers=bearer(admin_token))
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


def add_to_cart(api: httpx.Client, token: str, product_id: str, quantity: int = 1) -> httpx.Response:
    return api.post(
        "/cart-api/cart/items", json={"product_id": product_id, "quantity": quantity}, headers=bearer(token)
    )


def checkout(api: httpx.Client, token: str, key: str | None = None, body: Any = None) -> httpx.Response:
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    return api.post("/cart-api/cart/checkout", json=body, headers=headers)


def stock_of(api: httpx.Client, admin_token: str, product_id: str) -> int:
    quantity: int = api.get(f"/api/products/{product_id}", headers=bearer(admin_token)).json()["quantity"]
    return quantity


def cql(local_stack: LocalStack, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Read the test stack's Cassandra directly (what the API does not show: the outbox)."""
    from cassandra.cluster import Cluster  # noqa: PLC0415 - slow import, only some tests need it

    cluster = Cluster(["127.0.0.1"], port=local_stack.instance.cassandra_port, protocol_version=5)
    try:
        session = cluster.connect("store")
        return list(session.execute(session.prepare(statement), params))
    finally:
        cluster.shutdown()


def wait_for_message(local_stack: LocalStack, queue_url: str, body: str, *, timeout: float = 120) -> dict[str, Any]:
    """Poll a queue until a message whose body is exactly `body` arrives (e.g. a
    poison message reaching a DLQ after its receives)."""
    sqs = local_stack.client("sqs")

    def arrived() -> dict[str, Any] | None:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in messages.get("Messages", []):
            if message["Body"] == body:
                found: dict[str, Any] = message
                return found
        return None

    return eventually(arrived, timeout=timeout, interval=1, what=f"the message in {queue_url}")


def hold_lifecycle(local_stack: LocalStack, api: httpx.Client, admin_token: str, order_id: str) -> None:
    """Stop the order's lifecycle execution, so that only this test moves the order.
    (At the test stack's time scale the workflow moves it after about a second.)"""
    sfn = local_stack.client("stepfunctions")
    machine = local_stack.outputs["OrderLifecycleStateMachineArn"]
    execution = execution_arn(machine, order_id)

    def started() -> bool:
        try:
            sfn.describe_execution(executionArn=execution)
        except sfn.exceptions.ExecutionDoesNotExist:
            return False
        return True

    eventually(started, timeout=60, interval=0.1, what=f"the lifecycle of {order_id} to start")
    sfn.stop_execution(executionArn=execution, cause="held by a test of the orders API")
    status = api.get(f"/order-api/orders/{order_id}", headers=bearer(admin_token)).json()["status"]
    if status != "CREATED":
        pytest.fail(f"the lifecycle moved order {order_id} to {status} before the test could hold it")


def set_status(api: httpx.Client, admin_token: str, order_id: str, status: str) -> httpx.Response:
    return api.put(f"/order-api/orders/{order_id}/status", json={"status": status}, headers=bearer(admin_token))
