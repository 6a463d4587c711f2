"""Cart, recent views and checkout through API Gateway: the happy paths and bad input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from support import add_to_cart as add
from support import bearer, create_product, new_user


@pytest.fixture
def user_token(api: httpx.Client) -> str:
    return new_user(api)[1]


def test_adding_the_same_product_adds_to_its_line(api: httpx.Client, admin_token: str, user_token: str) -> None:
    tea = create_product(api, admin_token, price="2.50")
    cake = create_product(api, admin_token, name="Cake", price="10.00")
    assert add(api, user_token, tea["id"], 2).status_code == 201
    assert add(api, user_token, tea["id"], 1).status_code == 201
    cart = add(api, user_token, cake["id"]).json()
    lines = {item["product_id"]: item for item in cart["items"]}
    assert lines[tea["id"]]["quantity"] == 3
    assert lines[tea["id"]]["total_price"] == "7.50"
    assert lines[tea["id"]]["name"] == "Green Tea"
    assert (cart["total"], cart["items_count"]) == ("17.50", 4)
    assert api.get("/cart-api/cart", headers=bearer(user_token)).json() == cart


def test_update_and_remove_by_item_id_or_product_id(api: httpx.Client, admin_token: str, user_token: str) -> None:
    tea = create_product(api, admin_token)
    cake = create_product(api, admin_token, name="Cake")
    add(api, user_token, tea["id"])
    cart = add(api, user_token, cake["id"]).json()
    tea_line = next(item for item in cart["items"] if item["product_id"] == tea["id"])

    updated = api.put(f"/cart-api/cart/items/{tea_line['id']}", json={"quantity": 5}, headers=bearer(user_token))
    assert updated.status_code == 200, updated.text
    assert next(i for i in updated.json()["items"] if i["product_id"] == tea["id"])["quantity"] == 5

    by_item = api.delete(f"/cart-api/cart/items/{tea_line['id']}", headers=bearer(user_token))
    assert [item["product_id"] for item in by_item.json()["items"]] == [cake["id"]]
    by_product = api.delete(f"/cart-api/cart/items/{cake['id']}", headers=bearer(user_token))
    assert by_product.json()["items"] == []


def test_clear_the_cart(api: httpx.Client, admin_token: str, user_token: str) -> None:
    add(api, user_token, create_product(api, admin_token)["id"])
    assert api.delete("/cart-api/cart", headers=bearer(user_token)).status_code == 204
    assert api.get("/cart-api/cart", headers=bearer(user_token)).json()["items"] == []


def test_cannot_add_more_than_in_stock(api: httpx.Client, admin_token: str, user_token: str) -> None:
    tea = create_product(api, admin_token, quantity=2)
    response = add(api, user_token, tea["id"], 3)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["products"][0]["available"] == 2


def test_checkout_creates_the_order_takes_stock_and_empties_the_cart(
    api: httpx.Client, admin_token: str, user_token: str
) -> None:
    tea = create_product(api, admin_token, quantity=5, price="2.50")
    add(api, user_token, tea["id"], 2)
    response = api.post("/cart-api/cart/checkout", headers=bearer(user_token))
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "CREATED"
    assert order["total"] == "5.00"
    assert order["items"] == [{"product_id": tea["id"], "name": "Green Tea", "price": "2.50", "quantity": 2}]
    assert [change["status"] for change in order["status_history"]] == ["CREATED"]
    assert api.get(f"/api/products/{tea['id']}", headers=bearer(admin_token)).json()["quantity"] == 3
    assert api.get("/cart-api/cart", headers=bearer(user_token)).json()["items"] == []
    fetched = api.get(f"/order-api/orders/{order['id']}", headers=bearer(user_token))
    assert fetched.status_code == 200
    assert fetched.json() == order


def test_checkout_is_all_lines_or_none(api: httpx.Client, admin_token: str, user_token: str) -> None:
    plenty = create_product(api, admin_token, name="Plenty", quantity=10)
    scarce = create_product(api, admin_token, name="Scarce", quantity=2)
    add(api, user_token, plenty["id"], 3)
    add(api, user_token, scarce["id"], 2)
    # Someone else takes the scarce stock after it went into this cart.
    api.patch(f"/api/products/{scarce['id']}/stock", json={"set": 1}, headers=bearer(admin_token))

    response = api.post("/cart-api/cart/checkout", headers=bearer(user_token))
    assert response.status_code == 409, response.text
    assert "Scarce" in response.json()["error"]["message"]
    assert [p["product_id"] for p in response.json()["error"]["details"]["products"]] == [scarce["id"]]
    assert api.get(f"/api/products/{plenty['id']}", headers=bearer(admin_token)).json()["quantity"] == 10
    assert api.get(f"/api/products/{scarce['id']}", headers=bearer(admin_token)).json()["quantity"] == 1
    assert len(api.get("/cart-api/cart", headers=bearer(user_token)).json()["items"]) == 2


def test_expected_total_guards_a_changed_cart(api: httpx.Client, admin_token: str, user_token: str) -> None:
    tea = create_product(api, admin_token, price="2.50")
    add(api, user_token, tea["id"], 2)
    stale = api.post("/cart-api/cart/checkout", json={"expected_total": "2.50"}, headers=bearer(user_token))
    assert stale.status_code == 409
    ok = api.post("/cart-api/cart/checkout", json={"expected_total": "5.00"}, headers=bearer(user_token))
    assert ok.status_code == 201, ok.text


def test_recent_views_newest_first_distinct(api: httpx.Client, admin_token: str, user_token: str) -> None:
    first = create_product(api, admin_token, name="First")
    second = create_product(api, admin_token, name="Second")
    for product in (first, second, first):
        assert api.post(f"/cart-api/products/{product['id']}/view", headers=bearer(user_token)).status_code == 204
    views = api.get("/cart-api/products/recent-views", headers=bearer(user_token)).json()["items"]
    assert [view["name"] for view in views] == ["First", "Second"]
    missing = api.post(f"/cart-api/products/{uuid.uuid4()}/view", headers=bearer(user_token))
    assert missing.status_code == 404


def test_admin_lists_carts_users_may_not(api: httpx.Client, admin_token: str, user_token: str) -> None:
    tea = create_product(api, admin_token)
    add(api, user_token, tea["id"], 2)
    assert api.get("/cart-api/carts", headers=bearer(user_token)).status_code == 403
    carts: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 3}
    while True:  # every page, by the cursor
        page = api.get("/cart-api/carts", params=params, headers=bearer(admin_token))
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 3
        carts.extend(page.json()["items"])
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert len({cart["user_id"] for cart in carts}) == len(carts)
    assert any(item["product_id"] == tea["id"] and item["quantity"] == 2 for cart in carts for item in cart["items"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 1001}, "quantity"),
        ({"product_id": "not-a-uuid"}, "product_id"),
        ({"quantity": "two"}, "quantity"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_cart_input_is_422_naming_the_field(
    api: httpx.Client, user_token: str, body: dict[str, Any], field: str
) -> None:
    response = api.post(
        "/cart-api/cart/items", json={"product_id": str(uuid.uuid4()), "quantity": 1} | body, headers=bearer(user_token)
    )
    assert response.status_code == 422, response.text
    assert field in {detail["field"] for detail in response.json()["error"]["details"]}


def test_bad_ids_and_unknown_products(api: httpx.Client, admin_token: str, user_token: str) -> None:
    assert add(api, user_token, str(uuid.uuid4())).status_code == 404
    assert api.put("/cart-api/cart/items/nope", json={"quantity": 1}, headers=bearer(user_token)).status_code == 422
    assert api.delete("/cart-api/cart/items/nope", headers=bearer(user_token)).status_code == 422
    assert api.delete(f"/cart-api/cart/items/{uuid.uuid4()}", headers=bearer(user_token)).status_code == 404
    zero = api.put(f"/cart-api/cart/items/{uuid.uuid4()}", json={"quantity": 0}, headers=bearer(user_token))
    assert zero.status_code == 422


def test_another_users_cart_item_is_404(api: httpx.Client, admin_token: str, user_token: str) -> None:
    tea = create_product(api, admin_token)
    line = add(api, user_token, tea["id"]).json()["items"][0]
    other = new_user(api)[1]
    assert api.put(f"/cart-api/cart/items/{line['id']}", json={"quantity": 2}, headers=bearer(other)).status_code == 404
    assert api.delete(f"/cart-api/cart/items/{line['id']}", headers=bearer(other)).status_code == 404
    assert api.get("/cart-api/cart", headers=bearer(user_token)).json()["items"][0]["quantity"] == 1


def test_checkout_of_an_empty_cart_is_400(api: httpx.Client, user_token: str) -> None:
    response = api.post("/cart-api/cart/checkout", headers=bearer(user_token))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "your cart is empty"


def test_cart_needs_a_token(api: httpx.Client) -> None:
    assert api.get("/cart-api/cart").status_code == 401
    assert api.post("/cart-api/cart/checkout").status_code == 401
