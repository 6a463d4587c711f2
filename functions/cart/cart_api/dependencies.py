"""FastAPI dependencies of the cart routes (overridable in tests)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends

from store.cart import CartRepository, RecentViews
from store.checkout import Checkout
from store.config import get_settings
from store.db import Database, get_database
from store.outbox import OutboxRelay, relay_for


@lru_cache(maxsize=1)
def _relay() -> OutboxRelay | None:
    # One SNS client per process: creating it costs more than a publish.
    return relay_for(get_database(), get_settings())


def _carts(database: Annotated[Database, Depends(get_database)]) -> CartRepository:
    return CartRepository(database)


def _views(database: Annotated[Database, Depends(get_database)]) -> RecentViews:
    return RecentViews(database)


def _checkout(database: Annotated[Database, Depends(get_database)]) -> Checkout:
    return Checkout(database, _relay())


Carts = Annotated[CartRepository, Depends(_carts)]
Views = Annotated[RecentViews, Depends(_views)]
CheckoutService = Annotated[Checkout, Depends(_checkout)]
