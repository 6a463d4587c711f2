"""In-memory collaborators for the services' unit and crash tests.

Each fake implements a port of `store.ports` with the same rules as its
Cassandra repository (compare-and-set where the repository uses one, an
order written with its event at once). Every call goes through a shared
`Faults` first, so a test can make any collaborator call fail: before it has
any effect (the call never reached the database), or after (it was applied,
but the caller saw an error, like a write timeout).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
from cassandra import Unavailable, WriteTimeout, WriteType

from store.cart import CartLine
from store.catalog import ProductPublic, release_key, reserve_key
from store.checkout import Checkout
from store.db import CassandraUnavailable, outcome_unknown
from store.errors import Conflict, NotFound
from store.events import DomainEvent
from store.notifications import Notification, Notifier
from store.order_work import SWEEP_AFTER, OrderCompleter, WorkPointer
from store.orders import OrderActions, OrderPublic, StatusChange
from store.outbox import OutboxRelay, PendingEvent, pending_event
from store.payments import Authorization, PaymentLedger, PaymentRecord, PaymentStatus, SimulatedProvider
from store.reservations import CheckoutIntent, ReservationSweeper
from store.templates import DEFAULTS, Language, TemplateType, check_template, render
from store.users import User
from store.workflow import LifecycleStarter, OrderWorkflow

When = Literal["before", "after"]


def refused() -> CassandraUnavailable:
    """What a write that never reached a replica raises: it did not apply."""
    try:
        raise CassandraUnavailable("injected: no replica answered") from Unavailable("injected")
    except CassandraUnavailable as error:
        return error


def timed_out() -> CassandraUnavailable:
    """What a write that took effect but whose answer was lost raises: unknown outcome."""
    try:
        raise CassandraUnavailable("injected: timed out") from WriteTimeout("injected", write_type=WriteType.SIMPLE)
    except CassandraUnavailable as error:
        return error


@dataclass
class Faults:
    """Which call fails: `at` names it ("products.reserve"), `nth` which of its
    calls. Before: refused, nothing happened. After: it happened, and the caller
    saw a timeout (so an unknown outcome), unless another `error` is given."""

    at: str | None = None
    nth: int = 1
    when: When = "before"
    error: BaseException | None = None
    calls: list[str] = field(default_factory=list)
    _seen: Counter[str] = field(default_factory=Counter)

    def fail(self, at: str, nth: int = 1, when: When = "before", error: BaseException | None = None) -> None:
        self.at, self.nth, self.when, self.error = at, nth, when, error
        self._seen.clear()

    def _error(self) -> BaseException:
        if self.error is not None:
            return self.error
        return refused() if self.when == "before" else timed_out()

    def clear(self) -> None:
        self.at = None

    def enter(self, name: str) -> bool:
        """Record the call; raise now if it fails before; True if it must fail after."""
        self.calls.append(name)
        self._seen[name] += 1
        due = name == self.at and self._seen[name] == self.nth
        if due and self.when == "before":
            raise self._error()
        return due

    def leave(self, due: bool) -> None:
        if due:
            raise self._error()


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)  # every call a distinct, later moment
        return self.now


def product(quantity: int = 10, price: str = "2.50", name: str = "Tea") -> ProductPublic:
    """A product as the catalog answers it, with a fresh id."""
    return ProductPublic(
        id=uuid.uuid4(),
        name=name,
        category="food",
        price=Decimal(price),
        quantity=quantity,
        description="",
        manufacturer="",
    )


class FakeProducts:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.items: dict[UUID, ProductPublic] = {}
        self.movements: dict[UUID, dict[str, int]] = {}

    def add(self, quantity: int, price: str = "2.50", name: str = "Tea") -> ProductPublic:
        added = product(quantity, price, name)
        self.items[added.id] = added
        return added

    def stock(self, product_id: UUID) -> int:
        return self.items[product_id].quantity

    def _set(self, product_id: UUID, quantity: int) -> None:
        self.items[product_id] = self.items[product_id].model_copy(update={"quantity": quantity})

    def get(self, product_id: UUID) -> ProductPublic | None:
        due = self.faults.enter("products.get")
        found = self.items.get(product_id)
        self.faults.leave(due)
        return found

    def get_many(self, product_ids: Sequence[UUID]) -> dict[UUID, ProductPublic]:
        due = self.faults.enter("products.get_many")
        found = {pid: self.items[pid] for pid in product_ids if pid in self.items}
        self.faults.leave(due)
        return found

    def reserve(self, product_id: UUID, units: int, *, order_id: UUID) -> bool:
        due = self.faults.enter("products.reserve")
        if product_id not in self.items:
            raise NotFound(f"product {product_id} does not exist")
        moved = self.movements.setdefault(product_id, {})
        key = reserve_key(order_id)
        taken = key in moved or self.stock(product_id) >= units
        if key not in moved and taken:
            self._set(product_id, self.stock(product_id) - units)
            moved[key] = -units
        self.faults.leave(due)
        return taken

    def release(self, product_id: UUID, units: int, *, order_id: UUID) -> bool:
        due = self.faults.enter("products.release")
        moved = self.movements.setdefault(product_id, {})
        key = release_key(order_id)
        given = product_id in self.items and moved.get(reserve_key(order_id)) == -units
        if given and key not in moved:
            self._set(product_id, self.stock(product_id) + units)
            moved[key] = units
        self.faults.leave(due)
        return given

    def reserved(self, product_id: UUID) -> dict[UUID, int]:
        """Units taken for each order and not given back."""
        moved = self.movements.get(product_id, {})
        return {
            UUID(key.split(":", 1)[1]): -delta
            for key, delta in moved.items()
            if key.startswith("reserve:") and "release:" + key.split(":", 1)[1] not in moved
        }


class FakeCarts:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.by_user: dict[UUID, list[CartLine]] = {}

    def put(self, user_id: UUID, product_id: UUID, quantity: int) -> None:
        self.by_user.setdefault(user_id, []).append(CartLine(uuid.uuid4(), product_id, quantity))

    def lines(self, user_id: UUID) -> list[CartLine]:
        due = self.faults.enter("carts.lines")
        found = list(self.by_user.get(user_id, []))
        self.faults.leave(due)
        return found

    def take(self, user_id: UUID, product_ids: Sequence[UUID]) -> None:
        self.by_user[user_id] = [line for line in self.by_user.get(user_id, []) if line.product_id not in product_ids]

    def forget_if_empty(self, user_id: UUID) -> None:
        due = self.faults.enter("carts.forget_if_empty")
        self.faults.leave(due)


class FakeOutbox:
    """`outbox_pending` and `outbox` in memory: pending rows by event id, sent ids."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rows: dict[UUID, PendingEvent] = {}
        self.recorded: list[DomainEvent] = []
        self.sent: list[UUID] = []

    def record(self, event: DomainEvent) -> None:
        """The outbox rows of a batch (no fault point of its own: the batch has one)."""
        if event.id not in {known.id for known in self.recorded}:  # the same keys: one event
            self.recorded.append(event)
        self.rows[event.id] = pending_event(event)

    def write(self, event: DomainEvent) -> None:
        due = self.faults.enter("outbox.write")
        self.record(event)
        self.faults.leave(due)

    def pending(self) -> list[PendingEvent]:
        due = self.faults.enter("outbox.pending")
        found = sorted(self.rows.values(), key=lambda row: row.created_at)
        self.faults.leave(due)
        return found

    def lease(self, event: PendingEvent, now: datetime) -> bool:
        due = self.faults.enter("outbox.lease")
        row = self.rows.get(event.event_id)
        taken = row is not None and row.lease_until == event.lease_until
        if taken and row is not None:
            self.rows[event.event_id] = PendingEvent(
                row.bucket, row.created_at, row.event_id, row.event_type, row.body, now + timedelta(seconds=30)
            )
        self.faults.leave(due)
        return taken

    def release_lease(self, event: PendingEvent) -> None:
        due = self.faults.enter("outbox.release_lease")
        row = self.rows.get(event.event_id)
        if row is not None:
            self.rows[event.event_id] = PendingEvent(
                row.bucket, row.created_at, row.event_id, row.event_type, row.body, None
            )
        self.faults.leave(due)

    def mark_sent(self, event: PendingEvent, now: datetime) -> None:
        due = self.faults.enter("outbox.mark_sent")
        self.rows.pop(event.event_id, None)
        self.sent.append(event.event_id)
        self.faults.leave(due)


