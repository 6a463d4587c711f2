"""The profile's aggregation and degradation, with sources in memory."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from store.cart import CartPublic
from store.notifications import NotificationPublic
from store.orders import OrderPublic, StatusChange
from store.profile import Lifetime, build_profile
from store.users import UserPublic

NOW = datetime(2026, 1, 2, tzinfo=UTC)
USER = UserPublic(id=uuid.uuid4(), username="ann", email=None, full_name=None, phone=None, role="user", created_at=NOW)


def _order(total: str, status: str = "CREATED", created_at: datetime = NOW) -> OrderPublic:
    change = StatusChange(status="CREATED", changed_at=created_at, changed_by="user")
    return OrderPublic(
        id=uuid.uuid4(),
        user_id=USER.id,
        items=[],
        total=Decimal(total),
        status=status,
        created_at=created_at,
        updated_at=created_at,
        status_history=[change],
    )


class Sources:
    def __init__(self, *, down: str = "", slow: float = 0.0) -> None:
        self.down = down
        self.slow = slow
        self.active = [_order("5.00"), _order("9.00", "CANCELLED")]
        self.purged = uuid.uuid4()

    def _maybe_fail(self, name: str) -> None:
        time.sleep(self.slow)
        if name == self.down:
            raise ConnectionError(name)

    def cart(self, user_id: uuid.UUID) -> CartPublic:
        self._maybe_fail("cart")
        return CartPublic(user_id=user_id, items=[], total=Decimal("2.50"), items_count=2)

    def orders(self, user_id: uuid.UUID) -> list[OrderPublic]:
        self._maybe_fail("orders")
        return self.active

    def lifetime(self, user_id: uuid.UUID) -> Lifetime:
        self._maybe_fail("lifetime")
        return Lifetime(orders={self.purged: Decimal("10.00")}, last_order_date=NOW - timedelta(days=3))

    def notifications(self, user_id: uuid.UUID) -> list[NotificationPublic]:
        self._maybe_fail("notifications")
        return [
            NotificationPublic(
                event_id=uuid.uuid4(), event_type="OrderCreated", order_id=uuid.uuid4(), message="hi", created_at=NOW
            )
        ]


def test_everything_available() -> None:
    profile = build_profile(USER, Sources())
    assert profile.unavailable == []
    stats = profile.statistics
    assert (stats.total_orders, stats.total_spent) == (3, Decimal("15.00"))  # the cancelled one is not spent
    assert (stats.cart_items_count, stats.cart_total_value) == (2, Decimal("2.50"))
    assert stats.last_order_date == NOW


def test_a_failing_source_is_named_and_only_its_figures_are_null() -> None:
    profile = build_profile(USER, Sources(down="lifetime"))
    assert profile.unavailable == ["lifetime"]
    assert profile.cart is not None
    assert profile.orders is not None
    assert (profile.statistics.total_orders, profile.statistics.total_spent) == (None, None)
    assert profile.statistics.cart_items_count == 2


def test_sources_run_in_parallel_and_a_slow_one_times_out() -> None:
    started = time.monotonic()
    build_profile(USER, Sources(slow=0.2))
    assert time.monotonic() - started < 0.5  # four sources of 0.2 s each, together
    profile = build_profile(USER, Sources(slow=0.3), timeout=0.1)
    assert sorted(profile.unavailable) == ["cart", "lifetime", "notifications", "orders"]


def test_recent_notifications_are_a_source_of_their_own() -> None:
    assert [n.message for n in build_profile(USER, Sources()).notifications or []] == ["hi"]
    profile = build_profile(USER, Sources(down="notifications"))
    assert profile.unavailable == ["notifications"]
    assert profile.notifications is None
    assert profile.statistics.total_orders == 3  # no figure needs the notifications
