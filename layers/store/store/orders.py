"""Orders: the model, legal status transitions and storage.

An order row (`orders`, by id) is the source of truth; `orders_by_user` and
`orders_by_day` hold only keys for listing, newest first. An order is written
with its listing keys and its `OrderCreated` outbox event in one logged batch,
so either all of it exists or none. Its status changes only by compare-and-set
(`UPDATE ... IF status = ?`), so of two concurrent changes exactly one wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from cassandra.query import BatchStatement, BatchType
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from store.clock import Clock, aware, to_ms, utc_now
from store.db import CassandraUnavailable, Database, outcome_unknown
from store.errors import Conflict, NotFound
from store.events import DomainEvent
from store.observability import count, counted
from store.order_work import EVENT, REFUND, RELEASE, STOP, OrderCompleter
from store.outbox import Outbox
from store.paging import Page, decode_cursor, encode_cursor, invalid_cursor
from store.ports import OrderStore, WorkPointers
from store.reservations import CheckoutIntent, CheckoutIntents
from store.tracing import tag, traced

OrderStatus = Literal["CREATED", "PROCESSING", "SHIPPING", "DELIVERED", "CANCELLED"]
STATUSES: tuple[OrderStatus, ...] = ("CREATED", "PROCESSING", "SHIPPING", "DELIVERED", "CANCELLED")
Actor = Literal["user", "admin", "system"]

# The lifecycle moves forward one step at a time; cancelling is possible until delivery.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    "CREATED": frozenset({"PROCESSING", "CANCELLED"}),
    "PROCESSING": frozenset({"SHIPPING", "CANCELLED"}),
    "SHIPPING": frozenset({"DELIVERED", "CANCELLED"}),
    "DELIVERED": frozenset(),
    "CANCELLED": frozenset(),
}
FINAL_STATUSES: frozenset[OrderStatus] = frozenset({"DELIVERED", "CANCELLED"})
# Who may cancel in which status: a user until it ships, an admin until it is delivered.
CANCELLABLE_BY_USER: frozenset[OrderStatus] = frozenset({"CREATED", "PROCESSING"})
CANCELLABLE_BY_ADMIN: frozenset[OrderStatus] = frozenset({"CREATED", "PROCESSING", "SHIPPING"})

MAX_LIMIT = 100
# A listing filtered by status examines at most this many orders per request,
# then hands back a cursor, so a rare status cannot make one request read everything.
MAX_SCANNED = 2000
ORDER_DAYS_SHARD = "all"
CURSOR_YEARS = (2000, 2999)


def is_legal(current: OrderStatus, target: OrderStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    if not is_legal(current, target):
        allowed = sorted(TRANSITIONS[current])
        raise Conflict(
            f"an order in status {current} cannot change to {target}",
            details={"status": current, "allowed": allowed},
        )


def check_cancel(current: OrderStatus, *, by_admin: bool) -> None:
    allowed = CANCELLABLE_BY_ADMIN if by_admin else CANCELLABLE_BY_USER
    if current not in allowed:
        raise Conflict(
            f"an order in status {current} cannot be cancelled" + ("" if by_admin else " by its owner"),
            details={"status": current, "cancellable_in": sorted(allowed)},
        )


class OrderItem(BaseModel):
    product_id: UUID
    name: str
    price: Decimal
    quantity: int


class StatusChange(BaseModel):
    status: OrderStatus
    changed_at: datetime
    changed_by: Actor
    reason: str | None = None


class PaymentSummary(BaseModel):
    """The order's payment in short; the whole of it is GET /orders/{id}/payment."""

    status: Literal["PENDING", "AUTHORIZED", "DECLINED", "REFUNDING", "REFUNDED"]
    amount: Decimal
    updated_at: datetime


class OrderPublic(BaseModel):
    id: UUID
    user_id: UUID
    items: list[OrderItem]
    total: Decimal
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    status_history: list[StatusChange]
    payment: PaymentSummary | None = Field(
        default=None, description="null until the workflow has asked for the payment"
    )


class OrderStatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class CancelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


def order_total(items: Sequence[OrderItem]) -> Decimal:
    return sum((item.price * item.quantity for item in items), Decimal("0.00"))