class FakeIntents:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rows: dict[UUID, CheckoutIntent] = {}

    def open(self, intent: CheckoutIntent) -> None:
        due = self.faults.enter("intents.open")
        self.rows[intent.order_id] = intent
        self.faults.leave(due)

    def close(self, intent: CheckoutIntent) -> None:
        due = self.faults.enter("intents.close")
        self.rows.pop(intent.order_id, None)
        self.faults.leave(due)

    def expired(self, now: datetime) -> list[CheckoutIntent]:
        due = self.faults.enter("intents.expired")
        found = [intent for intent in self.rows.values() if intent.expires_at <= now]
        self.faults.leave(due)
        return found


class FakePointers:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rows: dict[UUID, WorkPointer] = {}

    def open(self, order_id: UUID, now: datetime) -> WorkPointer:
        due = self.faults.enter("pointers.open")
        pointer = WorkPointer(order_id, now + SWEEP_AFTER)
        self.rows[order_id] = pointer
        self.faults.leave(due)
        return pointer

    def close(self, pointer: WorkPointer) -> bool:
        due = self.faults.enter("pointers.close")
        closed = self.rows.get(pointer.order_id) == pointer
        if closed:
            del self.rows[pointer.order_id]
        self.faults.leave(due)
        return closed

    def due(self, now: datetime) -> list[WorkPointer]:
        due = self.faults.enter("pointers.due")
        found = [pointer for pointer in self.rows.values() if pointer.due_at <= now]
        self.faults.leave(due)
        return found


