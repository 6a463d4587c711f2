"""Popular products: the units ordered over the last days, overall or in one
category (the seeds' 60 s TTL cache of popular products).

Each checkout adds its lines to `product_sales_by_day` (counters per day,
category and product) right after the order is written. Counters cannot join
the order's logged batch and are not idempotent, so this is best effort: an
increment that fails is logged and lost (popularity is a ranking, not a
ledger), and a replayed checkout (same Idempotency-Key) never counts twice
because a replay does not run the checkout again.

Answers are cached per function worker for 60 s (cachetools TTLCache); each
lookup counts as `popular_products_cache_total{result="hit"|"miss"}`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Protocol
from uuid import UUID

from cachetools import TTLCache
from pydantic import BaseModel, ConfigDict, Field

from store.catalog import Category, ProductPublic
from store.clock import utc_now
from store.db import Database
from store.observability import count, logger
from store.orders import OrderPublic

CACHE_SECONDS = 60
MAX_DAYS = 30
MAX_LIMIT = 50


class PopularQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Annotated[Category | None, Field(description="one category; all when absent")] = None
    days: Annotated[int, Field(ge=1, le=MAX_DAYS, description="the window: today and the days before")] = 7
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 10


class PopularProduct(BaseModel):
    product: ProductPublic
    units_ordered: int


class PopularPublic(BaseModel):
    category: str | None
    days: int
    since: date = Field(description="the first day counted (UTC)")
    items: list[PopularProduct]


class SalesCounter(Protocol):
    def record(self, order: OrderPublic, categories: Mapping[UUID, str]) -> None: ...


class SalesReader(Protocol):
    def units(self, days: list[date], category: str | None) -> Counter[UUID]: ...


class ProductLookup(Protocol):
    def get_many(self, product_ids: list[UUID]) -> dict[UUID, ProductPublic]: ...


class ProductSales:
    """`product_sales_by_day` in Cassandra."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record(self, order: OrderPublic, categories: Mapping[UUID, str]) -> None:
        day = order.created_at.date()
        statement = self._db.prepare(
            "UPDATE product_sales_by_day SET units = units + ? WHERE day = ? AND category = ? AND product_id = ?"
        )
        futures = [
            self._db.execute_async(statement, (item.quantity, day, categories[item.product_id], item.product_id))
            for item in order.items
            if item.product_id in categories
        ]
        for future in futures:
            self._db.result(future)

    def units(self, days: list[date], category: str | None) -> Counter[UUID]:
        params: list[tuple[object, ...]]
        if category is None:
            cql, params = "SELECT product_id, units FROM product_sales_by_day WHERE day = ?", [(day,) for day in days]
        else:
            cql = "SELECT product_id, units FROM product_sales_by_day WHERE day = ? AND category = ?"
            params = [(day, category) for day in days]
        totals: Counter[UUID] = Counter()
        for rows in self._db.execute_concurrently(cql, params):
            for row in rows:
                totals[row.product_id] += row.units
        return totals


def record_sales(sales: SalesCounter | None, order: OrderPublic, products: Mapping[UUID, ProductPublic]) -> None:
    """Count an order's lines; never fails the caller (the order is made)."""
    if sales is None:
        return
    try:
        sales.record(order, {product_id: product.category for product_id, product in products.items()})
    except Exception as error:
        count("popular_products_record_failures_total")
        logger.warning("order not counted in popular products", extra={"order_id": str(order.id), "error": repr(error)})


class PopularProducts:
    """The ranking, cached per process for `ttl` seconds."""

    def __init__(
        self,
        sales: SalesReader,
        products: ProductLookup,
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], datetime] = utc_now,
        timer: Callable[[], float] | None = None,  # the cache's clock (tests move it)
    ) -> None:
        self._sales = sales
        self._products = products
        self._clock = clock
        self._cache: TTLCache[tuple[str | None, int, int], PopularPublic] = TTLCache(
            maxsize=256, ttl=ttl, timer=timer or time.monotonic
        )
        # TTLCache is not thread-safe; FastAPI runs sync routes in a thread pool.
        self._lock = threading.Lock()

    def top(self, query: PopularQuery) -> tuple[PopularPublic, bool]:
        """The ranking and whether it came from the cache."""
        key = (query.category, query.days, query.limit)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            count("popular_products_cache_total", result="hit")
            return cached, True
        count("popular_products_cache_total", result="miss")
        answer = self._compute(query)
        with self._lock:
            self._cache[key] = answer
        return answer, False

    def _compute(self, query: PopularQuery) -> PopularPublic:
        today = self._clock().date()
        days = [today - timedelta(days=back) for back in range(query.days)]
        units = self._sales.units(days, query.category)
        # Deleted products drop out; ties go to the product id, so the order is stable.
        ranked = sorted(units.items(), key=lambda pair: (-pair[1], str(pair[0])))
        wanted = [product_id for product_id, _ in ranked[: query.limit * 2]]
        found = self._products.get_many(wanted)
        items = [
            PopularProduct(product=found[product_id], units_ordered=sold)
            for product_id, sold in ranked
            if product_id in found
        ][: query.limit]
        return PopularPublic(category=query.category, days=query.days, since=days[-1], items=items)
