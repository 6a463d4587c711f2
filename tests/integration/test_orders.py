"""Orders API through API Gateway: visibility, paging, cancel, admin status changes."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from support import (
    LocalStack,
    add_to_cart,
    bearer,
    checkout,
    cql,
    create_product,
    eventually,
    hold_lifecycle,
    new_user,
    set_status,
    stock_of,
)


def place_order(api: httpx.Client, admin_token: str, token: str, quantity: int = 1, **product: Any) -> dict[str, Any]:
    item = create_product(api, admin_token, **product)
    assert add_to_cart(api, token, item["id"], quantity).status_code == 201
    response = checkout(api, token)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


@pytest.fixture
def user_token(api: httpx.Client) -> str:
    return new_user(api)[1]


def test_own_orders_newest_first_in_pages(api: httpx.Client, admin_token: str, user_token: str) -> None:
    placed = [place_order(api, admin_token, user_token)["id"] for _ in range(3)]
    first = api.get("/order-api/orders", params={"limit": 2}, headers=bearer(user_token)).json()
    assert [order["id"] for order in first["items"]] == placed[::-1][:2]
    second = api.get(
        "/order-api/orders", params={"limit": 2, "cursor": first["next_cursor"]}, headers=bearer(user_token)
    ).json()
    assert [order["id"] for order in second["items"]] == [placed[0]]
    assert second["next_cursor"] is None


def test_another_users_order_is_404(api: httpx.Client, admin_token: str, user_token: str) -> None:
    order = place_order(api, admin_token, user_token)
    other = new_user(api)[1]
    assert api.get(f"/order-api/orders/{order['id']}", headers=bearer(other)).status_code == 404
    assert api.put(f"/order-api/orders/{order['id']}/cancel", headers=bearer(other)).status_code == 404
    assert api.get("/order-api/orders", headers=bearer(other)).json()["items"] == []
    # A user cannot list someone else's orders by passing their id.
    owner_id = order["user_id"]
    assert api.get("/order-api/orders", params={"user_id": owner_id}, headers=bearer(other)).json()["items"] == []


def test_owner_cancels_and_the_stock_comes_back(
    local_stack: LocalStack, api: httpx.Client, admin_token: str, user_token: str
) -> None:
    product = create_product(api, admin_token, quantity=5)
    add_to_cart(api, user_token, product["id"], 3)
    order = checkout(api, user_token).json()
    hold_lifecycle(local_stack, api, admin_token, order["id"])
    assert stock_of(api, admin_token, product["id"]) == 2

    cancelled = api.put(
        f"/order-api/orders/{order['id']}/cancel", json={"reason": "changed my mind"}, headers=bearer(user_token)
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "CANCELLED"
    assert [(c["status"], c["changed_by"]) for c in body["status_history"]] == [
        ("CREATED", "user"),
        ("CANCELLED", "user"),
    ]
    assert body["status_history"][-1]["reason"] == "changed my mind"
    assert stock_of(api, admin_token, product["id"]) == 5
    again = api.put(f"/order-api/orders/{order['id']}/cancel", headers=bearer(user_token))
    assert again.status_code == 409
    assert stock_of(api, admin_token, product["id"]) == 5


def test_admin_moves_an_order_along_legal_transitions_only(
    local_stack: LocalStack, api: httpx.Client, admin_token: str, user_token: str
) -> None:
    product = create_product(api, admin_token, quantity=4)
    add_to_cart(api, user_token, product["id"], 2)
    order = checkout(api, user_token).json()
    hold_lifecycle(local_stack, api, admin_token, order["id"])
    url = f"/order-api/orders/{order['id']}"

    illegal = set_status(api, admin_token, order["id"], "DELIVERED")
    assert illegal.status_code == 409
    assert illegal.json()["error"]["details"]["allowed"] == ["CANCELLED", "PROCESSING"]
    assert set_status(api, admin_token, order["id"], "PROCESSING").json()["status"] == "PROCESSING"
    assert set_status(api, admin_token, order["id"], "SHIPPING").json()["status"] == "SHIPPING"

    # The owner may no longer cancel; an admin still may, and the stock comes back.
    assert api.put(f"{url}/cancel", headers=bearer(user_token)).status_code == 409
    assert api.put(f"{url}/cancel", headers=bearer(admin_token)).json()["status"] == "CANCELLED"
    assert stock_of(api, admin_token, product["id"]) == 4
    assert set_status(api, admin_token, order["id"], "DELIVERED").status_code == 409
    history = api.get(url, headers=bearer(user_token)).json()["status_history"]
    assert [c["status"] for c in history] == ["CREATED", "PROCESSING", "SHIPPING", "CANCELLED"]


def test_concurrent_cancels_release_the_stock_once(
    local_stack: LocalStack, api: httpx.Client, admin_token: str, user_token: str
) -> None:
    product = create_product(api, admin_token, quantity=3)
    add_to_cart(api, user_token, product["id"], 3)
    order = checkout(api, user_token).json()
    hold_lifecycle(local_stack, api, admin_token, order["id"])
    tokens = [user_token, admin_token] * 3
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        responses = list(
            pool.map(lambda token: api.put(f"/order-api/orders/{order['id']}/cancel", headers=bearer(token)), tokens)
        )
    codes = sorted(response.status_code for response in responses)
    assert codes == [200] + [409] * (len(tokens) - 1), [response.text for response in responses]
    final = api.get(f"/order-api/orders/{order['id']}", headers=bearer(admin_token)).json()
    assert [change["status"] for change in final["status_history"]] == ["CREATED", "CANCELLED"]
    assert stock_of(api, admin_token, product["id"]) == 3


def test_status_changes_are_for_admins(api: httpx.Client, admin_token: str, user_token: str) -> None:
    order = place_order(api, admin_token, user_token)
    assert set_status(api, user_token, order["id"], "PROCESSING").status_code == 403
    assert api.delete(f"/order-api/orders/{order['id']}", headers=bearer(user_token)).status_code == 403


def test_admin_lists_filters_and_deletes(api: httpx.Client, admin_token: str) -> None:
    user, token = new_user(api)
    kept = place_order(api, admin_token, token)
    moved = place_order(api, admin_token, token)
    set_status(api, admin_token, moved["id"], "PROCESSING")

    everyone = api.get("/order-api/orders", params={"limit": 100}, headers=bearer(admin_token)).json()
    assert {kept["id"], moved["id"]} <= {order["id"] for order in everyone["items"]}
    theirs = api.get("/order-api/orders", params={"user_id": user["id"]}, headers=bearer(admin_token)).json()
    assert [order["id"] for order in theirs["items"]] == [moved["id"], kept["id"]]
    processing = api.get(
        "/order-api/orders", params={"user_id": user["id"], "status": "PROCESSING"}, headers=bearer(admin_token)
    ).json()
    assert [order["id"] for order in processing["items"]] == [moved["id"]]
    all_created = api.get(
        "/order-api/orders", params={"status": "CREATED", "limit": 100}, headers=bearer(admin_token)
    ).json()
    assert all(order["status"] == "CREATED" for order in all_created["items"])

    live = api.delete(f"/order-api/orders/{kept['id']}", headers=bearer(admin_token))
    assert live.status_code == 409, live.text  # a live order is cancelled first
    assert "cancel it" in live.json()["error"]["message"]
    assert api.put(f"/order-api/orders/{kept['id']}/cancel", headers=bearer(admin_token)).status_code == 200
    assert api.delete(f"/order-api/orders/{kept['id']}", headers=bearer(admin_token)).status_code == 204
    assert api.get(f"/order-api/orders/{kept['id']}", headers=bearer(admin_token)).status_code == 404
    assert api.delete(f"/order-api/orders/{kept['id']}", headers=bearer(admin_token)).status_code == 404
    remaining = api.get("/order-api/orders", headers=bearer(token)).json()["items"]
    assert [order["id"] for order in remaining] == [moved["id"]]


def test_statuses_list(api: httpx.Client, user_token: str) -> None:
    codes = ["CREATED", "PROCESSING", "SHIPPING", "DELIVERED", "CANCELLED"]
    response = api.get("/order-api/orders/statuses/list", headers=bearer(user_token))
    assert response.json() == {
        "statuses": codes,
        "language": "en",
        "names": dict(zip(codes, ["Created", "Processing", "Shipping", "Delivered", "Cancelled"], strict=True)),
    }
    assert response.headers["Content-Language"] == "en"
    russian = api.get(
        "/order-api/orders/statuses/list",
        headers=bearer(user_token) | {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"},
    )
    assert russian.json()["language"] == "ru"
    assert russian.headers["Content-Language"] == "ru"
    assert list(russian.json()["names"].values()) == [
        "Создан",
        "Обрабатывается",
        "Доставляется",
        "Доставлен",
        "Отменен",
    ]
    for header in ("de-DE,de;q=0.9", "ru;q=0, en;q=0.1", "*"):
        other = api.get("/order-api/orders/statuses/list", headers=bearer(user_token) | {"Accept-Language": header})
        assert other.json()["language"] == "en", header


def test_bad_order_input(api: httpx.Client, admin_token: str, user_token: str) -> None:
    assert api.get("/order-api/orders/not-a-uuid", headers=bearer(user_token)).status_code == 422
    assert api.get(f"/order-api/orders/{uuid.uuid4()}", headers=bearer(user_token)).status_code == 404
    assert api.get("/order-api/orders", params={"cursor": "junk"}, headers=bearer(user_token)).status_code == 400
    assert api.get("/order-api/orders", params={"status": "LOST"}, headers=bearer(user_token)).status_code == 422
    assert api.get("/order-api/orders", params={"limit": 0}, headers=bearer(user_token)).status_code == 422
    assert set_status(api, admin_token, str(uuid.uuid4()), "PROCESSING").status_code == 404
    assert set_status(api, admin_token, str(uuid.uuid4()), "LOST").status_code == 422
    assert api.get("/order-api/orders").status_code == 401


def test_order_events_reach_the_owners_inbox(
    api: httpx.Client, admin_token: str, user_token: str, local_stack: LocalStack
) -> None:
    """OrderCreated and OrderStatusChanged go through the outbox, SNS and the
    notifications consumer to the owner's inbox."""
    order = place_order(api, admin_token, user_token)
    assert api.put(f"/order-api/orders/{order['id']}/cancel", headers=bearer(user_token)).status_code == 200

    def messages() -> list[str] | None:
        rows = cql(
            local_stack,
            "SELECT message FROM notifications_by_user WHERE user_id = ?",
            (uuid.UUID(order["user_id"]),),
        )
        found = sorted(row.message for row in rows)
        return found if len(found) >= 2 else None

    assert eventually(messages, timeout=90, what="both notifications") == [
        f"Your order {order['id']} changed status to: CANCELLED",
        f"Your order {order['id']} has been created.",
    ]
