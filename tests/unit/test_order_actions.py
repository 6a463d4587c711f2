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
from store.order_work import SWEEP_AFTER
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


CANCEL_WORK = [
    "orders.todo",
    "outbox.write",
    "outbox.lease",
    "publisher.publish",
    "outbox.mark_sent",
    "products.release",
    "payments.move_refunding",
    "provider.refund",
    "payments.move_refunded",
    "workflow.stop",
    "orders.done",
    "pointers.close",
]


@pytest.mark.parametrize("call", CANCEL_WORK)
def test_a_cancel_whose_work_fails_answers_and_the_sweeper_finishes_the_work(world: World, call: str) -> None:
    order, product = _order(world)
    world.faults.fail(call)
    assert world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None).status == "CANCELLED"
    world.faults.clear()
    world.clock.now += SWEEP_AFTER
    world.completer.sweep()
    world.relay.sweep()
    assert world.products.stock(product) == 5
    assert world.provider.refunds == [order.id]
    assert world.payment_records.items[order.id].status == "REFUNDED"
    assert world.control.stopped[-1:] == [order.id]
    [event] = [e for e in world.events_of(order.id) if e.type == "OrderStatusChanged"]
    assert event.id in world.publisher.event_ids()
    assert world.orders.todos[order.id] == {}
    assert world.pointers.rows == {}


def test_a_cancel_without_an_authorized_payment_refunds_nothing(world: World) -> None:
    order, _ = _order(world, authorized=False)
    world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None)
    assert world.provider.refunds == []


def test_admin_delete_refuses_a_live_order_and_removes_a_finished_one(world: World) -> None:
    order, product = _order(world)
    with pytest.raises(Conflict):
        world.actions.delete(order.id)
    world.actions.cancel(order.id, user_id=OWNER, is_admin=True, reason=None)
    world.actions.delete(order.id)
    assert world.products.stock(product) == 5
    assert order.id not in world.orders.items
    with pytest.raises(NotFound):
        world.actions.delete(order.id)


def test_a_failing_delete_leaves_the_order(world: World) -> None:
    order, _ = _order(world)
    world.actions.cancel(order.id, user_id=OWNER, is_admin=True, reason=None)
    world.faults.fail("orders.delete")
    with pytest.raises(CassandraUnavailable):
        world.actions.delete(order.id)
    assert order.id in world.orders.items


def test_order_totals_are_exact_decimals(world: World) -> None:
    order, _ = _order(world, units=3)
    assert order.total == Decimal("7.50")
