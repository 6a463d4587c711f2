"""The profile's aggregation and degradation, with sources in memory."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pybreaker
import pytest

from store.breakers import breaker as breaker_for
from store.breakers import reset_breakers
from store.cart import CartPublic
from store.config import Settings
from store.notifications import NotificationPublic
from store.orders import OrderPublic, StatusChange
from store.profile import GuardedSources, Lifetime, build_profile
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


class MeetingSources(Sources):
    """Each source waits until all four have started: they can only meet if they
    run in parallel (one after another, the first would wait in vain)."""

    def __init__(self) -> None:
        super().__init__()
        self.meeting = threading.Barrier(4, timeout=5)

    def _maybe_fail(self, name: str) -> None:
        self.meeting.wait()


def test_sources_run_in_parallel_and_a_slow_one_times_out() -> None:
    assert build_profile(USER, MeetingSources()).unavailable == []
    profile = build_profile(USER, Sources(slow=0.3), timeout=0.1)
    assert sorted(profile.unavailable) == ["cart", "lifetime", "notifications", "orders"]


def test_recent_notifications_are_a_source_of_their_own() -> None:
    assert [n.message for n in build_profile(USER, Sources()).notifications or []] == ["hi"]
    profile = build_profile(USER, Sources(down="notifications"))
    assert profile.unavailable == ["notifications"]
    assert profile.notifications is None
    assert profile.statistics.total_orders == 3  # no figure needs the notifications


class CountingSources(Sources):
    """Counts the calls that reach each source."""

    def __init__(self, *, down: str = "") -> None:
        super().__init__(down=down)
        self.calls: Counter[str] = Counter()

    def _maybe_fail(self, name: str) -> None:
        self.calls[name] += 1
        super()._maybe_fail(name)


def test_a_dead_source_is_no_longer_called_once_its_breaker_opens_and_is_again_when_it_recovers() -> None:
    breakers: dict[str, pybreaker.CircuitBreaker] = {}

    def breaker(name: str) -> pybreaker.CircuitBreaker:
        if name not in breakers:
            breakers[name] = pybreaker.CircuitBreaker(fail_max=3, reset_timeout=0.2, name=name)
        return breakers[name]

    raw = CountingSources(down="orders")
    sources = GuardedSources(raw, breaker)
    for _ in range(10):
        assert build_profile(USER, sources).unavailable == ["orders"]
    assert raw.calls["orders"] == 3  # then the open breaker answers for it
    assert raw.calls["cart"] == 10
    assert breakers["profile_orders"].current_state == "open"
    assert breakers["profile_cart"].current_state == "closed"

    raw.down = ""  # the source is back; after the reset timeout a trial call closes the breaker
    assert build_profile(USER, sources).unavailable == ["orders"]
    time.sleep(0.25)
    assert build_profile(USER, sources).unavailable == []
    assert breakers["profile_orders"].current_state == "closed"
    assert raw.calls["orders"] == 4


def test_each_transition_is_logged_and_measured(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    reset_breakers()
    capsys.readouterr()
    settings = Settings(breaker_fail_max=1, breaker_reset_seconds=0.1)
    guarded = breaker_for("unit_test", settings)
    with pytest.raises(pybreaker.CircuitBreakerError):
        guarded.call(_fail)
    time.sleep(0.15)
    assert guarded.call(lambda: 7) == 7
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    logged = [record.getMessage() for record in caplog.records]
    assert "circuit breaker unit_test: closed -> open" in logged
    assert "circuit breaker unit_test: open -> half-open" in logged
    assert "circuit breaker unit_test: half-open -> closed" in logged
    states = [line["circuit_breaker_state"] for line in lines if "circuit_breaker_state" in line]
    assert states == [[2.0], [1.0], [0.0]]  # open, half-open, closed
    reset_breakers()


def _fail() -> None:
    raise ConnectionError("down")


def test_only_outages_open_a_breaker() -> None:
    reset_breakers()
    settings = Settings(breaker_fail_max=2, breaker_reset_seconds=60)
    guarded = breaker_for("unit_outages", settings, outages=(ConnectionError,))

    def bug() -> None:
        raise ValueError("one bad record")

    for _ in range(5):
        with pytest.raises(ValueError, match="bad record"):
            guarded.call(bug)
    assert guarded.current_state == "closed"
    for _ in range(2):
        with pytest.raises((ConnectionError, pybreaker.CircuitBreakerError)):
            guarded.call(_fail)
    assert guarded.current_state == "open"
    reset_breakers()
