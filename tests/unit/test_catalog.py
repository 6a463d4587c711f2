from __future__ import annotations

import base64
import uuid
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from store.catalog import Position, ProductCreate, ProductUpdate, StockChange, listing_rows, name_key
from store.errors import BadRequest


def _product(**overrides: Any) -> dict[str, Any]:
    return {"name": "Kettle", "category": "Home", "price": "19.99", "quantity": 3} | overrides


def test_product_normalises_category_and_keeps_money_exact() -> None:
    product = ProductCreate.model_validate(_product(category="  Home ", price=19.9))
    assert product.category == "home"
    assert str(product.price) == "19.90"
    assert str(ProductCreate.model_validate(_product(price="1000")).price) == "1000.00"
    # A JSON number is a binary float: rounded to cents, not refused for its noise.
    assert str(ProductCreate.model_validate(_product(price=0.5700000000000001)).price) == "0.57"


@pytest.mark.parametrize(
    "overrides",
    [
        {"price": "1.001"},
        {"price": "-5"},
        {"price": "0.00"},
        {"quantity": -1},
        {"name": " "},
        {"category": "*"},
        {"unknown": 1},
        {"price": "NaN"},
        {"price": "Infinity"},
        # What the schema's pattern refuses is refused (they were once accepted).
        {"price": "1e3"},
        {"price": " 5"},
        {"price": 0.004},
        {"price": True},
        {"quantity": True},
        {"price": "12345678901"},
    ],
)
def test_bad_products_are_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProductCreate.model_validate(_product(**overrides))


def test_update_sends_only_what_changes() -> None:
    assert ProductUpdate(price=Decimal("2.50")).model_dump(exclude_unset=True) == {"price": Decimal("2.50")}


@pytest.mark.parametrize("body", [{}, {"set": 1, "adjust": 1}, {"set": -1}])
def test_stock_change_needs_exactly_one_valid_field(body: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        StockChange.model_validate(body)


def test_name_key_ignores_case() -> None:
    assert name_key("Apple") == name_key("apple") < name_key("banana")


def test_page_token_round_trip() -> None:
    position = Position("price", "desc", "books", "12.50", uuid.uuid4(), 3)
    assert Position.decode(position.encode()) == position


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "",
        base64.urlsafe_b64encode(b'{"s":"rating","o":"asc","c":"b","k":"1","i":"x","p":1}').decode(),
        Position("price", "asc", "b", "not-a-number", uuid.uuid4(), 1).encode(),
        Position("name", "asc", "b", "k", uuid.uuid4(), 0).encode(),
    ],
)
def test_bad_page_tokens_are_400(token: str) -> None:
    with pytest.raises(BadRequest):
        Position.decode(token)


def test_a_price_change_rewrites_only_the_price_rows() -> None:
    before = listing_rows("home", Decimal("1.00"), "Kettle")
    after = listing_rows("home", Decimal("2.00"), "Kettle")
    # The name rows stay: deleting and re-inserting them in one batch would lose them.
    assert {row[0] for row in after - before} == {"price"}
    assert {row[0] for row in before - after} == {"price"}
    assert len(after - before) == 2  # the category and the whole-catalog scope


def test_a_category_change_moves_every_row_of_the_old_category() -> None:
    before = listing_rows("home", Decimal("1.00"), "Kettle")
    after = listing_rows("garden", Decimal("1.00"), "Kettle")
    assert {row[1] for row in before - after} == {"home"}
    assert {row[1] for row in after - before} == {"garden"}
