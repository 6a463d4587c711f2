"""The order's payment view: the ledger's times, amounts and the summary on orders."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fakes import Clock, FakePaymentRecords, Faults
from store.errors import NotFound
from store.order_payments import OrderPayments
from store.orders import OrderItem, OrderPublic
from store.paging import Page
from store.payments import Authorization, PaymentLedger


class Provider:
    def __init__(self, outcome: Authorization) -> None:
        self.outcome = outcome

    def authorize(self, order_id: uuid.UUID, amount: Decimal, attempt: int) -> Authorization:
        return self.outcome

    def refund(self, order_id: uuid.UUID, amount: Decimal) -> None:
        pass


def _order(total: str = "10.00") -> OrderPublic:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    item = OrderItem(product_id=uuid.uuid4(), name="Tea", price=Decimal(total), quantity=1)
    return OrderPublic(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        items=[item],
        total=Decimal(total),
        status="CREATED",
        created_at=now,
        updated_at=now,
        status_history=[],
    )


def test_an_authorized_then_refunded_payment_shows_each_time_and_the_refunded_amount() -> None:
    records = FakePaymentRecords(Faults())
    clock = Clock()
    ledger = PaymentLedger(records, Provider(Authorization("approved")), clock)
    order = _order("12.50")
    ledger.authorize(order.id, order.user_id, order.total)
    clock.now += timedelta(seconds=5)
    assert ledger.refund(order.id)

    payment = OrderPayments(records).of(order)

    assert payment.status == "REFUNDED"
    assert (payment.amount, payment.refunded_amount) == (Decimal("12.50"), Decimal("12.50"))
    assert payment.created_at is not None
    assert payment.authorized_at is not None
    assert payment.refunded_at is not None
    assert payment.refunded_at > payment.authorized_at
    assert payment.declined_at is None
    assert payment.attempts == 1


def test_a_declined_payment_keeps_its_reason_and_refunds_nothing() -> None:
    records = FakePaymentRecords(Faults())
    order = _order()
    PaymentLedger(records, Provider(Authorization("declined", "card declined"))).authorize(
        order.id, order.user_id, order.total
    )

    payment = OrderPayments(records).of(order)

    assert (payment.status, payment.reason, payment.refunded_amount) == ("DECLINED", "card declined", Decimal("0.00"))
    assert payment.declined_at is not None
    assert payment.authorized_at is None


def test_no_payment_yet_is_a_404_and_a_null_summary() -> None:
    records = FakePaymentRecords(Faults())
    order = _order()
    with pytest.raises(NotFound, match="no payment yet"):
        OrderPayments(records).of(order)
    assert OrderPayments(records).attach(order).payment is None


def test_a_page_of_orders_gets_each_its_own_summary() -> None:
    records = FakePaymentRecords(Faults())
    paid, unpaid = _order("3.00"), _order("4.00")
    PaymentLedger(records, Provider(Authorization("approved"))).authorize(paid.id, paid.user_id, paid.total)

    page = OrderPayments(records).attach_page(Page(items=[paid, unpaid], next_cursor="c"))

    assert [order.payment.status if order.payment else None for order in page.items] == ["AUTHORIZED", None]
    assert page.items[0].payment is not None
    assert page.items[0].payment.amount == Decimal("3.00")
    assert page.next_cursor == "c"