class FakeOrders:
    def __init__(self, faults: Faults, outbox: FakeOutbox, intents: FakeIntents, carts: FakeCarts) -> None:
        self.faults = faults
        self.outbox = outbox
        self.intents = intents
        self.carts = carts
        self.items: dict[UUID, OrderPublic] = {}
        self.todos: dict[UUID, dict[str, str]] = {}

    def get(self, order_id: UUID) -> OrderPublic | None:
        due = self.faults.enter("orders.get")
        found = self.items.get(order_id)
        self.faults.leave(due)
        return found

    def create(self, order: OrderPublic, event: DomainEvent, intent: CheckoutIntent | None = None) -> None:
        due = self.faults.enter("orders.create")
        self.items[order.id] = order  # one logged batch: the order, its event, the end of its checkout
        self.outbox.record(event)
        if intent is not None:
            self.intents.rows.pop(intent.order_id, None)
            self.carts.take(intent.user_id, list(intent.lines))
        self.faults.leave(due)

    def todo(self, order_id: UUID) -> dict[str, str]:
        due = self.faults.enter("orders.todo")
        found = dict(self.todos.get(order_id, {}))
        self.faults.leave(due)
        return found

    def done(self, order_id: UUID, key: str) -> None:
        due = self.faults.enter("orders.done")
        self.todos.get(order_id, {}).pop(key, None)
        self.faults.leave(due)

    def change_status(self, order: OrderPublic, change: StatusChange, todo: dict[str, str]) -> OrderPublic:
        due = self.faults.enter("orders.change_status")
        current = self.items.get(order.id)
        if current is None:
            raise NotFound(f"order {order.id} does not exist")
        if current.status != order.status:
            raise Conflict(f"order {order.id} changed meanwhile: it is now {current.status}")
        changed = current.model_copy(
            update={
                "status": change.status,
                "updated_at": change.changed_at,
                "status_history": [*current.status_history, change],
            }
        )
        self.items[order.id] = changed
        self.todos.setdefault(order.id, {}).update(todo)  # in the same compare-and-set
        try:
            self.faults.leave(due)
        except CassandraUnavailable as error:
            if not outcome_unknown(error):
                raise
            # The repository reads an unknown outcome back: it applied.
        return changed

    def delete(self, order: OrderPublic) -> None:
        due = self.faults.enter("orders.delete")
        self.items.pop(order.id, None)
        self.faults.leave(due)


class FakePublisher:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.published: list[tuple[str, str]] = []

    def publish(self, event_type: str, body: str) -> None:
        due = self.faults.enter("publisher.publish")
        self.published.append((event_type, body))
        self.faults.leave(due)

    def event_ids(self) -> list[UUID]:
        return [DomainEvent.model_validate_json(body).id for _, body in self.published]