# ---------------------------------------------------------------- cursors


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last order's creation time and id."""

    created_at: datetime
    order_id: UUID

    def encode(self) -> str:
        return encode_cursor({"c": self.created_at.isoformat(), "i": str(self.order_id)})

    @classmethod
    def decode(cls, cursor: str) -> Cursor:
        data = decode_cursor(cursor)
        try:
            created_at = aware(datetime.fromisoformat(data["c"])).astimezone(UTC)
            # Only a time an order can have: Cassandra timestamps, and dates the listing walks.
            if not CURSOR_YEARS[0] <= created_at.year <= CURSOR_YEARS[1]:
                raise ValueError("out of range")
            return cls(created_at=created_at, order_id=UUID(data["i"]))
        except (ValueError, KeyError, TypeError, OverflowError) as error:
            raise invalid_cursor() from error


# ---------------------------------------------------------------- repository

_COLUMNS = "id, user_id, items, total, status, created_at, updated_at, status_history"


def _to_public(row: Any) -> OrderPublic:
    return OrderPublic(
        id=row.id,
        user_id=row.user_id,
        items=[
            OrderItem(product_id=i.product_id, name=i.name, price=i.price, quantity=i.quantity) for i in row.items or []
        ],
        total=row.total,
        status=row.status,
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
        status_history=[
            StatusChange(status=c.status, changed_at=aware(c.changed_at), changed_by=c.changed_by, reason=c.reason)
            for c in row.status_history or []
        ],
    )


def _history_entry(change: StatusChange) -> tuple[Any, ...]:
    return (change.status, change.changed_at, change.changed_by, change.reason)


