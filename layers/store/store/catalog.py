"""The catalog: products, categories, listing order and stock.

Listing reads one partition of a query table (`products_by_price` or
`products_by_name`, per category or '*' for the whole catalog) in the requested
order, then the page's products by id. Every change of name, category or price
rewrites the query tables and the product in one logged batch, so they never
disagree for long. Stock is changed only by compare-and-set (lightweight
transactions) on the product row, so concurrent reservations cannot oversell.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from cassandra.query import BatchStatement, BatchType
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from store.audit import Actor, AuditLog, AuditRecord
from store.clock import utc_now
from store.db import CassandraUnavailable, Database, outcome_unknown
from store.errors import Conflict, NotFound
from store.money import Amount
from store.observability import counted
from store.paging import Page, decode_cursor, encode_cursor, invalid_cursor
from store.retry import backoff
from store.wire import NOT_BLANK, WHITESPACE, JsonInteger

ALL_PRODUCTS = "*"  # the scope that holds every product, for admins' listing
MOVEMENT_TTL_SECONDS = 30 * 24 * 3600
MAX_LIMIT = 100
SortField = Literal["price", "name"]
SortOrder = Literal["asc", "desc"]

# Two decimals always, so "19.9" is stored and shown as "19.90" (never a float).
Money = Annotated[Decimal, Amount("0.01", integer_digits=10)]
# The patterns say in the schema what stripping does: blank is not a name.
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)]
Category = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=1, max_length=50, pattern=rf"^[^*]*[^*{WHITESPACE}][^*]*$"
    ),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Manufacturer = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000_000), JsonInteger]


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    category: Category
    price: Money
    quantity: Quantity = 0
    description: Text = ""
    manufacturer: Manufacturer = ""


class ProductUpdate(BaseModel):
    """Every field optional; only those sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    category: Category | None = None
    price: Money | None = None
    quantity: Quantity | None = None
    description: Text | None = None
    manufacturer: Manufacturer | None = None


class StockChange(BaseModel):
    """Either set the stock to a value or adjust it by a (signed) delta."""

    # "Exactly one of", said in the schema too (a null counts as absent).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["set"], "properties": {"set": {"type": "integer"}, "adjust": {"type": "null"}}},
                {"required": ["adjust"], "properties": {"adjust": {"type": "integer"}, "set": {"type": "null"}}},
            ]
        },
    )

    set: Quantity | None = None
    adjust: Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000), JsonInteger] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> StockChange:
        if (self.set is None) == (self.adjust is None):
            raise ValueError("give exactly one of 'set' or 'adjust'")
        return self


class ProductPublic(BaseModel):
    id: UUID
    name: str
    category: str
    price: Decimal
    quantity: int
    description: str
    manufacturer: str


class ProductPage(Page[ProductPublic]):
    """The paging envelope, plus where the page is and how many products the listing has."""

    page: int
    limit: int
    total: int


class CategoryPublic(BaseModel):
    name: str
    product_count: int


def reserve_key(order_id: UUID) -> str:
    return f"reserve:{order_id}"


def release_key(order_id: UUID) -> str:
    return f"release:{order_id}"


def name_key(name: str) -> str:
    """The name sort key: case-insensitive, so 'apple' and 'Apple' sort together."""
    return name.casefold()


# ---------------------------------------------------------------- page tokens


@dataclass(frozen=True)
class Position:
    """Where a page ends: its last sort key and id, and the page number."""

    sort: SortField
    order: SortOrder
    scope: str
    key: str
    id: UUID
    page: int

    def encode(self) -> str:
        return encode_cursor(
            {"s": self.sort, "o": self.order, "c": self.scope, "k": self.key, "i": str(self.id), "p": self.page}
        )

    @classmethod
    def decode(cls, cursor: str) -> Position:
        data = decode_cursor(cursor)
        try:
            position = cls(
                sort=data["s"],
                order=data["o"],
                scope=data["c"],
                key=str(data["k"]),
                id=UUID(data["i"]),
                page=int(data["p"]),
            )
            if position.sort not in ("price", "name") or position.order not in ("asc", "desc") or position.page < 1:
                raise ValueError("bad fields")
            if position.sort == "price":
                price = Decimal(position.key)
                # Only a price a product can have: finite, and within Money's digits.
                if not price.is_finite() or not -3 <= price.adjusted() <= 12:
                    raise ValueError("not a price")
        except (ValueError, KeyError, TypeError, ArithmeticError) as error:
            raise invalid_cursor() from error
        return position


# ---------------------------------------------------------------- repository

