"""GET /user-api/me/profile: user, cart, orders and statistics in one answer.

A source that fails is tested in tests/unit/test_profile.py with failing fakes:
all three sources live in the one Cassandra that authentication needs too, so
no real outage takes one of them away alone."""

from __future__ import annotations

import httpx

from support import add_to_cart, bearer, checkout, create_product, new_user


def _shopper(api: httpx.Client, admin_token: str) -> tuple[dict[str, object], str, dict[str, object]]:
    user, token = new_user(api)
    ordered = create_product(api, admin_token, price="4.00")
    assert add_to_cart(api, token, ordered["id"], 2).status_code == 201
    order = checkout(api, token)
    assert order.status_code == 201, order.text
    kept = create_product(api, admin_token, price="1.25")
    assert add_to_cart(api, token, kept["id"], 3).status_code == 201
    return user, token, order.json()


def test_profile_aggregates_user_cart_orders_and_statistics(api: httpx.Client, admin_token: str) -> None:
    user, token, order = _shopper(api, admin_token)
    response = api.get("/user-api/me/profile", headers=bearer(token))
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["unavailable"] == []
    assert profile["user"]["username"] == user["username"]
    assert [item["quantity"] for item in profile["cart"]["items"]] == [3]
    assert [item["id"] for item in profile["orders"]] == [order["id"]]
    assert profile["statistics"] == {
        "total_orders": 1,
        "cart_items_count": 3,
        "cart_total_value": "3.75",
        "total_spent": "8.00",
        "last_order_date": profile["orders"][0]["created_at"],
    }
    assert api.get("/user-api/me/profile").status_code == 401
