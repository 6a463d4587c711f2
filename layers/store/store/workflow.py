"""The order lifecycle: what each task of the state machine does.

The state machine (`statemachines/order_lifecycle.asl.json`) is
Wait -> authorize payment -> PROCESSING -> Wait -> SHIPPING -> Wait (delivery)
-> DELIVERED -> Wait (retention) -> purge. Every task returns data the machine
branches on with Choice states; only transient failures raise (retried on
`States.TaskFailed`, then caught into `compensate`).

Each transition is a compare-and-set from the status the step expects, through
`OrderActions.move` (the one way a status changes), so a step never overwrites
a cancellation or an admin's change: it reports `applied: false` and the
execution ends as superseded.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from store.clock import aware
from store.db import Database
from store.errors import Conflict
from store.observability import MetricUnit, count, logger, observe
from store.orders import OrderActions, OrderPublic, OrderStatus
from store.payments import PaymentLedger
from store.ports import LifetimeRecords, OrderStore, WorkflowControl

# A failed workflow cancels an order only before it ships.
COMPENSATED_BY_CANCEL: frozenset[OrderStatus] = frozenset({"CREATED", "PROCESSING"})

# Defaults from the seeds, in seconds, before the deploy's time scale.
PROCESSING_DELAY = 5.0
SHIPPING_DELAY = 5.0
DELIVERY_RANGE = (60.0, 300.0)
RETENTION = 300.0


def _scaled(seconds: float, scale: float) -> int:
    """Wait states take whole seconds; a scaled wait is at least one second, so
    every status is observable for a moment even at a tiny scale."""
    return max(1, math.ceil(seconds * scale - 1e-9))


def execution_input(order_id: UUID, scale: float) -> dict[str, Any]:
    """The input of an order's execution. The delivery time is drawn from the
    order id, so a redelivered OrderCreated draws the same time."""
    delivery = random.Random(order_id.int).uniform(*DELIVERY_RANGE)  # noqa: S311 - a simulation, not security
    return {
        "order_id": str(order_id),
        "timings": {
            "scale": scale,
            "processing_delay_seconds": _scaled(PROCESSING_DELAY, scale),
            "shipping_delay_seconds": _scaled(SHIPPING_DELAY, scale),
            "delivery_seconds": _scaled(delivery, scale),
            "retention_seconds": _scaled(RETENTION, scale),
        },
    }


class LifetimeStats:
    """A user's delivered orders (`user_lifetime_orders`), kept after purge."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def record(self, order: OrderPublic, delivered_at: datetime) -> None:
        # An upsert of one row per order: recording twice counts once.
        self._db.execute(
            "INSERT INTO user_lifetime_orders (user_id, order_id, total, created_at, delivered_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (order.user_id, order.id, order.total, order.created_at, delivered_at),
        )

    def of(self, user_id: UUID) -> tuple[dict[UUID, Decimal], datetime | None]:
        """Every delivered order of the user with its total; the latest one's creation time."""
        rows = list(
            self._db.execute(
                "SELECT order_id, total, created_at FROM user_lifetime_orders WHERE user_id = ?", (user_id,)
            )
        )
        last = max((aware(row.created_at) for row in rows), default=None)
        return {row.order_id: row.total for row in rows}, last


@dataclass(frozen=True)
class Step:
    applied: bool
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "status": self.status}


class OrderWorkflow:
    def __init__(
        self, *, orders: OrderStore, actions: OrderActions, payments: PaymentLedger, stats: LifetimeRecords
    ) -> None:
        self._orders = orders
        self._actions = actions
        self._payments = payments
        self._stats = stats

    def authorize_payment(self, order_id: UUID) -> dict[str, Any]:
        order = self._orders.get(order_id)
        if order is None or order.status != "CREATED":
            # Cancelled (or changed by an admin) before the payment: nothing to charge.
            return {"outcome": "superseded", "status": order.status if order else "MISSING", "reason": None}
        result = self._payments.authorize(order.id, order.user_id, order.total)
        count("payments_total", outcome=result.outcome)
        return {"outcome": result.outcome, "status": order.status, "reason": result.reason}

    def transition(self, order_id: UUID, expected: OrderStatus, target: OrderStatus, reason: str | None) -> Step:
        order = self._orders.get(order_id)
        if order is None:
            return Step(False, "MISSING")
        last = order.status_history[-1] if order.status_history else None
        if order.status == target and last is not None and last.changed_by == "system":
            return Step(True, target)  # a retried step whose write had happened
        if order.status != expected:
            logger.info("step superseded", extra={"order_id": str(order_id), "status": order.status})
            return Step(False, order.status)
        try:
            changed = self._actions.move(order, target, "system", reason)
        except Conflict:
            current = self._orders.get(order_id)
            return Step(False, current.status if current else "MISSING")
        count("orders_status_total", status=target)
        if target == "DELIVERED":
            delivered_at = changed.updated_at
            self._stats.record(changed, delivered_at)
            duration = (delivered_at - changed.created_at).total_seconds()
            logger.info(
                "order delivered",
                extra={"order_id": str(order_id), "order_delivery_duration_seconds": duration},
            )
            # The raw value: the metrics bridge (and CloudWatch) build the seeds' histogram.
            observe("order_delivery_duration_seconds", MetricUnit.Seconds, duration)
        return Step(True, target)

    def compensate(self, order_id: UUID, cause: str) -> dict[str, Any]:
        """A task failed after its whole retry budget. Before shipping, cancel
        (stock back, refund) so the order ends visibly. A SHIPPING order is on
        its way: an infrastructure failure must not cancel it, so it is left as
        it is for `storectl redrive` (the execution fails and is counted in
        `order_workflow_failures_total`, which an alert watches). An order
        already final is only refunded if cancelled."""
        order = self._orders.get(order_id)
        count("order_workflow_failures_total", status=order.status if order else "MISSING")
        if order is None:
            return {"status": "MISSING"}
        if order.status in COMPENSATED_BY_CANCEL:
            try:
                order = self._actions.move(order, "CANCELLED", "system", f"order workflow failed: {cause}"[:500])
                count("orders_status_total", status="CANCELLED")
            except Conflict:
                order = self._orders.get(order_id) or order
        if order.status == "CANCELLED":
            self._payments.refund(order_id)
        logger.warning("order compensated", extra={"order_id": str(order_id), "cause": cause})
        return {"status": order.status}

    def reconcile(self, order_id: UUID) -> dict[str, Any]:
        """A step was superseded: if the order was cancelled meanwhile (perhaps
        while the payment was being authorized), make sure it is refunded."""
        order = self._orders.get(order_id)
        status = order.status if order else "MISSING"
        refunded = self._payments.refund(order_id) if status == "CANCELLED" else False
        return {"status": status, "refunded": refunded}

    def purge(self, order_id: UUID) -> dict[str, Any]:
        """Retention is over: remove the order from the active views. Its lifetime
        stats row stays (written again here, idempotently, in case)."""
        order = self._orders.get(order_id)
        if order is None:
            return {"purged": False}
        if order.status == "DELIVERED":
            self._stats.record(order, order.updated_at)
        self._orders.delete(order)
        return {"purged": True}


class LifecycleStarter:
    """Starts an order's lifecycle execution, named by the order id, so a
    redelivered OrderCreated starts nothing twice."""

    def __init__(self, control: WorkflowControl, scale: float) -> None:
        self._control = control
        self._scale = scale

    def start(self, order_id: UUID) -> bool:
        """True when this call started it; False when it had been started before."""
        return self._control.start(order_id, execution_input(order_id, self._scale))
