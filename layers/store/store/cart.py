"""Carts and recently viewed products, kept in Cassandra per user.

A cart holds only product ids and quantities; names and prices are read from
the catalog whenever the cart is shown, so a cart never shows a stale price.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from cassandra.util import datetime_from_uuid1
from pydantic import BaseModel, ConfigDict, Field

from store.catalog import ProductPublic, ProductRepository
from store.clock import aware, utc_now
from store.db import Database
from store.errors import Conflict, NotFound
from store.paging import Page, decode_cursor, encode_cursor, invalid_cursor
from store.retry import backoff
from store.wire import JsonInteger

MAX_LINE_QUANTITY = 1000
# A cart's (and so an order's) size: the order's logged batch (the order row and
# its event twice, in the outbox) stays far inside Cassandra's 50 KiB batch
# limit with 200-character names, and reserving every line inside the
# function's timeout.
MAX_CART_LINES = 30
MAX_ORDER_UNITS = 5000
RECENT_VIEWS = 20
CARTS_SHARD = "all"
LineQuantity = Annotated[int, Field(ge=1, le=MAX_LINE_QUANTITY), JsonInteger]

# The seeds' histogram buckets, documented with the EMF metrics (EMF has no buckets).
CART_VALUE_BUCKETS = (10, 50, 100, 200, 500, 1000)
CART_ITEMS_BUCKETS = (1, 2, 5, 10, 20)


class CartItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: UUID
    quantity: LineQuantity = 1


class CartItemUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: LineQuantity


class CartItemPublic(BaseModel):
    id: UUID
    product_id: UUID
    name: str
    price: Decimal
    quantity: int
    total_price: Decimal


class CartPublic(BaseModel):
    user_id: UUID
    items: list[CartItemPublic]
    total: Decimal
    items_count: int


class RecentViewPublic(BaseModel):
    product_id: UUID
    name: str
    price: Decimal
    viewed_at: datetime


@dataclass(frozen=True)
class CartLine:
    """A stored line: what the user wants, before the catalog is consulted."""

    item_id: UUID
    product_id: UUID
    quantity: int


def price_lines(user_id: UUID, lines: Sequence[CartLine], products: dict[UUID, ProductPublic]) -> CartPublic:
    """The cart as shown: current names and prices; lines whose product is gone are left out."""
    items = [
        CartItemPublic(
            id=line.item_id,
            product_id=line.product_id,
            name=products[line.product_id].name,
            price=products[line.product_id].price,
            quantity=line.quantity,
            total_price=products[line.product_id].price * line.quantity,
        )
        for line in lines
        if line.product_id in products
    ]
    return CartPublic(
        user_id=user_id,
        items=items,
        total=sum((item.total_price for item in items), Decimal("0.00")),
        items_count=sum(item.quantity for item in items),
    )


def find_line(lines: Sequence[CartLine], item_or_product_id: UUID) -> CartLine | None:
    """A line by its item id or its product id (the seeds address lines by product)."""
    for line in lines:
        if item_or_product_id in (line.item_id, line.product_id):
            return line
    return None


class CartRepository:
    def __init__(self, database: Database, products: ProductRepository) -> None:
        self._db = database
        self._products = products

    def lines(self, user_id: UUID) -> list[CartLine]:
        rows = self._db.execute("SELECT item_id, product_id, quantity FROM cart_items WHERE user_id = ?", (user_id,))
        return [CartLine(row.item_id, row.product_id, row.quantity) for row in rows]

    def show(self, user_id: UUID) -> CartPublic:
        lines = self.lines(user_id)
        return price_lines(user_id, lines, self._products.get_many([line.product_id for line in lines]))

    def add(self, user_id: UUID, item: CartItemCreate) -> CartPublic:
        """Add units of a product; the same product again adds to its line. The
        line changes by compare-and-set, so concurrent adds keep every unit."""
        product = self._products.require(item.product_id)
        for _ in backoff():
            lines = self.lines(user_id)
            existing = find_line(lines, item.product_id)
            quantity = item.quantity + (existing.quantity if existing else 0)
            if quantity > MAX_LINE_QUANTITY:
                raise Conflict(f"a cart line holds at most {MAX_LINE_QUANTITY} units", details={"quantity": quantity})
            if existing is None and len(lines) >= MAX_CART_LINES:
                raise Conflict(
                    f"a cart holds at most {MAX_CART_LINES} different products: order or remove some first",
                    details={"limit": "MAX_CART_LINES", "max": MAX_CART_LINES},
                )
            self._check_units(lines, item.product_id, quantity)
            self._check_stock(product, quantity)
            if self._write_line(user_id, existing, item.product_id, quantity):
                return self.show(user_id)
        raise Conflict("this cart line is changing too often; retry")

    def update(self, user_id: UUID, item_id: UUID, change: CartItemUpdate) -> CartPublic:
        for _ in backoff():
            lines = self.lines(user_id)
            line = find_line(lines, item_id)
            if line is None:
                raise NotFound(f"cart item {item_id} is not in your cart")
            self._check_units(lines, line.product_id, change.quantity)
            self._check_stock(self._products.require(line.product_id), change.quantity)
            if self._write_line(user_id, line, line.product_id, change.quantity):
                return self.show(user_id)
        raise Conflict("this cart line is changing too often; retry")

    def remove(self, user_id: UUID, item_id: UUID) -> CartPublic:
        line = self._require_line(user_id, item_id)
        self.remove_products(user_id, [line.product_id])
        return self.show(user_id)

    def remove_products(self, user_id: UUID, product_ids: Sequence[UUID]) -> None:
        statement = self._db.prepare("DELETE FROM cart_items WHERE user_id = ? AND product_id = ?")
        for future in [self._db.execute_async(statement, (user_id, product_id)) for product_id in product_ids]:
            self._db.result(future)
        self.forget_if_empty(user_id)

    def forget_if_empty(self, user_id: UUID) -> None:
        """Leave the admins' list of open carts once the cart is empty."""
        if not self.lines(user_id):
            self._db.execute("DELETE FROM carts_by_shard WHERE shard = ? AND user_id = ?", (CARTS_SHARD, user_id))

    def abandoned(self, older_than: datetime) -> int:
        """Open carts not changed since `older_than` (one partition of keys)."""
        rows = self._db.execute("SELECT updated_at FROM carts_by_shard WHERE shard = ?", (CARTS_SHARD,))
        return sum(1 for row in rows if row.updated_at is not None and aware(row.updated_at) < older_than)

    def clear(self, user_id: UUID) -> None:
        self._db.execute("DELETE FROM cart_items WHERE user_id = ?", (user_id,))
        self._db.execute("DELETE FROM carts_by_shard WHERE shard = ? AND user_id = ?", (CARTS_SHARD, user_id))

    def all_carts(self, limit: int, cursor: str | None = None) -> Page[CartPublic]:
        """Open carts for admins, `limit` users at a time in user id order: the
        users with a cart, then each cart concurrently."""
        if cursor is None:
            rows = self._db.execute(
                "SELECT user_id FROM carts_by_shard WHERE shard = ? LIMIT ?", (CARTS_SHARD, limit + 1)
            )
        else:
            rows = self._db.execute(
                "SELECT user_id FROM carts_by_shard WHERE shard = ? AND user_id > ? LIMIT ?",
                (CARTS_SHARD, _cart_cursor(cursor), limit + 1),
            )
        user_ids = [row.user_id for row in rows]
        more = len(user_ids) > limit
        user_ids = user_ids[:limit]
        statement = self._db.prepare("SELECT item_id, product_id, quantity FROM cart_items WHERE user_id = ?")
        futures = [(user_id, self._db.execute_async(statement, (user_id,))) for user_id in user_ids]
        lines = {
            user_id: [CartLine(r.item_id, r.product_id, r.quantity) for r in self._db.result(future)]
            for user_id, future in futures
        }
        products = self._products.get_many(sorted({line.product_id for ls in lines.values() for line in ls}))
        return Page(
            items=[price_lines(user_id, ls, products) for user_id, ls in lines.items() if ls],
            next_cursor=encode_cursor({"u": str(user_ids[-1])}) if more else None,
        )

    def _require_line(self, user_id: UUID, item_id: UUID) -> CartLine:
        line = find_line(self.lines(user_id), item_id)
        if line is None:
            raise NotFound(f"cart item {item_id} is not in your cart")
        return line

    def _check_stock(self, product: ProductPublic, quantity: int) -> None:
        # Only a hint here; checkout reserves by compare-and-set.
        if product.quantity < quantity:
            raise Conflict(
                f"only {product.quantity} of product {product.id} in stock",
                details={
                    "products": [{"product_id": str(product.id), "requested": quantity, "available": product.quantity}]
                },
            )

    def _check_units(self, lines: Sequence[CartLine], product_id: UUID, quantity: int) -> None:
        units = quantity + sum(line.quantity for line in lines if line.product_id != product_id)
        if units > MAX_ORDER_UNITS:
            raise Conflict(
                f"a cart holds at most {MAX_ORDER_UNITS} units in all; this change makes {units}",
                details={"limit": "MAX_ORDER_UNITS", "max": MAX_ORDER_UNITS, "units": units},
            )

    def _write_line(self, user_id: UUID, seen: CartLine | None, product_id: UUID, quantity: int) -> bool:
        """Compare-and-set the line from what was read (`seen`, None: no line);
        False when it changed meanwhile (the caller reads again)."""
        now = utc_now()
        if seen is None:
            result = self._db.execute(
                "INSERT INTO cart_items (user_id, product_id, item_id, quantity, added_at) VALUES (?, ?, ?, ?, ?) "
                "IF NOT EXISTS",
                (user_id, product_id, uuid.uuid4(), quantity, now),
            )
        else:
            result = self._db.execute(
                "UPDATE cart_items SET quantity = ?, added_at = ? WHERE user_id = ? AND product_id = ? IF quantity = ?",
                (quantity, now, user_id, product_id, seen.quantity),
            )
        if not result.was_applied:
            return False
        self._db.execute(
            "INSERT INTO carts_by_shard (shard, user_id, updated_at) VALUES (?, ?, ?)", (CARTS_SHARD, user_id, now)
        )
        return True


