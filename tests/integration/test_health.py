"""Each HTTP function answers its health route through API Gateway, with Cassandra."""

from __future__ import annotations

import httpx
import pytest

from storectl import deploy
from support import LocalStack

ROUTES = [
    ("/api/health", "catalog"),
    ("/cart-api/health", "cart"),
    ("/order-api/health", "orders"),
    ("/user-api/health", "users"),
]


@pytest.mark.parametrize(("path", "service"), ROUTES)
def test_health_route_reports_cassandra_up(api: httpx.Client, path: str, service: str) -> None:
    response = api.get(path)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "service": service, "cassandra": "up"}


def test_unknown_route_gets_the_json_error_shape(api: httpx.Client) -> None:
    response = api.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_url_comes_from_stack_outputs(local_stack: LocalStack) -> None:
    assert local_stack.api_url == deploy.api_url(local_stack.instance, local_stack.outputs)
    assert local_stack.outputs["ApiId"] in local_stack.api_url
