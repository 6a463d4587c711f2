"""Checkout while Cassandra is down: 503, no half-written order, no stock lost,
and the same checkout (same Idempotency-Key) succeeds once Cassandra is back."""

from __future__ import annotations

import uuid

import httpx

from storectl import cassandra
from support import (
    LocalStack,
    add_to_cart,
    bearer,
    checkout,
    create_product,
    new_user,
    stock_of,
    wait_until_every_function_serves,
)


def test_checkout_with_cassandra_down_is_503_and_changes_nothing(
    local_stack: LocalStack, api: httpx.Client, admin_token: str
) -> None:
    product = create_product(api, admin_token, quantity=5)
    _, token = new_user(api)
    assert add_to_cart(api, token, product["id"], 2).status_code == 201
    key = str(uuid.uuid4())
    # Warm, with a live connection to lose.
    assert api.get("/cart-api/cart", headers=bearer(token)).status_code == 200

    cassandra.stop(local_stack.instance)
    try:
        response = checkout(api, token, key=key)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "service_unavailable"
        assert response.headers["Retry-After"] == "5"
    finally:
        cassandra.start(local_stack.instance)
        cassandra.wait_ready(local_stack.instance)

    wait_until_every_function_serves(api)
    assert stock_of(api, admin_token, product["id"]) == 5
    assert api.get("/order-api/orders", headers=bearer(token)).json()["items"] == []
    cart = api.get("/cart-api/cart", headers=bearer(token)).json()
    assert [(item["product_id"], item["quantity"]) for item in cart["items"]] == [(product["id"], 2)]

    # The failed attempt left nothing behind that blocks the retry.
    retry = checkout(api, token, key=key)
    assert retry.status_code == 201, retry.text
    assert stock_of(api, admin_token, product["id"]) == 3