def _cart_cursor(cursor: str) -> UUID:
    try:
        return UUID(str(decode_cursor(cursor)["u"]))
    except (KeyError, ValueError) as error:
        raise invalid_cursor() from error


class RecentViews:
    def __init__(self, database: Database, products: ProductRepository) -> None:
        self._db = database
        self._products = products

    def record(self, user_id: UUID, product_id: UUID) -> None:
        self._products.require(product_id)
        self._db.execute(
            "INSERT INTO recent_views (user_id, viewed_at, product_id) VALUES (?, ?, ?)",
            (user_id, uuid.uuid1(), product_id),
        )

    def latest(self, user_id: UUID) -> list[RecentViewPublic]:
        """The last RECENT_VIEWS distinct products viewed, newest first."""
        rows = self._db.execute(
            "SELECT viewed_at, product_id FROM recent_views WHERE user_id = ? LIMIT ?", (user_id, RECENT_VIEWS * 5)
        )
        latest: dict[UUID, Any] = {}
        for row in rows:
            if row.product_id not in latest:
                latest[row.product_id] = row.viewed_at
            if len(latest) == RECENT_VIEWS:
                break
        products = self._products.get_many(list(latest))
        return [
            RecentViewPublic(
                product_id=product_id,
                name=products[product_id].name,
                price=products[product_id].price,
                viewed_at=aware(datetime_from_uuid1(viewed_at)),
            )
            for product_id, viewed_at in latest.items()
            if product_id in products
        ]