class OrderRepository:
    def __init__(self, database: Database, outbox: Outbox, intents: CheckoutIntents) -> None:
        self._db = database
        self._outbox = outbox
        self._intents = intents

    # -- writes

    def create(self, order: OrderPublic, event: DomainEvent, intent: CheckoutIntent | None = None) -> None:
        """The order, its listing keys, its outbox event and the end of its
        checkout intent, in one logged batch: all of it is written or none."""
        batch = BatchStatement(batch_type=BatchType.LOGGED)
        batch.add(
            self._db.prepare(
                "INSERT INTO orders (id, user_id, items, total, status, created_at, updated_at, status_history) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                order.id,
                order.user_id,
                [(i.product_id, i.name, i.price, i.quantity) for i in order.items],
                order.total,
                order.status,
                order.created_at,
                order.updated_at,
                [_history_entry(change) for change in order.status_history],
            ),
        )
        batch.add(
            self._db.prepare("INSERT INTO orders_by_user (user_id, created_at, order_id) VALUES (?, ?, ?)"),
            (order.user_id, order.created_at, order.id),
        )
        day = order.created_at.date()
        batch.add(
            self._db.prepare("INSERT INTO orders_by_day (day, created_at, order_id) VALUES (?, ?, ?)"),
            (day, order.created_at, order.id),
        )
        batch.add(self._db.prepare("INSERT INTO order_days (shard, day) VALUES (?, ?)"), (ORDER_DAYS_SHARD, day))
        self._outbox.add(batch, event)
        if intent is not None:
            self._intents.close_in(batch, intent)
        self._db.execute(batch)

    def change_status(self, order: OrderPublic, change: StatusChange, todo: dict[str, str]) -> OrderPublic:
        """Compare-and-set from the status the caller saw, with the work the change
        entails (`todo`) in the same write; 409 if it changed meanwhile. A write
        whose outcome is unknown (a timeout) is read back, not guessed."""
        try:
            result = self._db.execute(
                "UPDATE orders SET status = ?, updated_at = ?, status_history = status_history + ?, todo = todo + ? "
                "WHERE id = ? IF status = ?",
                (change.status, change.changed_at, [_history_entry(change)], todo, order.id, order.status),
            )
        except CassandraUnavailable as error:
            if not outcome_unknown(error):
                raise
            current = self._read_back(order.id)
            if current is None or change not in current.status_history:
                raise
            return current
        if not result.was_applied:
            current = getattr(result.one(), "status", None)
            if current is None:
                raise NotFound(f"order {order.id} does not exist")
            raise Conflict(
                f"order {order.id} changed meanwhile: it is now {current}",
                details={"status": current},
            )
        return order.model_copy(
            update={
                "status": change.status,
                "updated_at": change.changed_at,
                "status_history": [*order.status_history, change],
            }
        )

    def _read_back(self, order_id: UUID) -> OrderPublic | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM orders WHERE id = ?", (order_id,), serial=True).one()
        return _to_public(row) if row is not None else None

    def todo(self, order_id: UUID) -> dict[str, str]:
        row = self._db.execute("SELECT todo FROM orders WHERE id = ?", (order_id,)).one()
        return dict(row.todo or {}) if row is not None else {}

    def done(self, order_id: UUID, key: str) -> None:
        self._db.execute("UPDATE orders SET todo = todo - ? WHERE id = ?", ({key}, order_id))

    def delete(self, order: OrderPublic) -> None:
        batch = BatchStatement(batch_type=BatchType.LOGGED)
        batch.add(self._db.prepare("DELETE FROM orders WHERE id = ?"), (order.id,))
        batch.add(
            self._db.prepare("DELETE FROM orders_by_user WHERE user_id = ? AND created_at = ? AND order_id = ?"),
            (order.user_id, order.created_at, order.id),
        )
        batch.add(
            self._db.prepare("DELETE FROM orders_by_day WHERE day = ? AND created_at = ? AND order_id = ?"),
            (order.created_at.date(), order.created_at, order.id),
        )
        self._db.execute(batch)

    # -- reads

    def get(self, order_id: UUID) -> OrderPublic | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM orders WHERE id = ?", (order_id,)).one()
        return _to_public(row) if row is not None else None

    def get_many(self, order_ids: Sequence[UUID]) -> dict[UUID, OrderPublic]:
        results = self._db.execute_concurrently(
            f"SELECT {_COLUMNS} FROM orders WHERE id = ?", [(order_id,) for order_id in order_ids]
        )
        return {row.id: _to_public(row) for result in results if (row := result.one()) is not None}

    def list_for_user(
        self, user_id: UUID, *, limit: int, cursor: Cursor | None = None, status: OrderStatus | None = None
    ) -> Page[OrderPublic]:
        return self._page(self._user_keys(user_id, cursor), limit=limit, status=status)

    def list_all(
        self, *, limit: int, cursor: Cursor | None = None, status: OrderStatus | None = None
    ) -> Page[OrderPublic]:
        return self._page(self._all_keys(cursor), limit=limit, status=status)

    def _user_keys(self, user_id: UUID, cursor: Cursor | None) -> Iterator[Cursor]:
        if cursor is None:
            rows = self._db.execute("SELECT created_at, order_id FROM orders_by_user WHERE user_id = ?", (user_id,))
        else:
            rows = self._db.execute(
                "SELECT created_at, order_id FROM orders_by_user WHERE user_id = ? AND (created_at, order_id) < (?, ?)",
                (user_id, cursor.created_at, cursor.order_id),
            )
        for row in rows:  # the driver fetches further pages as this iterates
            yield Cursor(aware(row.created_at), row.order_id)

    def _all_keys(self, cursor: Cursor | None) -> Iterator[Cursor]:
        start = cursor.created_at.date() if cursor else date.max
        days = self._db.execute("SELECT day FROM order_days WHERE shard = ? AND day <= ?", (ORDER_DAYS_SHARD, start))
        for day_row in list(days):
            day = day_row.day.date()
            if cursor is not None and day == start:
                rows = self._db.execute(
                    "SELECT created_at, order_id FROM orders_by_day WHERE day = ? AND (created_at, order_id) < (?, ?)",
                    (day, cursor.created_at, cursor.order_id),
                )
            else:
                rows = self._db.execute("SELECT created_at, order_id FROM orders_by_day WHERE day = ?", (day,))
            for row in rows:
                yield Cursor(aware(row.created_at), row.order_id)

    def _page(self, keys: Iterator[Cursor], *, limit: int, status: OrderStatus | None) -> Page[OrderPublic]:
        """Read orders in key order, `limit` at a time, keeping those of `status`."""
        items: list[OrderPublic] = []
        scanned = 0
        last: Cursor | None = None
        exhausted = False
        while len(items) < limit and scanned < MAX_SCANNED:
            chunk = [key for _, key in zip(range(limit), keys, strict=False)]
            if not chunk:
                exhausted = True
                break
            orders = self.get_many([key.order_id for key in chunk])
            for key in chunk:
                scanned += 1
                last = key
                order = orders.get(key.order_id)
                if order is not None and (status is None or order.status == status):
                    items.append(order)
                    if len(items) == limit:
                        break
        next_cursor = None if exhausted or last is None else last.encode()
        return Page(items=items, next_cursor=next_cursor)