class FakeSales:
    """product_sales_by_day: units per (day, category, product)."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.units_by_day: Counter[tuple[date, str, UUID]] = Counter()

    def record(self, order: OrderPublic, categories: Mapping[UUID, str]) -> None:
        due = self.faults.enter("sales.record")
        for item in order.items:
            self.units_by_day[(order.created_at.date(), categories[item.product_id], item.product_id)] += item.quantity
        self.faults.leave(due)

    def units(self, days: list[date], category: str | None) -> Counter[UUID]:
        due = self.faults.enter("sales.units")
        totals: Counter[UUID] = Counter()
        for (day, in_category, product_id), sold in self.units_by_day.items():
            if day in days and category in (None, in_category):
                totals[product_id] += sold
        self.faults.leave(due)
        return totals


class FakeWorkflowControl:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.started: dict[UUID, dict[str, Any]] = {}
        self.stopped: list[UUID] = []

    def start(self, order_id: UUID, execution_input: dict[str, Any]) -> bool:
        due = self.faults.enter("workflow.start")
        new = order_id not in self.started
        self.started.setdefault(order_id, execution_input)
        self.faults.leave(due)
        return new

    def stop(self, order_id: UUID, cause: str) -> None:
        due = self.faults.enter("workflow.stop")
        self.stopped.append(order_id)
        self.faults.leave(due)


class FakePaymentRecords:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.items: dict[UUID, PaymentRecord] = {}

    def get(self, order_id: UUID) -> PaymentRecord | None:
        due = self.faults.enter("payments.get")
        found = self.items.get(order_id)
        self.faults.leave(due)
        return found

    def put(self, record: PaymentRecord) -> None:
        due = self.faults.enter("payments.put")
        known = self.items.get(record.order_id)
        times = {**(known.times if known else {}), record.status: record.updated_at}
        self.items[record.order_id] = replace(record, times=times)
        self.faults.leave(due)

    def get_many(self, order_ids: Sequence[UUID]) -> dict[UUID, PaymentRecord]:
        return {order_id: self.items[order_id] for order_id in order_ids if order_id in self.items}

    def move(self, order_id: UUID, expected: PaymentStatus, target: PaymentStatus, now: datetime) -> bool:
        due = self.faults.enter(f"payments.move_{target.lower()}")
        record = self.items.get(order_id)
        taken = record is not None and record.status == expected
        if taken and record is not None:
            self.items[order_id] = replace(record, status=target, updated_at=now, times={**record.times, target: now})
        self.faults.leave(due)
        return taken


class RecordingProvider:
    """The simulated provider's decisions, with the refunds it was asked for."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.simulated = SimulatedProvider()
        self.refunds: list[UUID] = []

    def authorize(self, order_id: UUID, amount: Decimal, attempt: int) -> Authorization:
        due = self.faults.enter("provider.authorize")
        result = self.simulated.authorize(order_id, amount, attempt)
        self.faults.leave(due)
        return result

    def refund(self, order_id: UUID, amount: Decimal) -> None:
        """Keyed by the order, like a real provider's idempotency key: twice is once."""
        due = self.faults.enter("provider.refund")
        if order_id not in self.refunds:
            self.refunds.append(order_id)
        self.faults.leave(due)


class FakeLifetime:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rows: dict[UUID, dict[UUID, Decimal]] = {}

    def record(self, order: OrderPublic, delivered_at: datetime) -> None:
        due = self.faults.enter("lifetime.record")
        self.rows.setdefault(order.user_id, {})[order.id] = order.total
        self.faults.leave(due)

    def of(self, user_id: UUID) -> tuple[dict[UUID, Decimal], datetime | None]:
        return dict(self.rows.get(user_id, {})), None


class FakeMarks:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.marked: set[tuple[str, UUID]] = set()

    def done(self, effect: str, event_id: UUID) -> bool:
        due = self.faults.enter("marks.done")
        found = (effect, event_id) in self.marked
        self.faults.leave(due)
        return found

    def mark(self, effect: str, event_id: UUID) -> None:
        due = self.faults.enter("marks.mark")
        self.marked.add((effect, event_id))
        self.faults.leave(due)


class FakeInbox:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.rows: dict[tuple[UUID, UUID], str] = {}

    @property
    def entries(self) -> list[tuple[UUID, UUID, str]]:
        return [(user_id, event_id, message) for (user_id, event_id), message in self.rows.items()]

    def add(self, user_id: UUID, event: Notification, message: str) -> None:
        due = self.faults.enter("inbox.add")
        self.rows[(user_id, event.id)] = message  # keyed by the event, like the table
        self.faults.leave(due)


class FakeTemplates:
    """Templates in memory, checked as the store checks them."""

    def __init__(self) -> None:
        self.changed: dict[tuple[TemplateType, Language], str] = {}

    def put(self, event_type: TemplateType, language: Language, body: str) -> None:
        check_template(event_type, body)
        self.changed[(event_type, language)] = body

    def render(self, event_type: TemplateType, language: Language, fields: dict[str, str]) -> str:
        return render(self.changed.get((event_type, language), DEFAULTS[(event_type, language)]), fields)


class FakeDeliveries:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.records: list[dict[str, Any]] = []

    def record(self, **fields: Any) -> None:
        due = self.faults.enter("deliveries.record")
        self.records.append(fields)
        self.faults.leave(due)

    def outcomes(self, notification_id: UUID) -> dict[str, str]:
        return {r["channel"]: r["outcome"] for r in self.records if r["notification_id"] == notification_id}