# Partition keys per IN query: small enough that one coordinator's fan-out stays cheap.
_IN_CHUNK = 50
_COLUMNS = "id, name, category, price, quantity, description, manufacturer"
_SORT_TABLES: dict[SortField, tuple[str, str]] = {
    "price": ("products_by_price", "price"),
    "name": ("products_by_name", "name_key"),
}


# (query table, scope, sort key): the rows that list one product.
ListingRow = tuple[SortField, str, Any]
_INSERT_LISTING: dict[SortField, str] = {
    "price": "INSERT INTO products_by_price (scope, price, id) VALUES (?, ?, ?)",
    "name": "INSERT INTO products_by_name (scope, name_key, id) VALUES (?, ?, ?)",
}
_DELETE_LISTING: dict[SortField, str] = {
    "price": "DELETE FROM products_by_price WHERE scope = ? AND price = ? AND id = ?",
    "name": "DELETE FROM products_by_name WHERE scope = ? AND name_key = ? AND id = ?",
}


def listing_rows(category: str, price: Decimal, name: str) -> set[ListingRow]:
    rows: set[ListingRow] = set()
    for scope in (category, ALL_PRODUCTS):
        rows.add(("price", scope, price))
        rows.add(("name", scope, name_key(name)))
    return rows


def _to_public(row: Any) -> ProductPublic:
    return ProductPublic(
        id=row.id,
        name=row.name,
        category=row.category,
        price=row.price,
        quantity=row.quantity,
        description=row.description or "",
        manufacturer=row.manufacturer or "",
    )