def status_changed_event(order: OrderPublic, change: StatusChange) -> DomainEvent:
    """The event of `change` to `order` (as it was before the change)."""
    return DomainEvent(
        type="OrderStatusChanged",
        occurred_at=change.changed_at,
        order_id=order.id,
        user_id=order.user_id,
        payload={"status": change.status, "previous_status": order.status, "reason": change.reason},
    )


class OrderActions:
    """What is done to an order: who may see it, cancel it, move it. The orders
    API and the lifecycle workflow both change statuses only through `move`."""

    def __init__(
        self, *, orders: OrderStore, pointers: WorkPointers, completer: OrderCompleter, clock: Clock = utc_now
    ) -> None:
        self._orders = orders
        self._pointers = pointers
        self._completer = completer
        self._clock = clock

    def visible(self, order_id: UUID, *, user_id: UUID, is_admin: bool) -> OrderPublic:
        """The order if the caller owns it or is an admin; 404 otherwise (not 403:
        another user's order ids are not to be confirmed)."""
        order = self._orders.get(order_id)
        if order is None or (order.user_id != user_id and not is_admin):
            raise NotFound(f"order {order_id} does not exist")
        return order

    def cancel(self, order_id: UUID, *, user_id: UUID, is_admin: bool, reason: str | None) -> OrderPublic:
        order = self.visible(order_id, user_id=user_id, is_admin=is_admin)
        check_cancel(order.status, by_admin=is_admin)
        return self.move(order, "CANCELLED", "admin" if is_admin else "user", reason)

    def set_status(self, order_id: UUID, update: OrderStatusUpdate) -> OrderPublic:
        order = self._orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        check_transition(order.status, update.status)
        return self.move(order, update.status, "admin", update.reason)

    @counted("order_deletions_total")
    def delete(self, order_id: UUID) -> None:
        """Remove a finished order. A live one is refused: cancel it first, which
        gives its stock back, refunds it and stops its execution."""
        order = self._orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} does not exist")
        if order.status not in FINAL_STATUSES:
            raise Conflict(
                f"order {order_id} is {order.status}: cancel it before deleting it",
                details={"status": order.status, "deletable_in": sorted(FINAL_STATUSES)},
            )
        self._orders.delete(order)

    @traced("order.transition")
    def move(self, order: OrderPublic, target: OrderStatus, actor: Actor, reason: str | None) -> OrderPublic:
        """Compare-and-set `order` (as the caller saw it) to `target`, recording
        with it what the change entails (its event; for a cancel: stock back,
        refund, stop the execution); then do that work. 409 if the order
        changed meanwhile. Work that fails now is finished by the sweeper."""
        tag(order_id=order.id, order_status_from=order.status, order_status_to=target, actor=actor)
        check_transition(order.status, target)
        change = StatusChange(status=target, changed_at=to_ms(self._clock()), changed_by=actor, reason=reason)
        event = status_changed_event(order, change)
        todo = {f"{EVENT}{event.id}": event.model_dump_json()}
        if target == "CANCELLED":
            todo |= {RELEASE: "", REFUND: ""}
            # A person's cancel ends the lifecycle execution; the workflow's own
            # cancels (decline, compensation) come from inside it.
            if actor != "system":
                todo[STOP] = f"order cancelled by {actor}"
        pointer = self._pointers.open(order.id, self._clock())  # findable even if we die right after the change
        changed = self._orders.change_status(order, change, todo)
        count("order_status_changes_total", status=target)
        self._completer.complete(order.id, pointer)
        return changed
