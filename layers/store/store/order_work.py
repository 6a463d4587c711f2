"""An order's outstanding work after a status change, completed until done.

A status change records what it entails in the same compare-and-set as the
status (the order row's `todo` map): its `OrderStatusChanged` event, and for a
cancel giving the stock back, refunding and stopping the lifecycle execution.
Before that compare-and-set, a pointer to the order goes into `order_work`, so
a crash right after it is still found. The request completes the work at once;
the sweeper completes whatever a crash or a failing dependency left, every
minute, and drops the pointer once nothing is left. Every step is idempotent
(the event is keyed by its id, stock movements by the order, the refund and
the stop by the order), so doing one twice changes nothing.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from store.clock import Clock, aware, utc_now
from store.db import Database
from store.events import DomainEvent
from store.observability import count, logger
from store.outbox import OutboxRelay
from store.ports import EventOutbox, OrderStore, ProductStock, Refunds, WorkflowControl, WorkPointers

BUCKETS = 16
# The request itself normally finishes the work; the sweeper steps in after this.
SWEEP_AFTER = timedelta(seconds=60)

EVENT = "event:"
RELEASE = "release"
REFUND = "refund"
STOP = "stop"


@dataclass(frozen=True)
class WorkPointer:
    order_id: UUID
    due_at: datetime


def _bucket(order_id: UUID) -> int:
    return zlib.crc32(order_id.bytes) % BUCKETS


class OrderWorkPointers:
    def __init__(self, database: Database) -> None:
        self._db = database

    def open(self, order_id: UUID, now: datetime) -> WorkPointer:
        pointer = WorkPointer(order_id, now + SWEEP_AFTER)
        self._db.execute(
            "INSERT INTO order_work (bucket, order_id, due_at) VALUES (?, ?, ?)",
            (_bucket(order_id), order_id, pointer.due_at),
        )
        return pointer

    def close(self, pointer: WorkPointer) -> bool:
        """Remove the pointer unless it was opened again meanwhile (a new change
        of the same order, whose work must stay findable)."""
        result = self._db.execute(
            "DELETE FROM order_work WHERE bucket = ? AND order_id = ? IF due_at = ?",
            (_bucket(pointer.order_id), pointer.order_id, pointer.due_at),
        )
        return bool(result.was_applied)

    def due(self, now: datetime) -> list[WorkPointer]:
        statement = self._db.prepare("SELECT order_id, due_at FROM order_work WHERE bucket = ?")
        futures = [self._db.execute_async(statement, (bucket,)) for bucket in range(BUCKETS)]
        pointers = [WorkPointer(row.order_id, aware(row.due_at)) for f in futures for row in self._db.result(f)]
        return [pointer for pointer in pointers if pointer.due_at <= now]


def _log_failure(order_id: UUID, step: str, error: Exception) -> None:
    logger.warning(
        "order work failed; the sweeper retries it",
        extra={"order_id": str(order_id), "step": step.split(":", maxsplit=1)[0], "error": repr(error)},
    )


class OrderCompleter:
    """Does an order's outstanding work, each step once."""

    def __init__(
        self,
        *,
        orders: OrderStore,
        products: ProductStock,
        outbox: EventOutbox,
        relay: OutboxRelay | None,
        refunds: Refunds | None,
        workflow: WorkflowControl | None,
        pointers: WorkPointers,
        clock: Clock = utc_now,
    ) -> None:
        self._orders = orders
        self._products = products
        self._outbox = outbox
        self._relay = relay
        self._refunds = refunds
        self._workflow = workflow
        self._pointers = pointers
        self._clock = clock

    def complete(self, order_id: UUID, pointer: WorkPointer | None = None) -> bool:
        """Do what the order still has to do; True when nothing is left (and the
        pointer, if given, is closed). Never raises: what fails is logged and
        left, with its pointer, for the sweeper."""
        try:
            left = 0
            for key, value in sorted(self._orders.todo(order_id).items()):
                try:
                    self._do(order_id, key, value)
                    self._orders.done(order_id, key)
                except Exception as error:
                    left += 1
                    _log_failure(order_id, key, error)
            if left == 0 and pointer is not None:
                self._pointers.close(pointer)
        except Exception as error:
            _log_failure(order_id, "read", error)
            return False
        return left == 0

    def _do(self, order_id: UUID, key: str, value: str) -> None:
        if key.startswith(EVENT):
            event = DomainEvent.model_validate_json(value)
            self._outbox.write(event)  # same event id, same rows: writing twice is one event
            if self._relay is not None:
                self._relay.deliver_soon(event)
        elif key == RELEASE:
            order = self._orders.get(order_id)
            for item in order.items if order is not None else []:
                self._products.release(item.product_id, item.quantity, order_id=order_id)
        elif key == REFUND:
            if self._refunds is not None:
                self._refunds.refund(order_id)
        elif key == STOP:
            if self._workflow is not None:
                self._workflow.stop(order_id, value)
        else:
            logger.error("unknown order work; dropped", extra={"order_id": str(order_id), "step": key})

    def sweep(self) -> dict[str, int]:
        result = {"completed": 0, "left": 0}
        for pointer in self._pointers.due(self._clock()):
            done = self.complete(pointer.order_id, pointer)
            result["completed" if done else "left"] += 1
        if result["left"]:
            count("order_work_left_total", value=result["left"])
        return result
