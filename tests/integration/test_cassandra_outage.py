"""With Cassandra stopped the functions answer 503, and recover once it is back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from storectl import cassandra
from support import LocalStack, eventually

PATHS = ["/api/health", "/cart-api/health", "/order-api/health", "/user-api/health"]


@pytest.fixture
def cassandra_stopped(local_stack: LocalStack, api: httpx.Client) -> Iterator[None]:
    for path in PATHS:  # every function warm, with a live connection to lose
        assert api.get(path).status_code == 200
    cassandra.stop(local_stack.instance)
    try:
        yield
    finally:
        cassandra.start(local_stack.instance)
        cassandra.wait_ready(local_stack.instance)


@pytest.mark.usefixtures("cassandra_stopped")
def test_health_is_503_while_cassandra_is_down_and_200_after(local_stack: LocalStack, api: httpx.Client) -> None:
    for path in PATHS:
        response = api.get(path)
        assert response.status_code == 503, (path, response.text)
        assert response.json()["cassandra"] == "down"

    cassandra.start(local_stack.instance)
    cassandra.wait_ready(local_stack.instance)
    for path in PATHS:

        def recovered(path: str = path) -> bool:
            return api.get(path).status_code == 200

        eventually(recovered, timeout=60, what=f"{path} to recover")
