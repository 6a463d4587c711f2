"""Crash safety through the deployed stack: limits that keep a checkout inside
Cassandra's and Lambda's limits, a leaked reservation given back by the
sweeper, cart lines that keep every concurrent increment, live orders that
cannot be deleted, and cursors that cannot be tampered with."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from store.cart import MAX_CART_LINES
from store.catalog import ProductRepository
from store.config import Settings
from store.db import Database
from store.reservations import CheckoutIntents, new_intent
from support import LocalStack, add_to_cart, bearer, checkout, create_product, new_user, stock_of


@pytest.fixture
def database(local_stack: LocalStack) -> Iterator[Database]:
    """The test stack's Cassandra through the store's own repositories, to make
    the state a crashed function leaves behind."""
    db = Database(Settings(cassandra_port=local_stack.instance.cassandra_port))
    yield db
    db.close()


def _sweep(local_stack: LocalStack) -> dict[str, Any]:
    response = local_stack.client("lambda").invoke(
        FunctionName=local_stack.outputs["OutboxRelayFunctionName"], Payload=b"{}"
    )
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


def test_the_largest_cart_checks_out_and_one_more_line_is_refused(api: httpx.Client, admin_token: str) -> None:
    _, token = new_user(api)
    category = f"t-{uuid.uuid4().hex[:8]}"
    names = [f"{index:03d} " + "x" * 196 for index in range(MAX_CART_LINES + 1)]  # 200 characters each
    products = [create_product(api, admin_token, name=name, category=category, quantity=5) for name in names]
    for product in products[:MAX_CART_LINES]:
        assert add_to_cart(api, token, product["id"], 2).status_code == 201
    refused = add_to_cart(api, token, products[-1]["id"])
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["details"]["limit"] == "MAX_CART_LINES"
    started = time.perf_counter()
    response = checkout(api, token)
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.text
    assert len(response.json()["items"]) == MAX_CART_LINES
    assert all(stock_of(api, admin_token, product["id"]) == 3 for product in products[:3])
    print(f"\ncheckout of {MAX_CART_LINES} lines with 200-character names: {elapsed * 1000:.0f} ms")


def test_a_reservation_left_by_a_crashed_checkout_comes_back(
    local_stack: LocalStack, api: httpx.Client, admin_token: str, database: Database
) -> None:
    """What a checkout that died after taking the stock leaves: its intent and its
    stock movement. Once the intent expires the sweeper gives the stock back, once."""
    product = create_product(api, admin_token, quantity=7)
    product_id, order_id = uuid.UUID(product["id"]), uuid.uuid4()
    intent = new_intent(order_id, uuid.uuid4(), {product_id: 3}, datetime.now(UTC), timedelta(seconds=0))
    CheckoutIntents(database).open(intent)
    assert ProductRepository(database).reserve(product_id, 3, order_id=order_id)
    assert stock_of(api, admin_token, product["id"]) == 4
    assert _sweep(local_stack)["reservations"]["released"] >= 1
    assert stock_of(api, admin_token, product["id"]) == 7
    # Settled once: another sweep, or a late release of the same order, gives nothing more.
    _sweep(local_stack)
    assert ProductRepository(database).release(product_id, 3, order_id=order_id)  # done before: a no-op
    assert stock_of(api, admin_token, product["id"]) == 7
    # And a release for an order that never reserved gives nothing.
    assert not ProductRepository(database).release(product_id, 3, order_id=uuid.uuid4())
    assert stock_of(api, admin_token, product["id"]) == 7


def test_concurrent_adds_to_one_cart_line_keep_every_unit(
    local_stack: LocalStack, api: httpx.Client, admin_token: str
) -> None:
    _, token = new_user(api)
    product = create_product(api, admin_token, quantity=100)
    # Patient: the emulator starts a worker for each concurrent request.
    with local_stack.http() as patient, ThreadPoolExecutor(max_workers=6) as pool:
        patient.timeout = httpx.Timeout(180)
        answers = list(pool.map(lambda _: add_to_cart(patient, token, product["id"], 1).status_code, range(6)))
    assert answers == [201] * 6
    [line] = api.get("/cart-api/cart", headers=bearer(token)).json()["items"]
    assert line["quantity"] == 6


def test_a_retried_checkout_after_success_orders_once(api: httpx.Client, admin_token: str) -> None:
    """A double-submit without an Idempotency-Key: the order's batch took the lines
    from the cart, so the second finds it empty."""
    _, token = new_user(api)
    product = create_product(api, admin_token, quantity=5)
    add_to_cart(api, token, product["id"], 2)
    assert checkout(api, token).status_code == 201
    again = checkout(api, token)
    assert again.status_code == 400, again.text
    assert len(api.get("/order-api/orders", headers=bearer(token)).json()["items"]) == 1
    assert stock_of(api, admin_token, product["id"]) == 3


def _cursor(fields: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "created_at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "not a time", "2026-13-45T00:00:00"]
)
def test_an_orders_cursor_at_an_impossible_time_is_400(api: httpx.Client, admin_token: str, created_at: str) -> None:
    cursor = _cursor({"c": created_at, "i": str(uuid.uuid4())})
    response = api.get("/order-api/orders", params={"cursor": cursor}, headers=bearer(admin_token))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"] == {"parameter": "cursor"}