class ProductRepository:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._audit = AuditLog(database)

    # -- reads

    def get(self, product_id: UUID) -> ProductPublic | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM products WHERE id = ?", (product_id,)).one()
        return _to_public(row) if row is not None else None

    def require(self, product_id: UUID) -> ProductPublic:
        product = self.get(product_id)
        if product is None:
            raise NotFound(f"product {product_id} does not exist")
        return product

    def get_many(self, product_ids: Sequence[UUID]) -> dict[UUID, ProductPublic]:
        """Products by id: one `IN` query per chunk of ids, chunks read concurrently.
        One request for a page of 20 instead of 20 costs the function about a fifth
        of the driver CPU (measured: 0.7 ms vs 3.7 ms, 2.1 ms vs 8.9 ms wall)."""
        ids = list(dict.fromkeys(product_ids))
        chunks = [(ids[start : start + _IN_CHUNK],) for start in range(0, len(ids), _IN_CHUNK)]
        results = self._db.execute_concurrently(f"SELECT {_COLUMNS} FROM products WHERE id IN ?", chunks)
        return {row.id: _to_public(row) for result in results for row in result}

    def categories(self) -> list[CategoryPublic]:
        rows = self._db.execute("SELECT category, products FROM category_counts WHERE shard = ?", ("all",))
        return [CategoryPublic(name=row.category, product_count=row.products) for row in rows if row.products > 0]

    def count(self, scope: str) -> int:
        if scope == ALL_PRODUCTS:
            return sum(category.product_count for category in self.categories())
        row = self._db.execute(
            "SELECT products FROM category_counts WHERE shard = ? AND category = ?", ("all", scope)
        ).one()
        return max(0, row.products) if row is not None else 0

    def list_page(
        self,
        *,
        scope: str,
        sort: SortField,
        order: SortOrder,
        limit: int,
        page: int = 1,
        after: Position | None = None,
    ) -> ProductPage:
        table, key_column = _SORT_TABLES[sort]
        direction = "ASC" if order == "asc" else "DESC"
        ordering = f"ORDER BY {key_column} {direction}, id {direction}"
        if after is not None:
            # Keyset paging: start right after the previous page's last row.
            comparison = ">" if order == "asc" else "<"
            key: Any = Decimal(after.key) if sort == "price" else after.key
            rows = list(
                self._db.execute(
                    f"SELECT {key_column} AS key, id FROM {table} WHERE scope = ? "
                    f"AND ({key_column}, id) {comparison} (?, ?) {ordering} LIMIT ?",
                    (scope, key, after.id, limit + 1),
                )
            )
            page = after.page + 1
        else:
            # Offset paging reads only the small key rows up to the page.
            offset = (page - 1) * limit
            rows = list(
                self._db.execute(
                    f"SELECT {key_column} AS key, id FROM {table} WHERE scope = ? {ordering} LIMIT ?",
                    (scope, offset + limit + 1),
                )
            )[offset:]
        has_more = len(rows) > limit
        rows = rows[:limit]
        products = self.get_many([row.id for row in rows])
        items = [products[row.id] for row in rows if row.id in products]
        next_token = None
        if has_more and rows:
            last = rows[-1]
            next_token = Position(sort, order, scope, str(last.key), last.id, page).encode()
        return ProductPage(items=items, page=page, limit=limit, total=self.count(scope), next_cursor=next_token)

    # -- writes

    @counted("admin_operations_total", operation="create")
    def create_many(self, products: Iterable[ProductCreate], actor: Actor | None = None) -> list[ProductPublic]:
        """Insert products; each with its query-table rows (and its audit record) in one logged batch."""
        created = []
        futures = []
        now = utc_now()
        deltas: dict[str, int] = {}
        for product in products:
            product_id = uuid.uuid4()
            batch = self._batch()
            batch.add(
                self._db.prepare(
                    "INSERT INTO products (id, name, category, price, quantity, description, manufacturer, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                (
                    product_id,
                    product.name,
                    product.category,
                    product.price,
                    product.quantity,
                    product.description,
                    product.manufacturer,
                    now,
                    now,
                ),
            )
            self._write_listing_rows(batch, product_id, add=listing_rows(product.category, product.price, product.name))
            if actor is not None:
                details = product.model_dump(mode="json", include={"name", "category", "price", "quantity"})
                self._audit.add(batch, AuditRecord(actor, "product.created", "product", product_id, details))
            futures.append(self._db.execute_async(batch))
            deltas[product.category] = deltas.get(product.category, 0) + 1
            created.append(ProductPublic(id=product_id, **product.model_dump()))
        for future in futures:
            self._db.result(future)
        self._adjust_counts(deltas)
        return created

    @counted("admin_operations_total", operation="update")
    def update(self, product_id: UUID, change: ProductUpdate, actor: Actor | None = None) -> ProductPublic:
        current = self.require(product_id)
        fields = change.model_dump(exclude_unset=True, exclude={"quantity"})
        merged = current.model_copy(update={key: value for key, value in fields.items() if value is not None})
        batch = self._batch()
        batch.add(
            self._db.prepare(
                "UPDATE products SET name = ?, category = ?, price = ?, description = ?, manufacturer = ?, "
                "updated_at = ? WHERE id = ?"
            ),
            (
                merged.name,
                merged.category,
                merged.price,
                merged.description,
                merged.manufacturer,
                utc_now(),
                product_id,
            ),
        )
        before = listing_rows(current.category, current.price, current.name)
        after = listing_rows(merged.category, merged.price, merged.name)
        self._write_listing_rows(batch, product_id, add=after - before, remove=before - after)
        if actor is not None:
            old, new = current.model_dump(mode="json"), merged.model_dump(mode="json")
            changed = {key: {"from": old[key], "to": new[key]} for key in fields if old[key] != new[key]}
            self._audit.add(batch, AuditRecord(actor, "product.updated", "product", product_id, changed))
        self._db.execute(batch)
        if merged.category != current.category:
            self._adjust_counts({current.category: -1, merged.category: 1})
        if change.quantity is not None:
            quantity = self.change_stock(product_id, StockChange(set=change.quantity), actor)
            merged = merged.model_copy(update={"quantity": quantity})
        return merged

    @counted("admin_operations_total", operation="delete")
    def delete(self, product_id: UUID, actor: Actor | None = None) -> None:
        current = self.require(product_id)
        batch = self._batch()
        batch.add(self._db.prepare("DELETE FROM products WHERE id = ?"), (product_id,))
        self._write_listing_rows(batch, product_id, remove=listing_rows(current.category, current.price, current.name))
        if actor is not None:
            details = current.model_dump(mode="json", include={"name", "category", "price", "quantity"})
            self._audit.add(batch, AuditRecord(actor, "product.deleted", "product", product_id, details))
        self._db.execute(batch)
        self._adjust_counts({current.category: -1})

    # -- stock, by compare-and-set

    def change_stock(self, product_id: UUID, change: StockChange, actor: Actor | None = None) -> int:
        """Set or adjust the stock (an admin's change); returns the new quantity.
        409 when an adjustment would make it negative. The audit record follows
        the compare-and-set (which cannot share a batch with it)."""
        current = self._quantity(product_id)
        for _ in backoff():
            target = change.set if change.set is not None else current + (change.adjust or 0)
            if target < 0:
                raise Conflict(
                    f"stock of product {product_id} is {current}; cannot adjust by {change.adjust}",
                    details={"product_id": str(product_id), "quantity": current},
                )
            before = current
            applied, current = self._compare_and_set(product_id, current, target)
            if applied:
                if actor is not None:
                    details = {"from": before, "to": target}
                    self._audit.write(AuditRecord(actor, "product.stock_changed", "product", product_id, details))
                return target
        raise Conflict(f"stock of product {product_id} is changing too often; retry")

    def reserve(self, product_id: UUID, units: int, *, order_id: UUID) -> bool:
        """Take `units` from stock for an order, once: the movement
        `reserve:<order>` is written with the quantity, so a retry (or a replay
        after an unknown outcome) finds it and takes nothing more. False when
        not enough is in stock."""
        return self._move(product_id, -units, reserve_key(order_id))

    def release(self, product_id: UUID, units: int, *, order_id: UUID) -> bool:
        """Give back what `reserve` took for the order, once: True when given back
        (now, or before: a repeat changes nothing); False when nothing was taken
        (the reservation never happened) or the product is gone."""
        try:
            return self._move(product_id, units, release_key(order_id), requires=(reserve_key(order_id), -units))
        except NotFound:
            return False

    def _move(self, product_id: UUID, delta: int, key: str, requires: tuple[str, int] | None = None) -> bool:
        """One stock movement, by compare-and-set on the quantity together with
        its movement key. True when applied now or before; False when `requires`
        is missing or the stock is short."""
        condition = "IF quantity = ? AND stock_movements[?] = null"
        if requires is not None:
            condition += " AND stock_movements[?] = ?"
        change = self._db.prepare(f"UPDATE products SET quantity = ? WHERE id = ? {condition}")
        note = self._db.prepare("UPDATE products USING TTL ? SET stock_movements[?] = ? WHERE id = ?")
        current, movements = self._stock(product_id)
        for _ in backoff():
            if key in movements:
                return True  # applied before (a retry, or an unknown outcome that had applied)
            if requires is not None and movements.get(requires[0]) != requires[1]:
                return False
            if current + delta < 0:
                return False
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)  # one partition: a conditional batch
            extra = requires if requires is not None else ()
            batch.add(change, (current + delta, product_id, current, key, *extra))
            batch.add(note, (MOVEMENT_TTL_SECONDS, key, delta, product_id))
            try:
                result = self._db.execute(batch)
            except CassandraUnavailable as error:
                if not outcome_unknown(error):
                    raise
                current, movements = self._stock(product_id, serial=True)  # did it apply? read it back
                continue
            if result.was_applied:
                return True
            row = result.one()
            if getattr(row, "quantity", None) is None:
                raise NotFound(f"product {product_id} does not exist")
            current, movements = int(row.quantity), dict(row.stock_movements or {})
        raise Conflict(f"stock of product {product_id} is changing too often; retry")

    def _stock(self, product_id: UUID, *, serial: bool = False) -> tuple[int, dict[str, int]]:
        row = self._db.execute(
            "SELECT quantity, stock_movements FROM products WHERE id = ?", (product_id,), serial=serial
        ).one()
        if row is None:
            raise NotFound(f"product {product_id} does not exist")
        return int(row.quantity), dict(row.stock_movements or {})

    def _quantity(self, product_id: UUID) -> int:
        # A plain read may be stale; the compare-and-set below catches that.
        row = self._db.execute("SELECT quantity FROM products WHERE id = ?", (product_id,)).one()
        if row is None:
            raise NotFound(f"product {product_id} does not exist")
        return int(row.quantity)

    def _compare_and_set(self, product_id: UUID, expected: int, target: int) -> tuple[bool, int]:
        """One lightweight transaction; returns (applied, quantity now)."""
        result = self._db.execute(
            "UPDATE products SET quantity = ? WHERE id = ? IF quantity = ?", (target, product_id, expected)
        )
        if result.was_applied:
            return True, target
        row = result.one()
        if getattr(row, "quantity", None) is None:
            raise NotFound(f"product {product_id} does not exist")
        return False, int(row.quantity)

    # -- helpers

    def _batch(self) -> BatchStatement:
        return BatchStatement(batch_type=BatchType.LOGGED)

    def _write_listing_rows(
        self,
        batch: BatchStatement,
        product_id: UUID,
        *,
        add: AbstractSet[ListingRow] = frozenset(),
        remove: AbstractSet[ListingRow] = frozenset(),
    ) -> None:
        # A delete and an insert of the same row in one batch share a timestamp,
        # and then the delete wins: callers pass only rows that really change.
        for table, scope, key in sorted(remove, key=str):
            batch.add(self._db.prepare(_DELETE_LISTING[table]), (scope, key, product_id))
        for table, scope, key in sorted(add, key=str):
            batch.add(self._db.prepare(_INSERT_LISTING[table]), (scope, key, product_id))

    def _adjust_counts(self, deltas: dict[str, int]) -> None:
        # Counters cannot join a logged batch with other writes; they follow it.
        for category, delta in deltas.items():
            if delta:
                self._db.execute(
                    "UPDATE category_counts SET products = products + ? WHERE shard = ? AND category = ?",
                    (delta, "all", category),
                )
