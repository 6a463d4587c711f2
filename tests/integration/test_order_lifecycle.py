"""The order lifecycle through the deployed stack: checkout -> OrderCreated ->
the starter queue -> one Step Functions execution per order -> statuses.

The test stack runs at ORDER_TIME_SCALE 0.02 (every wait 1-6 s). The
simulated payment provider decides by the order total's cents: .13 declines,
.42 fails transiently twice and then approves, anything else approves.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from store.aws import execution_arn
from store.events import DomainEvent
from support import LocalStack, add_to_cart, bearer, checkout, cql, create_product, eventually, new_user, stock_of


@pytest.fixture
def user_token(api: httpx.Client) -> str:
    return new_user(api)[1]


def place_order(api: httpx.Client, admin_token: str, token: str, price: str) -> tuple[dict[str, Any], str]:
    product = create_product(api, admin_token, price=price, quantity=10)
    assert add_to_cart(api, token, product["id"], 1).status_code == 201
    response = checkout(api, token)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order, product["id"]


def order_of(api: httpx.Client, token: str, order_id: str) -> dict[str, Any] | None:
    response = api.get(f"/order-api/orders/{order_id}", headers=bearer(token))
    return response.json() if response.status_code == 200 else None


def wait_status(api: httpx.Client, token: str, order_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        order = order_of(api, token, order_id)
        return order if order is not None and order["status"] == status else None

    return eventually(reached, timeout=timeout, interval=0.1, what=f"order {order_id} in {status}")


def execution(local_stack: LocalStack, order_id: str) -> dict[str, Any]:
    arn = execution_arn(local_stack.outputs["OrderLifecycleStateMachineArn"], order_id)
    description: dict[str, Any] = local_stack.client("stepfunctions").describe_execution(executionArn=arn)
    return description


def finished_execution(local_stack: LocalStack, order_id: str, timeout: float = 60) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        try:
            description = execution(local_stack, order_id)
        except Exception:
            return None
        return description if description["status"] != "RUNNING" else None

    return eventually(finished, timeout=timeout, what=f"the execution of {order_id} to finish")


def history(order: dict[str, Any]) -> list[tuple[str, str]]:
    return [(change["status"], change["changed_by"]) for change in order["status_history"]]


def test_happy_path_to_delivered_then_purged_with_lifetime_stats_kept(
    api: httpx.Client, admin_token: str, user_token: str, local_stack: LocalStack
) -> None:
    order, _ = place_order(api, admin_token, user_token, "3.00")
    delivered = wait_status(api, user_token, order["id"], "DELIVERED")
    assert history(delivered) == [
        ("CREATED", "user"),
        ("PROCESSING", "system"),
        ("SHIPPING", "system"),
        ("DELIVERED", "system"),
    ]
    assert finished_execution(local_stack, order["id"])["status"] == "SUCCEEDED"
    # Purged from the active views after the retention wait...
    assert order_of(api, user_token, order["id"]) is None
    listed = api.get("/order-api/orders", headers=bearer(user_token)).json()["items"]
    assert order["id"] not in [item["id"] for item in listed]
    # ...while the lifetime stats keep it.
    rows = cql(
        local_stack,
        "SELECT order_id, total FROM user_lifetime_orders WHERE user_id = ?",
        (uuid.UUID(order["user_id"]),),
    )
    assert [(str(row.order_id), str(row.total)) for row in rows] == [(order["id"], "3.00")]
    payment = cql(local_stack, "SELECT status FROM payments WHERE order_id = ?", (uuid.UUID(order["id"]),))
    assert payment[0].status == "AUTHORIZED"


def test_declined_payment_cancels_the_order_with_the_reason_and_restores_stock(
    api: httpx.Client, admin_token: str, user_token: str, local_stack: LocalStack
) -> None:
    order, product_id = place_order(api, admin_token, user_token, "10.13")
    cancelled = wait_status(api, user_token, order["id"], "CANCELLED")
    assert history(cancelled) == [("CREATED", "user"), ("CANCELLED", "system")]
    assert cancelled["status_history"][-1]["reason"] == "card declined by the issuer"
    assert stock_of(api, admin_token, product_id) == 10
    assert finished_execution(local_stack, order["id"])["status"] == "SUCCEEDED"


def test_transient_payment_failure_is_retried_then_succeeds(
    api: httpx.Client, admin_token: str, user_token: str, local_stack: LocalStack
) -> None:
    order, _ = place_order(api, admin_token, user_token, "10.42")
    wait_status(api, user_token, order["id"], "SHIPPING")
    payment = cql(local_stack, "SELECT status, attempts FROM payments WHERE order_id = ?", (uuid.UUID(order["id"]),))
    assert (payment[0].status, payment[0].attempts) == ("AUTHORIZED", 3)
    sfn = local_stack.client("stepfunctions")
    events = sfn.get_execution_history(executionArn=execution(local_stack, order["id"])["executionArn"])["events"]
    failures = [event for event in events if event["type"] in ("TaskFailed", "LambdaFunctionFailed")]
    assert len(failures) == 2


def test_user_cancel_in_processing_stops_the_execution_and_restores_stock(
    api: httpx.Client, admin_token: str, user_token: str, local_stack: LocalStack
) -> None:
    order, product_id = place_order(api, admin_token, user_token, "4.00")
    wait_status(api, user_token, order["id"], "PROCESSING")
    response = api.put(f"/order-api/orders/{order['id']}/cancel", headers=bearer(user_token))
    assert response.status_code == 200, response.text
    assert finished_execution(local_stack, order["id"], timeout=10)["status"] == "ABORTED"
    assert stock_of(api, admin_token, product_id) == 10
    time.sleep(4)  # longer than the shipping wait: nothing moves any more
    final = order_of(api, user_token, order["id"])
    assert final is not None
    assert history(final) == [("CREATED", "user"), ("PROCESSING", "system"), ("CANCELLED", "user")]
    payment = cql(local_stack, "SELECT status FROM payments WHERE order_id = ?", (uuid.UUID(order["id"]),))
    assert payment[0].status == "REFUNDED"
    events = cql(
        local_stack, "SELECT event_type, body FROM outbox WHERE order_id = ? ALLOW FILTERING", (uuid.UUID(order["id"]),)
    )
    statuses = sorted(DomainEvent.model_validate_json(row.body).payload.get("status", "") for row in events)
    assert statuses == ["", "CANCELLED", "PROCESSING"]  # OrderCreated, then the two changes only


def test_admin_cancel_in_shipping_stops_the_execution(
    api: httpx.Client, admin_token: str, user_token: str, local_stack: LocalStack
) -> None:
    order, product_id = place_order(api, admin_token, user_token, "5.00")
    wait_status(api, user_token, order["id"], "SHIPPING")
    response = api.put(f"/order-api/orders/{order['id']}/cancel", json={"reason": "lost"}, headers=bearer(admin_token))
    assert response.status_code == 200, response.text
    assert finished_execution(local_stack, order["id"], timeout=10)["status"] == "ABORTED"
    assert stock_of(api, admin_token, product_id) == 10
    final = order_of(api, user_token, order["id"])
    assert final is not None
    assert history(final)[-1] == ("CANCELLED", "admin")


def test_a_replayed_order_created_starts_nothing_twice(
    api: httpx.Client, admin_token: str, user_token: str, local_stack: LocalStack
) -> None:
    order, _ = place_order(api, admin_token, user_token, "6.00")
    wait_status(api, user_token, order["id"], "PROCESSING")
    first = execution(local_stack, order["id"])
    rows = cql(
        local_stack, "SELECT event_type, body FROM outbox WHERE order_id = ? ALLOW FILTERING", (uuid.UUID(order["id"]),)
    )
    created = next(DomainEvent.model_validate_json(row.body) for row in rows if row.event_type == "OrderCreated")
    local_stack.client("sns").publish(
        TopicArn=local_stack.outputs["OrderEventsTopicArn"],
        Message=created.model_dump_json(),
        MessageAttributes=created.sns_attributes(),
    )
    wait_status(api, user_token, order["id"], "DELIVERED")
    again = execution(local_stack, order["id"])
    assert again["startDate"] == first["startDate"]
    sfn = local_stack.client("stepfunctions")
    names = [
        item["name"]
        for item in sfn.list_executions(stateMachineArn=local_stack.outputs["OrderLifecycleStateMachineArn"])[
            "executions"
        ]
    ]
    assert names.count(order["id"]) == 1
