"""GET /api/products/popular through the deployed stack: fed by checkouts,
per category or overall, validated, cached per worker (X-Cache)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from support import add_to_cart, bearer, checkout, create_product, new_user


def _buy(api: httpx.Client, lines: list[tuple[str, int]]) -> None:
    _, token = new_user(api)
    for product_id, units in lines:
        assert add_to_cart(api, token, product_id, units).status_code == 201
    response = checkout(api, token)
    assert response.status_code == 201, response.text


def _popular(api: httpx.Client, token: str, **params: Any) -> httpx.Response:
    return api.get("/api/products/popular", params=params, headers=bearer(token))


def test_popular_products_rank_units_ordered_in_a_category_and_are_cached(api: httpx.Client, admin_token: str) -> None:
    category = f"popular-{uuid.uuid4().hex[:8]}"
    tea = create_product(api, admin_token, name="Tea", category=category, quantity=50)
    cake = create_product(api, admin_token, name="Cake", category=category, quantity=50)
    _buy(api, [(tea["id"], 2), (cake["id"], 1)])
    _buy(api, [(cake["id"], 3)])
    _, token = new_user(api)

    response = _popular(api, token, category=category.upper(), days=1)
    assert response.status_code == 200, response.text
    assert response.headers["X-Cache"] == "miss"  # nobody asked this before
    first = response.json()
    assert first["category"] == category
    assert [(item["product"]["name"], item["units_ordered"]) for item in first["items"]] == [("Cake", 4), ("Tea", 2)]

    # One more order: a worker that has the answer cached keeps it for 60 s;
    # a worker that has not reads the new count.
    _buy(api, [(tea["id"], 5)])
    old, new = [("Cake", 4), ("Tea", 2)], [("Tea", 7), ("Cake", 4)]
    cached = [old]  # what a hit may answer: an answer some worker computed before
    seen = set()
    for _ in range(12):
        again = _popular(api, token, category=category, days=1)
        assert again.status_code == 200
        units = [(item["product"]["name"], item["units_ordered"]) for item in again.json()["items"]]
        if again.headers["X-Cache"] == "hit":
            assert units in cached
        else:
            assert units == new
            cached.append(new)
        seen.add(again.headers["X-Cache"])
    assert "hit" in seen

    # Overall: the same products, among everything else sold today.
    overall = _popular(api, token, limit=50).json()
    names = {item["product"]["id"] for item in overall["items"]}
    assert overall["category"] is None
    assert tea["id"] in names or len(overall["items"]) == 50


def test_popular_products_validate_their_query(api: httpx.Client) -> None:
    _, token = new_user(api)
    for params in ({"days": 0}, {"days": 31}, {"limit": 0}, {"limit": 51}, {"category": "  "}, {"bogus": 1}):
        response = _popular(api, token, **params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    assert api.get("/api/products/popular").status_code == 401
