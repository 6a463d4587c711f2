"""With Cassandra stopped the functions answer 503, and recover once it is back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from storectl import cassandra
from support import HEALTH_PATHS, LocalStack, wait_until_every_function_serves


@pytest.fixture
def cassandra_stopped(local_stack: LocalStack, api: httpx.Client) -> Iterator[None]:
    # Several warm workers per function, each with a live connection to lose.
    wait_until_every_function_serves(api, timeout=60)
    cassandra.stop(local_stack.instance)
    try:
        yield
    finally:
        cassandra.start(local_stack.instance)
        cassandra.wait_ready(local_stack.instance)


@pytest.mark.usefixtures("cassandra_stopped")
def test_health_is_503_while_cassandra_is_down_and_200_after(local_stack: LocalStack, api: httpx.Client) -> None:
    for path in HEALTH_PATHS:
        response = api.get(path)
        assert response.status_code == 503, (path, response.text)
        assert response.json()["cassandra"] == "down"

    cassandra.start(local_stack.instance)
    cassandra.wait_ready(local_stack.instance)
    # Every warm worker, not just one: a worker whose driver still has the node
    # marked down connects afresh (store.db) instead of answering 503.
    wait_until_every_function_serves(api, timeout=60)
