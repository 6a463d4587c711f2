"""With 20,000 products seeded through the bulk import, every category x sort x
order listing returns exactly the order a reference sort of the same data gives,
across page boundaries, with no duplicates or gaps, also after price, name and
category changes.

The products go into categories of this test run's own (a random prefix), so
other tests' products cannot disturb the per-category listings; the whole-catalog
listing (admins) is checked for order, completeness and count instead.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from storectl.seed import generate_products, load_products
from support import bearer

PRODUCTS = 20_000
Combination = tuple[str, str]  # (sort, order)
COMBINATIONS: list[Combination] = [("price", "asc"), ("price", "desc"), ("name", "asc"), ("name", "desc")]


def sort_key(sort: str, product: dict[str, Any]) -> tuple[Any, uuid.UUID]:
    # Ties are broken by id, compared as Cassandra compares random UUIDs (unsigned bytes).
    primary = Decimal(product["price"]) if sort == "price" else product["name"].casefold()
    return primary, uuid.UUID(product["id"])


def reference(products: list[dict[str, Any]], sort: str, order: str) -> list[str]:
    ordered = sorted(products, key=lambda product: sort_key(sort, product), reverse=order == "desc")
    return [product["id"] for product in ordered]


def walk(api: httpx.Client, token: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every page of a listing, following next_cursor; returns the items and the reported total."""
    items: list[dict[str, Any]] = []
    query = {**params, "limit": 100}
    while True:
        response = api.get("/api/products", params=query, headers=bearer(token))
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return items, page["total"]
        query = {**params, "limit": 100, "cursor": page["next_cursor"]}


@pytest.fixture(scope="module")
def seeded(api: httpx.Client, admin_token: str) -> dict[str, dict[str, Any]]:
    """The seeded products by id, as the API returns them."""
    prefix = f"o{uuid.uuid4().hex[:6]}-"
    generated = list(generate_products(PRODUCTS))
    for product in generated:
        product["category"] = prefix + product["category"]

    # The same path as `storectl seed`, with categories of our own.
    created_ids = load_products(str(api.base_url), admin_token, generated)
    assert len(set(created_ids)) == PRODUCTS
    by_id = {}
    for product_id, product in zip(created_ids, generated, strict=True):
        by_id[product_id] = {**product, "id": product_id}
    return by_id


def in_category(products: dict[str, dict[str, Any]], category: str) -> list[dict[str, Any]]:
    return [product for product in products.values() if product["category"] == category]


def check_category(api: httpx.Client, token: str, products: dict[str, dict[str, Any]], category: str) -> None:
    expected_products = in_category(products, category)
    for sort, order in COMBINATIONS:
        items, total = walk(api, token, {"category": category, "sort": sort, "order": order})
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids)), f"duplicates in {category} {sort} {order}"
        assert total == len(expected_products)
        assert ids == reference(expected_products, sort, order), f"order differs for {category} {sort} {order}"
        for item in items[:: max(1, len(items) // 20)]:
            source = products[item["id"]]
            assert (item["name"], item["price"], item["category"]) == (source["name"], source["price"], category)


def test_every_category_sort_and_order_matches_the_reference(
    api: httpx.Client, admin_token: str, seeded: dict[str, dict[str, Any]]
) -> None:
    categories = sorted({product["category"] for product in seeded.values()})
    assert len(categories) == 10
    for category in categories:
        check_category(api, admin_token, seeded, category)


def test_offset_pages_match_the_token_walk(
    api: httpx.Client, admin_token: str, seeded: dict[str, dict[str, Any]]
) -> None:
    category = next(iter(seeded.values()))["category"]
    expected = reference(in_category(seeded, category), "price", "desc")
    for page in (1, 2, 7, (len(expected) + 49) // 50):
        response = api.get(
            "/api/products",
            params={"category": category, "sort": "price", "order": "desc", "page": page, "limit": 50},
            headers=bearer(admin_token),
        )
        assert response.status_code == 200
        assert [item["id"] for item in response.json()["items"]] == expected[(page - 1) * 50 : page * 50]
        assert response.json()["page"] == page


def test_whole_catalog_listing_is_ordered_and_complete(
    api: httpx.Client, admin_token: str, seeded: dict[str, dict[str, Any]]
) -> None:
    for sort, order in [("price", "asc"), ("name", "desc")]:
        items, total = walk(api, admin_token, {"sort": sort, "order": order})
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids)) == total
        assert set(seeded) <= set(ids)
        keys = [sort_key(sort, item) for item in items]
        assert keys == sorted(keys, reverse=order == "desc")
        ours = [product_id for product_id in ids if product_id in seeded]
        assert ours == reference(list(seeded.values()), sort, order)


def test_order_holds_after_price_name_and_category_changes(
    api: httpx.Client, admin_token: str, seeded: dict[str, dict[str, Any]]
) -> None:
    categories = sorted({product["category"] for product in seeded.values()})
    source, target = categories[0], categories[1]
    moved = in_category(seeded, source)[:30]
    for number, product in enumerate(moved):
        change: dict[str, Any] = {"price": f"{number + 1}.05"}
        if number % 2 == 0:
            change["category"] = target
        if number % 3 == 0:
            change["name"] = f"aaa renamed {number}"
        response = api.put(f"/api/products/{product['id']}", json=change, headers=bearer(admin_token))
        assert response.status_code == 200, response.text
        product.update(change)
    for category in (source, target):
        check_category(api, admin_token, seeded, category)
