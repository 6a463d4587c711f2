"""GET /user-api/me/profile: user, cart, orders and statistics in one answer,
and what is left when one source is down."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from support import LocalStack, add_to_cart, bearer, checkout, create_product, eventually, new_user


def _set_faults(local_stack: LocalStack, faults: str) -> None:
    client = local_stack.client("lambda")
    name = local_stack.outputs["UsersFunctionName"]
    variables = client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    client.update_function_configuration(
        FunctionName=name, Environment={"Variables": variables | {"STORE_FAULTS": faults}}
    )


@pytest.fixture
def cart_source_down(local_stack: LocalStack) -> Iterator[None]:
    _set_faults(local_stack, "profile.cart")
    try:
        yield
    finally:
        _set_faults(local_stack, "")


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


@pytest.mark.usefixtures("cart_source_down")
def test_profile_with_the_cart_source_down_answers_the_rest(api: httpx.Client, admin_token: str) -> None:
    _, token, order = _shopper(api, admin_token)

    def degraded() -> dict[str, object] | None:
        profile: dict[str, object] = api.get("/user-api/me/profile", headers=bearer(token)).json()
        return profile if profile.get("unavailable") == ["cart"] else None

    profile = eventually(degraded, timeout=30, what="the new configuration to apply")
    assert profile["cart"] is None
    assert [item["id"] for item in profile["orders"]] == [order["id"]]  # type: ignore[attr-defined]
    statistics = profile["statistics"]
    assert statistics["cart_items_count"] is None  # type: ignore[index]
    assert statistics["cart_total_value"] is None  # type: ignore[index]
    assert statistics["total_orders"] == 1  # type: ignore[index]