class FakeUsers:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.items: dict[UUID, User] = {}

    def add(
        self,
        email: str | None = None,
        phone: str | None = None,
        user_id: UUID | None = None,
        language: Language | None = None,
    ) -> User:
        user = User(
            id=user_id or uuid.uuid4(),
            username=f"u{uuid.uuid4().hex[:8]}",
            email=email,
            full_name=None,
            phone=phone,
            role="user",
            password_hash="x",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            language=language,
        )
        self.items[user.id] = user
        return user

    def get(self, user_id: UUID) -> User | None:
        due = self.faults.enter("users.get")
        found = self.items.get(user_id)
        self.faults.leave(due)
        return found


class FakeChannel:
    def __init__(self, name: str, faults: Faults) -> None:
        self.name = name
        self.faults = faults
        self.sent: list[tuple[str, str]] = []

    def send(self, address: str, subject: str, message: str) -> None:
        due = self.faults.enter(f"channel.{self.name}")
        self.sent.append((address, message))
        self.faults.leave(due)


class MemoryIdempotencyStore(BasePersistenceLayer):
    """Powertools idempotency records in a dict, with the Cassandra store's rules."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        if idempotency_key not in self.records:
            raise IdempotencyItemNotFoundError
        return self.records[idempotency_key]

    def _put_record(self, data_record: DataRecord) -> None:
        existing = self.records.get(data_record.idempotency_key)
        if existing is not None and not existing.is_expired:
            self._validate_payload(data_payload=data_record, stored_data_record=existing)
            raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)


class World:
    """Every service of the store wired to in-memory collaborators sharing one `Faults`."""

    def __init__(self) -> None:

        self.faults = Faults()
        self.clock = Clock()
        self.products = FakeProducts(self.faults)
        self.carts = FakeCarts(self.faults)
        self.outbox = FakeOutbox(self.faults)
        self.intents = FakeIntents(self.faults)
        self.pointers = FakePointers(self.faults)
        self.orders = FakeOrders(self.faults, self.outbox, self.intents, self.carts)
        self.publisher = FakePublisher(self.faults)
        self.sales = FakeSales(self.faults)
        self.control = FakeWorkflowControl(self.faults)
        self.payment_records = FakePaymentRecords(self.faults)
        self.provider = RecordingProvider(self.faults)
        self.lifetime = FakeLifetime(self.faults)
        self.marks = FakeMarks(self.faults)
        self.inbox = FakeInbox(self.faults)
        self.users = FakeUsers(self.faults)
        self.email = FakeChannel("email", self.faults)
        self.sms = FakeChannel("sms", self.faults)
        self.idempotency = MemoryIdempotencyStore()

        self.relay = OutboxRelay(self.outbox, self.publisher, self.clock)
        self.payments = PaymentLedger(self.payment_records, self.provider, self.clock)
        self.checkout = Checkout(
            carts=self.carts,
            products=self.products,
            orders=self.orders,
            intents=self.intents,
            relay=self.relay,
            clock=self.clock,
            sales=self.sales,
        )
        self.sweeper = ReservationSweeper(
            intents=self.intents, orders=self.orders, products=self.products, clock=self.clock
        )
        self.completer = OrderCompleter(
            orders=self.orders,
            products=self.products,
            outbox=self.outbox,
            relay=self.relay,
            refunds=self.payments,
            workflow=self.control,
            pointers=self.pointers,
            clock=self.clock,
        )
        self.actions = OrderActions(
            orders=self.orders, pointers=self.pointers, completer=self.completer, clock=self.clock
        )
        self.workflow = OrderWorkflow(
            orders=self.orders, actions=self.actions, payments=self.payments, stats=self.lifetime
        )
        self.starter = LifecycleStarter(self.control, scale=0.02)
        self.templates = FakeTemplates()
        self.deliveries = FakeDeliveries(self.faults)
        self.notifier = self.notifier_with()

    def notifier_with(self, allow: Callable[[UUID], bool] | None = None) -> Notifier:
        """The world's notifier, optionally with a per-user allowance of channel messages."""
        return Notifier(
            marks=self.marks,
            inbox=self.inbox,
            users=self.users,
            channels=[self.email, self.sms],
            templates=self.templates,
            deliveries=self.deliveries,
            language="en",
            allow=allow,
        )

    def todo_left(self) -> dict[UUID, dict[str, str]]:
        return {order_id: todo for order_id, todo in self.orders.todos.items() if todo}

    def events_of(self, order_id: UUID) -> list[DomainEvent]:
        """Every event recorded for the order, in order."""
        return [event for event in self.outbox.recorded if event.order_id == order_id]
