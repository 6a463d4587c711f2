"""An order's payment as its owner and admins see it: the ledger's record
(`store.payments`) as a public model, and its summary on the order itself."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from store.errors import NotFound
from store.orders import OrderPublic, PaymentSummary
from store.paging import Page
from store.payments import PaymentRecord, PaymentStatus
from store.ports import PaymentReader


class PaymentPublic(BaseModel):
    order_id: UUID
    status: PaymentStatus
    amount: Decimal = Field(description="the amount asked for: the order's total")
    refunded_amount: Decimal
    attempts: int = Field(description="calls to the provider (a transient failure is retried)")
    reason: str | None = Field(description="why the provider declined, if it did")
    created_at: datetime | None = Field(description="when the first authorization was asked for")
    authorized_at: datetime | None
    declined_at: datetime | None
    refunded_at: datetime | None
    updated_at: datetime


def payment_public(record: PaymentRecord) -> PaymentPublic:
    return PaymentPublic(
        order_id=record.order_id,
        status=record.status,
        amount=record.amount,
        refunded_amount=record.amount if record.status == "REFUNDED" else Decimal("0.00"),
        attempts=record.attempts,
        reason=record.reason,
        created_at=record.times.get("PENDING"),
        authorized_at=record.times.get("AUTHORIZED"),
        declined_at=record.times.get("DECLINED"),
        refunded_at=record.times.get("REFUNDED"),
        updated_at=record.updated_at,
    )


def _summary(record: PaymentRecord) -> PaymentSummary:
    return PaymentSummary(status=record.status, amount=record.amount, updated_at=record.updated_at)


class OrderPayments:
    def __init__(self, payments: PaymentReader) -> None:
        self._payments = payments

    def of(self, order: OrderPublic) -> PaymentPublic:
        """The payment of an order the caller may see (checked before); 404 until
        the workflow has asked the provider."""
        record = self._payments.get(order.id)
        if record is None:
            raise NotFound(f"order {order.id} has no payment yet: the workflow has not asked for it")
        return payment_public(record)

    def attach(self, order: OrderPublic) -> OrderPublic:
        record = self._payments.get(order.id)
        return order.model_copy(update={"payment": _summary(record) if record is not None else None})

    def attach_all(self, orders: list[OrderPublic]) -> list[OrderPublic]:
        records = self._payments.get_many([order.id for order in orders])
        return [
            order.model_copy(update={"payment": _summary(records[order.id]) if order.id in records else None})
            for order in orders
        ]

    def attach_page(self, page: Page[OrderPublic]) -> Page[OrderPublic]:
        return Page(items=self.attach_all(page.items), next_cursor=page.next_cursor)
