"""Each step of the order lifecycle with in-memory collaborators: payment
(approve, decline, transient), transitions, compensation, reconcile, purge,
the starter, and each collaborator failing."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from fakes import World
from store.checkout import CheckoutCreate
from store.db import CassandraUnavailable
from store.order_work import SWEEP_AFTER
from store.orders import OrderPublic
from store.payments import TransientPaymentError

OWNER = uuid.uuid4()


@pytest.fixture
def world() -> World:
    return World()


def _order(world: World, price: str = "2.50", units: int = 2) -> tuple[OrderPublic, UUID]:
    product = world.products.add(10, price=price)
    world.carts.put(OWNER, product.id, units)
    order = world.checkout.run(OWNER, CheckoutCreate())
    world.faults.calls.clear()
    return order, product.id


def _statuses(world: World, order_id: UUID) -> list[str]:
    return [e.payload["status"] for e in world.events_of(order_id) if e.type == "OrderStatusChanged"]


def test_an_approved_payment_is_recorded_once(world: World) -> None:
    order, _ = _order(world)
    assert world.workflow.authorize_payment(order.id)["outcome"] == "approved"
    assert world.payment_records.items[order.id].status == "AUTHORIZED"
    # A retried task answers what was decided and does not ask the provider again.
    world.faults.calls.clear()
    assert world.workflow.authorize_payment(order.id)["outcome"] == "approved"
    assert "provider.authorize" not in world.faults.calls


def test_a_declined_payment_is_data_with_a_reason(world: World) -> None:
    order, _ = _order(world, price="10.13", units=1)
    result = world.workflow.authorize_payment(order.id)
    assert result["outcome"] == "declined"
    assert result["reason"] == "card declined by the issuer"
    assert world.payment_records.items[order.id].status == "DECLINED"


def test_a_transient_failure_raises_until_the_provider_answers(world: World) -> None:
    order, _ = _order(world, price="10.42", units=1)
    for attempt in (1, 2):
        with pytest.raises(TransientPaymentError):
            world.workflow.authorize_payment(order.id)
        assert world.payment_records.items[order.id].attempts == attempt
    assert world.workflow.authorize_payment(order.id)["outcome"] == "approved"


def test_a_payment_for_an_order_cancelled_before_it_is_superseded(world: World) -> None:
    order, _ = _order(world)
    world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None)
    assert world.workflow.authorize_payment(order.id)["outcome"] == "superseded"
    assert order.id not in world.payment_records.items


@pytest.mark.parametrize("call", ["orders.get", "payments.get", "payments.put", "provider.authorize"])
def test_a_failing_call_in_authorization_raises_for_the_state_machine_to_retry(world: World, call: str) -> None:
    order, _ = _order(world)
    world.faults.fail(call)
    with pytest.raises(CassandraUnavailable):
        world.workflow.authorize_payment(order.id)
    world.faults.clear()
    assert world.workflow.authorize_payment(order.id)["outcome"] == "approved"
    assert world.payment_records.items[order.id].status == "AUTHORIZED"


def test_the_lifecycle_moves_forward_with_one_event_per_step_and_records_the_delivery(world: World) -> None:
    order, _ = _order(world)
    for expected, target in (("CREATED", "PROCESSING"), ("PROCESSING", "SHIPPING"), ("SHIPPING", "DELIVERED")):
        step = world.workflow.transition(order.id, expected, target, None)  # type: ignore[arg-type]
        assert step.as_dict() == {"applied": True, "status": target}
    assert _statuses(world, order.id) == ["PROCESSING", "SHIPPING", "DELIVERED"]
    assert world.lifetime.rows[OWNER] == {order.id: order.total}


def test_a_retried_transition_whose_write_happened_is_applied_once(world: World) -> None:
    order, _ = _order(world)
    world.workflow.transition(order.id, "CREATED", "PROCESSING", None)
    assert world.workflow.transition(order.id, "CREATED", "PROCESSING", None).applied
    assert _statuses(world, order.id) == ["PROCESSING"]


def test_a_step_never_overwrites_a_cancel(world: World) -> None:
    order, _ = _order(world)
    world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None)
    step = world.workflow.transition(order.id, "CREATED", "PROCESSING", None)
    assert step.as_dict() == {"applied": False, "status": "CANCELLED"}
    assert world.orders.items[order.id].status == "CANCELLED"


@pytest.mark.parametrize("call", ["orders.get", "orders.change_status"])
def test_a_failing_read_or_compare_and_set_raises_and_a_retry_applies_it(world: World, call: str) -> None:
    order, _ = _order(world)
    world.faults.fail(call)
    with pytest.raises(CassandraUnavailable):
        world.workflow.transition(order.id, "CREATED", "PROCESSING", None)
    world.faults.clear()
    assert world.workflow.transition(order.id, "CREATED", "PROCESSING", None).applied
    assert _statuses(world, order.id) == ["PROCESSING"]


def test_compensation_cancels_releases_and_refunds(world: World) -> None:
    order, product = _order(world)
    world.workflow.authorize_payment(order.id)
    assert world.workflow.compensate(order.id, "States.TaskFailed") == {"status": "CANCELLED"}
    assert world.products.stock(product) == 10
    assert world.provider.refunds == [order.id]
    assert world.control.stopped == []  # the workflow's own cancel does not stop itself
    assert world.orders.items[order.id].status_history[-1].changed_by == "system"


def test_compensation_of_a_delivered_order_changes_nothing(world: World) -> None:
    order, _ = _order(world)
    world.workflow.authorize_payment(order.id)
    for expected, target in (("CREATED", "PROCESSING"), ("PROCESSING", "SHIPPING"), ("SHIPPING", "DELIVERED")):
        world.workflow.transition(order.id, expected, target, None)  # type: ignore[arg-type]
    assert world.workflow.compensate(order.id, "late failure") == {"status": "DELIVERED"}
    assert world.provider.refunds == []


@pytest.mark.parametrize("call", ["orders.get", "orders.change_status"])
def test_a_compensation_that_cannot_change_the_order_raises_for_a_retry(world: World, call: str) -> None:
    order, _ = _order(world)
    world.workflow.authorize_payment(order.id)
    world.faults.fail(call)
    with pytest.raises(CassandraUnavailable):
        world.workflow.compensate(order.id, "cause")


@pytest.mark.parametrize("call", ["products.release", "provider.refund"])
def test_a_compensation_whose_work_fails_is_finished_by_the_sweeper(world: World, call: str) -> None:
    order, product = _order(world)
    world.workflow.authorize_payment(order.id)
    world.faults.fail(call)
    assert world.workflow.compensate(order.id, "cause") == {"status": "CANCELLED"}
    world.faults.clear()
    world.clock.now += SWEEP_AFTER
    world.completer.sweep()
    assert world.products.stock(product) == 10
    assert world.provider.refunds == [order.id]


def test_an_infrastructure_failure_never_cancels_a_shipping_order(world: World) -> None:
    order, product = _order(world)
    world.workflow.authorize_payment(order.id)
    world.workflow.transition(order.id, "CREATED", "PROCESSING", None)
    world.workflow.transition(order.id, "PROCESSING", "SHIPPING", None)
    assert world.workflow.compensate(order.id, "States.TaskFailed") == {"status": "SHIPPING"}
    assert world.orders.items[order.id].status == "SHIPPING"
    assert world.products.stock(product) == 8
    assert world.provider.refunds == []


def test_reconcile_refunds_an_order_cancelled_during_authorization_once(world: World) -> None:
    order, _ = _order(world)
    world.actions.cancel(order.id, user_id=OWNER, is_admin=False, reason=None)  # no payment yet: no refund
    world.payments.authorize(order.id, OWNER, order.total)  # the authorization completes afterwards
    assert world.workflow.reconcile(order.id) == {"status": "CANCELLED", "refunded": True}
    assert world.workflow.reconcile(order.id) == {"status": "CANCELLED", "refunded": False}
    assert world.provider.refunds == [order.id]


def test_purge_removes_the_order_and_keeps_its_lifetime_row(world: World) -> None:
    order, _ = _order(world)
    for expected, target in (("CREATED", "PROCESSING"), ("PROCESSING", "SHIPPING"), ("SHIPPING", "DELIVERED")):
        world.workflow.transition(order.id, expected, target, None)  # type: ignore[arg-type]
    assert world.workflow.purge(order.id) == {"purged": True}
    assert order.id not in world.orders.items
    assert world.lifetime.rows[OWNER] == {order.id: order.total}
    assert world.workflow.purge(order.id) == {"purged": False}


def test_a_failing_purge_keeps_the_order_for_the_retry(world: World) -> None:
    order, _ = _order(world)
    world.faults.fail("orders.delete")
    with pytest.raises(CassandraUnavailable):
        world.workflow.purge(order.id)
    assert order.id in world.orders.items


def test_the_starter_starts_one_execution_per_order_with_scaled_timings(world: World) -> None:
    order, _ = _order(world)
    assert world.starter.start(order.id) is True
    assert world.starter.start(order.id) is False
    timings = world.control.started[order.id]["timings"]
    assert timings["scale"] == 0.02
    assert timings["processing_delay_seconds"] == 1


def test_a_failing_start_raises_for_redelivery(world: World) -> None:
    order, _ = _order(world)
    world.faults.fail("workflow.start")
    with pytest.raises(CassandraUnavailable):
        world.starter.start(order.id)
    world.faults.clear()
    assert world.starter.start(order.id) is True
