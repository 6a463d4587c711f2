"""The collaborators the services depend on, as interfaces.

Services (checkout, order actions, the workflow, the relay, the notifier)
receive these from one wiring point per function (`store.wiring`); the
Cassandra repositories and the AWS adapters (`store.aws`) implement them, and
unit and crash tests pass in-memory fakes. Only what a test needs to replace
is a port.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from store.cart import CartLine
    from store.catalog import ProductPublic
    from store.events import DomainEvent
    from store.notifications import Notification
    from store.order_work import WorkPointer
    from store.orders import OrderPublic, StatusChange
    from store.outbox import PendingEvent
    from store.payments import PaymentRecord, PaymentStatus
    from store.reservations import CheckoutIntent
    from store.templates import Language, TemplateType
    from store.users import User


class ProductStock(Protocol):
    """Products as checkout and cancel see them: read, and take or give back stock."""

    def get(self, product_id: UUID) -> ProductPublic | None: ...

    def get_many(self, product_ids: Sequence[UUID]) -> dict[UUID, ProductPublic]: ...

    def reserve(self, product_id: UUID, units: int, *, order_id: UUID) -> bool: ...

    def release(self, product_id: UUID, units: int, *, order_id: UUID) -> bool: ...


class CartLines(Protocol):
    def lines(self, user_id: UUID) -> list[CartLine]: ...

    def forget_if_empty(self, user_id: UUID) -> None: ...


class OrderStore(Protocol):
    def get(self, order_id: UUID) -> OrderPublic | None: ...

    def create(self, order: OrderPublic, event: DomainEvent, intent: CheckoutIntent | None = None) -> None: ...

    def change_status(self, order: OrderPublic, change: StatusChange, todo: dict[str, str]) -> OrderPublic: ...

    def todo(self, order_id: UUID) -> dict[str, str]: ...

    def done(self, order_id: UUID, key: str) -> None: ...

    def delete(self, order: OrderPublic) -> None: ...


class WorkPointers(Protocol):
    """Orders that may have outstanding work (store.order_work)."""

    def open(self, order_id: UUID, now: datetime) -> WorkPointer: ...

    def close(self, pointer: WorkPointer) -> bool: ...

    def due(self, now: datetime) -> list[WorkPointer]: ...


class Refunds(Protocol):
    def refund(self, order_id: UUID) -> bool: ...


class IntentStore(Protocol):
    """Checkouts in progress (store.reservations)."""

    def open(self, intent: CheckoutIntent) -> None: ...

    def close(self, intent: CheckoutIntent) -> None: ...

    def expired(self, now: datetime) -> list[CheckoutIntent]: ...


class EventOutbox(Protocol):
    def write(self, event: DomainEvent) -> None: ...

    def pending(self) -> list[PendingEvent]: ...

    def lease(self, event: PendingEvent, now: datetime) -> bool: ...

    def release_lease(self, event: PendingEvent) -> None: ...

    def mark_sent(self, event: PendingEvent, now: datetime) -> None: ...


class EventPublisher(Protocol):
    def publish(self, event_type: str, body: str) -> None: ...


class WorkflowControl(Protocol):
    """Starts and stops an order's lifecycle execution (Step Functions)."""

    def start(self, order_id: UUID, execution_input: dict[str, Any]) -> bool: ...

    def stop(self, order_id: UUID, cause: str) -> None: ...


class PaymentRecords(Protocol):
    def get(self, order_id: UUID) -> PaymentRecord | None: ...

    def put(self, record: PaymentRecord) -> None: ...

    def move(self, order_id: UUID, expected: PaymentStatus, target: PaymentStatus, now: datetime) -> bool: ...


class PaymentReader(Protocol):
    def get(self, order_id: UUID) -> PaymentRecord | None: ...

    def get_many(self, order_ids: Sequence[UUID]) -> dict[UUID, PaymentRecord]: ...


class LifetimeRecords(Protocol):
    def record(self, order: OrderPublic, delivered_at: datetime) -> None: ...

    def of(self, user_id: UUID) -> tuple[dict[UUID, Decimal], datetime | None]: ...


class EffectMarks(Protocol):
    """Which effects of an event a consumer has done (marked after each)."""

    def done(self, effect: str, event_id: UUID) -> bool: ...

    def mark(self, effect: str, event_id: UUID) -> None: ...


class Inbox(Protocol):
    def add(self, user_id: UUID, event: Notification, message: str) -> None: ...


class TemplateSource(Protocol):
    def render(self, event_type: TemplateType, language: Language, fields: dict[str, str]) -> str: ...


class DeliveryLog(Protocol):
    def record(
        self,
        *,
        user_id: UUID,
        notification_id: UUID,
        event_type: str,
        occurred_at: datetime,
        channel: str,
        outcome: str,
        message: str,
    ) -> None: ...


class UserDirectory(Protocol):
    def get(self, user_id: UUID) -> User | None: ...


class Channel(Protocol):
    """A notification channel beyond the inbox (email, SMS)."""

    name: str

    def send(self, address: str, subject: str, message: str) -> None: ...
