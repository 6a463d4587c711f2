"""What every benchmark here shares: a throwaway stack, timing and percentiles."""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from storectl import stack
from storectl.instance import Instance, test_instance


@contextmanager
def throwaway_stack(parameters: dict[str, str] | None = None) -> Iterator[tuple[Instance, stack.UpResult]]:
    """A whole stack on the test instance's ports (STORE_TEST_* apply), removed afterwards."""
    state_dir = Path(tempfile.mkdtemp(prefix="product-store-bench-"))
    instance = test_instance(state_dir)
    try:
        yield instance, stack.up(instance, parameters=parameters, report=lambda line: print(f"- {line}"))
    finally:
        stack.down(instance)
        shutil.rmtree(state_dir, ignore_errors=True)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed_ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def report(name: str, samples: list[float]) -> None:
    print(f"{name:40} {statistics.median(samples):8.2f} {percentile(samples, 0.99):8.2f}   (n={len(samples)})")


@contextmanager
def quiet_function_output() -> Iterator[None]:
    """Send a function's log lines and EMF records to /dev/null while it runs in
    this process: they are still formatted (part of the cost), just not shown."""
    from store.observability import logger  # noqa: PLC0415 - only benchmarks need it

    handler = logger.registered_handler
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        previous = handler.setStream(sink)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            handler.setStream(previous)  # type: ignore[attr-defined]


def rest_api_event(path: str, *, query: dict[str, str] | None = None, token: str | None = None) -> dict[str, Any]:
    """An API Gateway REST proxy event for GET `path` (as the `/{proxy+}` routes get it)."""
    prefix, _, proxy = path.lstrip("/").partition("/")
    headers = {"Host": "127.0.0.1"} | ({"Authorization": f"Bearer {token}"} if token else {})
    return {
        "resource": f"/{prefix}/{{proxy+}}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {key: [value] for key, value in query.items()} if query else None,
        "pathParameters": {"proxy": proxy},
        "requestContext": {
            "resourcePath": f"/{prefix}/{{proxy+}}",
            "httpMethod": "GET",
            "stage": "v1",
            "requestId": "bench",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


class LambdaContext:
    """The parts of a Lambda context that Powertools reads."""

    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"


# A throwaway account on a throwaway stack.
BENCH_PASSWORD = "a-benchmark-password"  # noqa: S105


def expect(response: httpx.Response, status: int) -> httpx.Response:
    """The response, or stop the benchmark with what the API said."""
    if response.status_code != status:
        raise SystemExit(f"{response.request.url} answered {response.status_code}: {response.text}")
    return response


def login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a fresh token for `username`."""
    body = expect(client.post("/user-api/login", json={"username": username, "password": password}), 200).json()
    return {"Authorization": f"Bearer {body['access_token']}"}


def bench_product(
    client: httpx.Client, admin: dict[str, str], *, name: str = "Bench", category: str = "bench", price: str = "3.50"
) -> str:
    """The id of a new product with stock no benchmark runs out of."""
    body = {"name": name, "category": category, "price": price, "quantity": 1_000_000}
    return str(expect(client.post("/api/products", json=body, headers=admin), 201).json()["id"])
