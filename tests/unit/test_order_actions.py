"""Order actions with in-memory collaborators: who may cancel, legal admin
transitions, the side effects of a cancel, and each collaborator failing."""

from __future__ import annotations

import uuid
from decimal import Decimal
from uuid import UUID

import pytest

from fakes import World
from store.checkout import CheckoutCreate
from store.db import CassandraUnavailable
from store.errors import Conflict, NotFound
from store.orders import OrderPublic, OrderStatusUpdate

OWNER = uuid.uuid4()
STRANGER = uuid.uuid4()


@pytest.fixture
def world() -> World:
    return World()


def _order(world: World, *, stock: int = 5, units: int = 2, authorized: bool = True) -> tuple[OrderPublic, UUID]:
    product = world.products.add(stock)
    world.carts.put(OWNER, product.id, units)
    order = world.checkout.run(OWNER, CheckoutCreate())
    if authorized:
        world.payments.authorize(order.id, order.user_id, order.total)
    world.publisher.published.clear()
    world.faults.calls.clear()
    return order, product.id


def _status_events(world: World, order_id: UUID) -> list[str]:
    return [e.payload["status"] for e in world.events_of(order_id) if e.type == "OrderStatusChanged"]


def test_the_owner_cancels_stock_back_refund_execution_stopped_event_published(world: World) -> None:
    order, product = _order(world)
    cancelled = world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason="changed my mind")
    assert cancelled.status == "CANCELLED"
    assert cancelled.status_history[-1].reason == "changed my mind"
    assert world.products.stock(product) == 5
    assert world.provider.refunds == [order.id]
    assert world.control.stopped == [order.id]
    assert _status_events(world, order.id) == ["CANCELLED"]
    assert len(world.publisher.published) == 1


def test_someone_elses_order_is_404_and_untouched(world: World) -> None:
    order, product = _order(world)
    with pytest.raises(NotFound):
        world.actions.cancel(order.id, user_id=STRANGER, is_admin=False, reason=None)
    assert world.orders.items[order.id].status == "CREATED"
    assert world.products.stock(product) == 3


@pytest.mark.parametrize(("is_admin", "allowed"), [(False, False), (True, True)])
def test_a_shipping_order_is_cancelled_only_by_an_admin(world: World, is_admin: bool, allowed: bool) -> None:
    order, product = _order(world)
    for status in ("PROCESSING", "SHIPPING"):
        world.actions.set_status(order.id, OrderStatusUpdate(status=status))
    if allowed:
        assert world.actions.cancel(order.id, user_id=OWNER, is_admin=is_admin, reason=None).status == "CANCELLED"
        assert world.products.stock(product) == 5
    else:
        with pytest.raises(Conflict):
            world.actions.cancel(order.id, user_id=OWNER, is_admin=is_admin, reason=None)
        assert world.products.stock(product) == 3


def test_admin_transitions_are_only_the_legal_ones(world: World) -> None:
    order, _ = _order(world)
    with pytest.raises(Conflict) as raised:
        world.actions.set_status(order.id, OrderStatusUpdate(status="DELIVERED"))
    assert raised.value.details["allowed"] == ["CANCELLED", "PROCESSING"]
    assert world.actions.set_status(order.id, OrderStatusUpdate(status="PROCESSING")).status == "PROCESSING"
    assert _status_events(world, order.id) == ["PROCESSING"]


def test_of_two_changes_from_one_status_only_one_applies(world: World) -> None:
    order, product = _order(world)
    world.actions.move(order, "CANCELLED", "user", None)
    with pytest.raises(Conflict):
        world.actions.move(order, "CANCELLED", "admin", None)  # the same stale view of the order
    assert world.products.stock(product) == 5  # released once
    assert world.provider.refunds == [order.id]
    assert _status_events(world, order.id) == ["CANCELLED"]


def test_a_failed_compare_and_set_has_no_side_effects(world: World) -> None:
    order, product = _order(world)
    world.faults.fail("orders.change_status")
    with pytest.raises(CassandraUnavailable):
        world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None)
    assert world.orders.items[order.id].status == "CREATED"
    assert world.products.stock(product) == 3
    assert world.provider.refunds == []
    assert world.control.stopped == []
    assert _status_events(world, order.id) == []


@pytest.mark.parametrize("call", ["workflow.stop", "outbox.lease", "publisher.publish", "outbox.mark_sent"])
def test_a_cancel_survives_a_failing_stop_or_publish(world: World, call: str) -> None:
    order, product = _order(world)
    world.faults.fail(call)
    assert world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None).status == "CANCELLED"
    assert world.products.stock(product) == 5
    [event] = [e for e in world.events_of(order.id) if e.type == "OrderStatusChanged"]
    assert event.id in world.publisher.event_ids() or event.id in world.outbox.rows


@pytest.mark.parametrize("call", ["products.release", "payments.mark_refunded", "provider.refund", "outbox.write"])
def test_a_failing_side_effect_of_a_cancel_fails_the_request_after_the_status_changed(world: World, call: str) -> None:
    """What happens today: the status is CANCELLED and the error reaches the caller
    (503). Completing these side effects by a retry is the crash-safety work."""
    order, _ = _order(world)
    world.faults.fail(call)
    with pytest.raises(CassandraUnavailable):
        world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None)
    assert world.orders.items[order.id].status == "CANCELLED"


def test_a_cancel_without_an_authorized_payment_refunds_nothing(world: World) -> None:
    order, _ = _order(world, authorized=False)
    world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None)
    assert world.provider.refunds == []


def test_admin_delete_removes_the_order(world: World) -> None:
    order, _ = _order(world)
    world.actions.delete(order.id)
    assert order.id not in world.orders.items
    with pytest.raises(NotFound):
        world.actions.delete(order.id)


def test_a_failing_delete_leaves_the_order(world: World) -> None:
    order, _ = _order(world)
    world.faults.fail("orders.delete")
    with pytest.raises(CassandraUnavailable):
        world.actions.delete(order.id)
    assert order.id in world.orders.items


def test_order_totals_are_exact_decimals(world: World) -> None:
    order, _ = _order(world, units=3)
    assert order.total == Decimal("7.50")
