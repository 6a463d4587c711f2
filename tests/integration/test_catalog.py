"""Catalog API through API Gateway: roles, CRUD, stock, and bad input."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from support import bearer, new_user


@pytest.fixture(scope="module")
def user_token(api: httpx.Client) -> str:
    return new_user(api)[1]


def _product(category: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Kettle K1",
        "category": category,
        "price": "19.99",
        "quantity": 10,
        "description": "A kettle.",
        "manufacturer": "Tefal",
    } | overrides


def _create(api: httpx.Client, admin_token: str, **overrides: Any) -> dict[str, Any]:
    category = overrides.pop("category", f"t-{uuid.uuid4().hex[:8]}")
    response = api.post("/api/products", json=_product(category, **overrides), headers=bearer(admin_token))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _error_fields(response: httpx.Response) -> set[str]:
    return {detail["field"] for detail in response.json()["error"]["details"]}


def test_admin_creates_reads_updates_and_deletes_a_product(
    api: httpx.Client, admin_token: str, user_token: str
) -> None:
    created = _create(api, admin_token, name="Steel Kettle", price="24.50")
    assert created["price"] == "24.50"
    assert created["quantity"] == 10

    fetched = api.get(f"/api/products/{created['id']}", headers=bearer(user_token))
    assert fetched.status_code == 200
    assert fetched.json() == created

    updated = api.put(
        f"/api/products/{created['id']}", json={"price": "21.00", "quantity": 3}, headers=bearer(admin_token)
    )
    assert updated.status_code == 200, updated.text
    assert (updated.json()["price"], updated.json()["quantity"], updated.json()["name"]) == ("21.00", 3, "Steel Kettle")

    assert api.delete(f"/api/products/{created['id']}", headers=bearer(admin_token)).status_code == 204
    assert api.get(f"/api/products/{created['id']}", headers=bearer(user_token)).status_code == 404


def _categories(api: httpx.Client, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get("/api/categories", headers=bearer(token)).json()["items"]
    return items


def test_categories_count_products(api: httpx.Client, admin_token: str, user_token: str) -> None:
    category = f"t-{uuid.uuid4().hex[:8]}"
    first = _create(api, admin_token, category=category)
    _create(api, admin_token, category=category)
    counts = {
        item["name"]: item["product_count"]
        for item in api.get("/api/categories", headers=bearer(user_token)).json()["items"]
    }
    assert counts[category] == 2

    api.delete(f"/api/products/{first['id']}", headers=bearer(admin_token))
    counts = {
        item["name"]: item["product_count"]
        for item in api.get("/api/categories", headers=bearer(user_token)).json()["items"]
    }
    assert counts[category] == 1


def test_stock_set_and_adjust_never_below_zero(api: httpx.Client, admin_token: str) -> None:
    product = _create(api, admin_token, quantity=5)
    url = f"/api/products/{product['id']}/stock"
    assert api.patch(url, json={"adjust": -3}, headers=bearer(admin_token)).json()["quantity"] == 2
    refused = api.patch(url, json={"adjust": -3}, headers=bearer(admin_token))
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["quantity"] == 2
    assert api.patch(url, json={"set": 40}, headers=bearer(admin_token)).json()["quantity"] == 40
    both = api.patch(url, json={"set": 1, "adjust": 1}, headers=bearer(admin_token))
    assert both.status_code == 422


def test_reads_need_a_token_and_users_need_a_category(api: httpx.Client, user_token: str) -> None:
    assert api.get("/api/products", params={"category": "books"}).status_code == 401
    assert api.get("/api/categories").status_code == 401
    response = api.get("/api/products", headers=bearer(user_token))
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"parameter": "category"}


def test_admin_may_list_the_whole_catalog(api: httpx.Client, admin_token: str) -> None:
    _create(api, admin_token)
    response = api.get("/api/products", params={"limit": 5}, headers=bearer(admin_token))
    assert response.status_code == 200
    assert response.json()["total"] >= 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/products", _product("books")),
        ("POST", "/api/products/bulk", {"products": [_product("books")]}),
        ("PUT", f"/api/products/{uuid.uuid4()}", {"price": "1.00"}),
        ("DELETE", f"/api/products/{uuid.uuid4()}", None),
        ("PATCH", f"/api/products/{uuid.uuid4()}/stock", {"set": 1}),
    ],
)
def test_writes_are_for_admins_only(
    api: httpx.Client, user_token: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = api.request(method, path, json=body, headers=bearer(user_token))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "books", "sort": "rating"}, "sort"),
        ({"category": "books", "order": "up"}, "order"),
        ({"category": "books", "page": 0}, "page"),
        ({"category": "books", "page": -1}, "page"),
        ({"category": "books", "limit": 101}, "limit"),
        ({"category": "books", "limit": 0}, "limit"),
    ],
)
def test_bad_listing_parameters_are_named(
    api: httpx.Client, user_token: str, params: dict[str, Any], field: str
) -> None:
    response = api.get("/api/products", params=params, headers=bearer(user_token))
    assert response.status_code == 422
    assert field in _error_fields(response)


def _cursor(fields: str) -> str:
    return base64.urlsafe_b64encode(fields.encode()).decode().rstrip("=")


def _price_cursor(key_json: str) -> str:
    """A cursor of the price listing with the price key as given (raw JSON text)."""
    return _cursor(
        '{"s": "price", "o": "asc", "c": "books", "k": ' + key_json + ', "i": "' + str(uuid.uuid4()) + '", "p": 1}'
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        _cursor("[1, 2]"),
        _price_cursor("NaN"),
        _price_cursor('"Infinity"'),
        _price_cursor('"1E+3000000000"'),
        _cursor('{"s": "name", "o": "asc", "c": "books", "k": "a", "i": "not-a-uuid", "p": 1}'),
    ],
)
def test_tampered_cursor_is_400(api: httpx.Client, user_token: str, cursor: str) -> None:
    response = api.get("/api/products", params={"category": "books", "cursor": cursor}, headers=bearer(user_token))
    assert response.status_code == 400, response.text
    assert "cursor" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "-1.00"}, "price"),
        ({"price": "0"}, "price"),
        ({"price": "1.999"}, "price"),
        ({"price": "abc"}, "price"),
        ({"quantity": -1}, "quantity"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"category": ""}, "category"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_products_are_rejected_naming_the_field(
    api: httpx.Client, admin_token: str, overrides: dict[str, Any], field: str
) -> None:
    response = api.post("/api/products", json=_product("books") | overrides, headers=bearer(admin_token))
    assert response.status_code == 422, response.text
    assert field in _error_fields(response)


def test_non_uuid_and_unknown_ids(api: httpx.Client, user_token: str, admin_token: str) -> None:
    # Product routes match only a UUID (so PUT /products/bulk is a 405, not a bad id):
    # anything else names no product.
    response = api.get("/api/products/not-a-uuid", headers=bearer(user_token))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    wrong_method = api.put("/api/products/bulk", json={}, headers=bearer(admin_token))
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert api.get(f"/api/products/{uuid.uuid4()}", headers=bearer(user_token)).status_code == 404
    assert (
        api.put(f"/api/products/{uuid.uuid4()}", json={"price": "2.00"}, headers=bearer(admin_token)).status_code == 404
    )
    assert api.delete(f"/api/products/{uuid.uuid4()}", headers=bearer(admin_token)).status_code == 404
    missing_stock = api.patch(f"/api/products/{uuid.uuid4()}/stock", json={"set": 1}, headers=bearer(admin_token))
    assert missing_stock.status_code == 404
