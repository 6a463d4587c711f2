"""FastAPI dependencies of the cart routes: the collaborators from the store's
wiring (overridable in tests with `app.dependency_overrides`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from store.cart import CartRepository, RecentViews
from store.checkout import Checkout
from store.idempotency import CassandraIdempotencyStore
from store.wiring import wiring


def _carts() -> CartRepository:
    return wiring().carts


def _recent_views() -> RecentViews:
    return wiring().recent_views


def _checkout() -> Checkout:
    return wiring().checkout


def _idempotency_store() -> CassandraIdempotencyStore:
    return wiring().idempotency_store


CartsDep = Annotated[CartRepository, Depends(_carts)]
RecentViewsDep = Annotated[RecentViews, Depends(_recent_views)]
CheckoutDep = Annotated[Checkout, Depends(_checkout)]
IdempotencyStoreDep = Annotated[CassandraIdempotencyStore, Depends(_idempotency_store)]
