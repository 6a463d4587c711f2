"""`storectl`'s warm-up: every health request in flight at once, so each one needs
a worker of its own (a local HTTP server stands in for API Gateway)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storectl import deploy
from storectl.errors import StoreCtlError
from storectl.instance import Instance


class Gateway(ThreadingHTTPServer):
    """Holds every request until `expected` are in flight (or 10 s pass), then answers."""

    def __init__(self, expected: int, failing: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.barrier = threading.Barrier(expected, timeout=10)
        self.paths: list[str] = []
        self.all_at_once = True
        self.failing = failing


class Handler(BaseHTTPRequestHandler):
    server: Gateway

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        try:
            self.server.barrier.wait()
        except threading.BrokenBarrierError:
            self.server.all_at_once = False
        status = 503 if self.path.endswith(self.server.failing or "\0") else 200
        self.send_response(status)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def serve(gateway: Gateway) -> Iterator[Instance]:
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        yield Instance("dev", Path("."), int(gateway.server_address[1]), 2, 3, "s")
    finally:
        gateway.shutdown()
        gateway.server_close()


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, Instance]]:
    server = Gateway(expected=3 + 2 + 1 + 1)
    for instance in serve(server):
        yield server, instance


OUTPUTS = {"ApiId": "api1", "ApiStageName": "v1"}
BASE = "/_aws/execute-api/api1/v1"


def test_warm_sends_every_request_at_once(gateway: tuple[Gateway, Instance]) -> None:
    server, instance = gateway
    deploy.warm(instance, OUTPUTS, {"catalog": 3, "cart": 2, "orders": 1, "users": 1})
    assert server.all_at_once
    assert sorted(server.paths) == sorted(
        [f"{BASE}/api/health"] * 3
        + [f"{BASE}/cart-api/health"] * 2
        + [f"{BASE}/order-api/health", f"{BASE}/user-api/health"]
    )


def test_warm_reports_a_function_that_does_not_answer() -> None:
    server = Gateway(expected=len(deploy.HEALTH_ROUTES), failing="/order-api/health")
    for instance in serve(server):
        with pytest.raises(StoreCtlError, match="orders: 503"):
            deploy.warm(instance, OUTPUTS, dict.fromkeys(deploy.HEALTH_ROUTES, 1))


def test_no_workers_means_no_requests() -> None:
    nowhere = Instance("dev", Path("."), 9, 2, 3, "s")
    assert deploy.warm(nowhere, OUTPUTS, dict.fromkeys(deploy.WARMABLE, 0)) == 0.0


def test_plan_from_the_environment() -> None:
    dev, test = Instance("dev", Path("."), 1, 2, 3, "s"), Instance("test", Path("."), 1, 2, 3, "s")
    assert deploy.warm_plan(dev, "") == deploy.DEV_WARM_WORKERS
    assert deploy.warm_plan(test, "") == deploy.TEST_WARM_WORKERS
    assert deploy.warm_plan(dev, "5") == dict.fromkeys(deploy.WARMABLE, 5)
    assert deploy.warm_plan(dev, "catalog=6, cart=4") == {
        **dict.fromkeys(deploy.WARMABLE, 0),
        "catalog": 6,
        "cart": 4,
    }
    with pytest.raises(StoreCtlError, match="STORE_WARM_WORKERS"):
        deploy.warm_plan(dev, "basket=3")
    with pytest.raises(StoreCtlError, match="STORE_WARM_WORKERS"):
        deploy.warm_plan(dev, "many")
