"""The user profile: the user, their cart, their orders, statistics and recent
notifications, gathered from independent sources in parallel. A source that fails or is slow
(over `timeout`) is left out and named in `unavailable`, and the statistics
that need it are null: the rest of the profile is still answered."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID

from pybreaker import CircuitBreaker
from pydantic import BaseModel, Field

from store.breakers import CircuitBreakerError, breaker
from store.cart import CartPublic, CartRepository
from store.db import CassandraUnavailable
from store.notifications import NotificationInbox, NotificationPublic
from store.observability import count, logger, timed
from store.order_payments import OrderPayments
from store.orders import OrderPublic, OrderRepository
from store.ports import LifetimeRecords
from store.users import UserPublic

Source = Literal["cart", "orders", "lifetime", "notifications"]
SOURCES: tuple[Source, ...] = ("cart", "orders", "lifetime", "notifications")
PROFILE_ORDERS = 100
PROFILE_NOTIFICATIONS = 10
DEFAULT_TIMEOUT = 3.0


class Lifetime(BaseModel):
    """Delivered orders, kept after they are purged from the active views."""

    orders: dict[UUID, Decimal]
    last_order_date: datetime | None


class Statistics(BaseModel):
    total_orders: int | None
    cart_items_count: int | None
    cart_total_value: Decimal | None
    total_spent: Decimal | None
    last_order_date: datetime | None


class ProfilePublic(BaseModel):
    user: UserPublic
    cart: CartPublic | None
    orders: list[OrderPublic] | None
    statistics: Statistics
    notifications: list[NotificationPublic] | None = Field(description=f"the newest {PROFILE_NOTIFICATIONS}")
    unavailable: list[Source]


class ProfileSources(Protocol):
    def cart(self, user_id: UUID) -> CartPublic: ...

    def orders(self, user_id: UUID) -> list[OrderPublic]: ...

    def lifetime(self, user_id: UUID) -> Lifetime: ...

    def notifications(self, user_id: UUID) -> list[NotificationPublic]: ...


class DatabaseSources:
    """The profile's sources, each read from its own tables."""

    def __init__(
        self,
        carts: CartRepository,
        orders: OrderRepository,
        lifetime: LifetimeRecords,
        inbox: NotificationInbox,
        payments: OrderPayments,
    ) -> None:
        self._carts = carts
        self._orders = orders
        self._lifetime = lifetime
        self._inbox = inbox
        self._payments = payments

    def cart(self, user_id: UUID) -> CartPublic:
        return self._carts.show(user_id)

    def orders(self, user_id: UUID) -> list[OrderPublic]:
        return self._payments.attach_all(self._orders.list_for_user(user_id, limit=PROFILE_ORDERS).items)

    def lifetime(self, user_id: UUID) -> Lifetime:
        totals, last = self._lifetime.of(user_id)
        return Lifetime(orders=totals, last_order_date=last)

    def notifications(self, user_id: UUID) -> list[NotificationPublic]:
        return self._inbox.page(user_id, PROFILE_NOTIFICATIONS).items


# What a dead source raises (the database wraps the driver's errors): only these open a breaker.
SOURCE_OUTAGES: tuple[type[BaseException], ...] = (CassandraUnavailable, ConnectionError, TimeoutError)


def _source_breaker(name: str) -> CircuitBreaker:
    return breaker(name, outages=SOURCE_OUTAGES)


class GuardedSources:
    """Each source behind its own circuit breaker (`profile_cart`, `profile_orders`,
    `profile_lifetime`, `profile_notifications`): a dead source is answered as unavailable at once, not
    called (and waited for) on every request."""

    def __init__(self, sources: ProfileSources, breakers: Callable[[str], CircuitBreaker] = _source_breaker) -> None:
        self._sources = sources
        self._breakers = breakers

    def cart(self, user_id: UUID) -> CartPublic:
        return self._breakers("profile_cart").call(self._sources.cart, user_id)

    def orders(self, user_id: UUID) -> list[OrderPublic]:
        return self._breakers("profile_orders").call(self._sources.orders, user_id)

    def lifetime(self, user_id: UUID) -> Lifetime:
        return self._breakers("profile_lifetime").call(self._sources.lifetime, user_id)

    def notifications(self, user_id: UUID) -> list[NotificationPublic]:
        return self._breakers("profile_notifications").call(self._sources.notifications, user_id)


# Threads for the sources: shared by the requests of one process.
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="profile")


@timed("profile_aggregation_seconds")
def build_profile(user: UserPublic, sources: ProfileSources, timeout: float = DEFAULT_TIMEOUT) -> ProfilePublic:
    futures: dict[Source, Future[Any]] = {
        "cart": _POOL.submit(sources.cart, user.id),
        "orders": _POOL.submit(sources.orders, user.id),
        "lifetime": _POOL.submit(sources.lifetime, user.id),
        "notifications": _POOL.submit(sources.notifications, user.id),
    }
    deadline = time.monotonic() + timeout
    results: dict[Source, Any] = {}
    unavailable: list[Source] = []
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            unavailable.append(name)
            logger.warning("profile source timed out", extra={"source": name})
        except CircuitBreakerError:
            unavailable.append(name)
            logger.info("profile source skipped: its circuit is open", extra={"source": name})
        except Exception as error:
            unavailable.append(name)
            logger.warning("profile source failed", extra={"source": name, "error": repr(error)})
    for name in unavailable:
        count("profile_source_unavailable_total", source=name)
    cart: CartPublic | None = results.get("cart")
    orders: list[OrderPublic] | None = results.get("orders")
    lifetime: Lifetime | None = results.get("lifetime")
    return ProfilePublic(
        user=user,
        cart=cart,
        orders=orders,
        statistics=statistics(cart, orders, lifetime),
        notifications=results.get("notifications"),
        unavailable=unavailable,
    )


def statistics(cart: CartPublic | None, orders: list[OrderPublic] | None, lifetime: Lifetime | None) -> Statistics:
    """Each figure is null when a source it needs is unavailable. Orders count
    once whether active, purged (lifetime) or both; cancelled orders are not spent."""
    total_orders = total_spent = last = None
    if orders is not None and lifetime is not None:
        spent = dict(lifetime.orders)
        spent.update({order.id: order.total for order in orders if order.status != "CANCELLED"})
        total_orders = len({order.id for order in orders} | set(lifetime.orders))
        total_spent = sum(spent.values(), Decimal("0.00"))
        dates = [order.created_at for order in orders]
        if lifetime.last_order_date is not None:
            dates.append(lifetime.last_order_date.astimezone(UTC))
        last = max(dates, default=None)
    return Statistics(
        total_orders=total_orders,
        cart_items_count=cart.items_count if cart is not None else None,
        cart_total_value=cart.total if cart is not None else None,
        total_spent=total_spent,
        last_order_date=last,
    )
