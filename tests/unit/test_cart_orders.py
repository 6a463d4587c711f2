"""Pure logic of carts, checkout planning, order statuses and the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from cassandra import OperationTimedOut, Unavailable, WriteTimeout, WriteType

from fakes import product as new_product
from store.cart import CartLine, find_line, price_lines
from store.catalog import ProductPublic
from store.checkout import _bucket, new_order, order_created_event, plan_checkout
from store.clock import to_ms
from store.db import CassandraUnavailable, outcome_unknown
from store.errors import BadRequest, Conflict
from store.events import DomainEvent
from store.orders import (
    STATUSES,
    TRANSITIONS,
    Cursor,
    OrderItem,
    OrderStatus,
    check_cancel,
    check_transition,
    is_legal,
    order_total,
)
from store.outbox import BUCKETS, bucket_of
from store.paging import encode_cursor


def _line(product: ProductPublic, quantity: int) -> CartLine:
    return CartLine(item_id=uuid.uuid4(), product_id=product.id, quantity=quantity)


# ---------------------------------------------------------------- cart


def test_cart_totals_use_current_prices_and_skip_vanished_products() -> None:
    tea, cake = new_product(price="2.50"), new_product(price="10.00", name="Cake")
    gone = uuid.uuid4()
    lines = [_line(tea, 3), _line(cake, 1), CartLine(uuid.uuid4(), gone, 2)]
    cart = price_lines(uuid.uuid4(), lines, {tea.id: tea, cake.id: cake})
    assert [item.total_price for item in cart.items] == [Decimal("7.50"), Decimal("10.00")]
    assert cart.total == Decimal("17.50")
    assert cart.items_count == 4


def test_an_empty_cart_totals_zero() -> None:
    cart = price_lines(uuid.uuid4(), [], {})
    assert (cart.items, cart.total, cart.items_count) == ([], Decimal("0.00"), 0)


def test_a_line_is_found_by_item_id_or_product_id() -> None:
    tea = new_product()
    line = _line(tea, 1)
    assert find_line([line], line.item_id) == line
    assert find_line([line], tea.id) == line
    assert find_line([line], uuid.uuid4()) is None


# ---------------------------------------------------------------- checkout planning


def test_checkout_of_an_empty_cart_is_400() -> None:
    with pytest.raises(BadRequest):
        plan_checkout([], {})


def test_checkout_plan_names_every_short_or_missingnew_product() -> None:
    tea, cake = new_product(quantity=1, name="Tea"), new_product(quantity=5, name="Cake")
    missing = uuid.uuid4()
    lines = [_line(tea, 2), _line(cake, 5), CartLine(uuid.uuid4(), missing, 1)]
    with pytest.raises(Conflict) as raised:
        plan_checkout(lines, {tea.id: tea, cake.id: cake})
    shortages = raised.value.details["products"]
    assert {item["product_id"] for item in shortages} == {str(tea.id), str(missing)}
    assert "Tea" in raised.value.message


def test_checkout_plan_prices_the_lines() -> None:
    tea, cake = new_product(price="2.50"), new_product(price="10.00")
    items = plan_checkout([_line(tea, 2), _line(cake, 1)], {tea.id: tea, cake.id: cake})
    assert order_total(items) == Decimal("15.00")
    assert {(item.product_id, item.quantity) for item in items} == {(tea.id, 2), (cake.id, 1)}


def test_a_new_order_is_created_with_its_history_and_event() -> None:
    tea = new_product()
    items = [OrderItem(product_id=tea.id, name=tea.name, price=tea.price, quantity=2)]
    order = new_order(uuid.uuid4(), items, datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC))
    assert order.status == "CREATED"
    assert order.created_at.microsecond == 678000  # milliseconds, as Cassandra keeps them
    assert [change.status for change in order.status_history] == ["CREATED"]
    event = order_created_event(order)
    assert (event.type, event.order_id, event.user_id) == ("OrderCreated", order.id, order.user_id)
    assert event.payload["order"]["total"] == "5.00"


@pytest.mark.parametrize(
    ("value", "bucket"), [(0, "le_10"), (10, "le_10"), (10.01, "le_50"), (999, "le_1000"), (5000, "gt_1000")]
)
def test_cart_value_buckets_are_the_seeds(value: float, bucket: str) -> None:
    assert _bucket(value, (10, 50, 100, 200, 500, 1000)) == bucket


# ---------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("CREATED", "PROCESSING"),
        ("PROCESSING", "SHIPPING"),
        ("SHIPPING", "DELIVERED"),
        ("CREATED", "CANCELLED"),
        ("PROCESSING", "CANCELLED"),
        ("SHIPPING", "CANCELLED"),
    ],
)
def test_legal_transitions(current: OrderStatus, target: OrderStatus) -> None:
    assert is_legal(current, target)
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("CREATED", "SHIPPING"),
        ("CREATED", "DELIVERED"),
        ("PROCESSING", "CREATED"),
        ("SHIPPING", "PROCESSING"),
        ("DELIVERED", "CANCELLED"),
        ("CANCELLED", "CREATED"),
        ("DELIVERED", "DELIVERED"),
    ],
)
def test_illegal_transitions_are_409(current: OrderStatus, target: OrderStatus) -> None:
    assert not is_legal(current, target)
    with pytest.raises(Conflict):
        check_transition(current, target)


def test_every_status_has_its_transitions() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert not TRANSITIONS["DELIVERED"]
    assert not TRANSITIONS["CANCELLED"]


@pytest.mark.parametrize(
    ("status", "by_user", "by_admin"),
    [
        ("CREATED", True, True),
        ("PROCESSING", True, True),
        ("SHIPPING", False, True),
        ("DELIVERED", False, False),
        ("CANCELLED", False, False),
    ],
)
def test_who_may_cancel_when(status: OrderStatus, by_user: bool, by_admin: bool) -> None:
    for admin, allowed in ((False, by_user), (True, by_admin)):
        if allowed:
            check_cancel(status, by_admin=admin)
        else:
            with pytest.raises(Conflict):
                check_cancel(status, by_admin=admin)


# ---------------------------------------------------------------- cursors and outbox


def test_order_cursor_round_trips_and_rejects_garbage() -> None:
    cursor = Cursor(to_ms(datetime.now(UTC)), uuid.uuid4())
    assert Cursor.decode(cursor.encode()) == cursor
    with pytest.raises(BadRequest):
        Cursor.decode("garbage")


def test_outbox_buckets_are_stable_and_in_range() -> None:
    event_id = UUID("12345678-1234-5678-1234-567812345678")
    assert bucket_of(event_id) == bucket_of(UUID(str(event_id)))
    assert {bucket_of(uuid.uuid4()) for _ in range(2000)} == set(range(BUCKETS))


def test_status_events_fit_the_envelope() -> None:
    event = DomainEvent(type="OrderStatusChanged", order_id=uuid.uuid4(), user_id=uuid.uuid4(), payload={})
    assert event.sns_attributes() == {"event_type": {"DataType": "String", "StringValue": "OrderStatusChanged"}}


def _wrapped(error: Exception) -> CassandraUnavailable:
    try:
        raise CassandraUnavailable(str(error)) from error
    except CassandraUnavailable as wrapped:
        return wrapped


def test_a_timed_out_write_has_an_unknown_outcome_a_refused_one_did_not_apply() -> None:
    assert outcome_unknown(_wrapped(WriteTimeout("t", write_type=WriteType.BATCH)))
    assert outcome_unknown(_wrapped(WriteTimeout("t", write_type=WriteType.CAS)))
    assert outcome_unknown(_wrapped(OperationTimedOut("client gave up")))
    assert not outcome_unknown(_wrapped(WriteTimeout("t", write_type=WriteType.BATCH_LOG)))
    assert not outcome_unknown(_wrapped(Unavailable("no replica")))
    assert not outcome_unknown(_wrapped(ConnectionError("down")))
    assert not outcome_unknown(KeyboardInterrupt())


@pytest.mark.parametrize(
    "created_at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "1969-12-31T23:59:59+00:00", "NaN"]
)
def test_an_order_cursor_at_an_impossible_time_is_400(created_at: str) -> None:
    cursor = encode_cursor({"c": created_at, "i": str(uuid.uuid4())})
    with pytest.raises(BadRequest):
        Cursor.decode(cursor)
