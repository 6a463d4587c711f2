"""Payments: a simulated provider behind an adapter interface, and the ledger.

The provider answers a business outcome as data (approved or declined with a
reason) and raises `TransientPaymentError` for a failure worth retrying: the
state machine branches on the data with a Choice state and retries the error
(every Lambda error reaches Step Functions as `States.TaskFailed`).

The simulated provider decides by deterministic rules on the amount, so tests
and demos choose the outcome by the price of what they order:
- amount above `decline_above` -> declined ("amount exceeds the card limit");
- cents in `decline_cents` (default 13, e.g. 10.13) -> declined ("card declined");
- cents in `transient_cents` (default 42) -> the first `transient_failures`
  attempts fail transiently, then it approves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal, Protocol
from uuid import UUID

from store.db import Database

Outcome = Literal["approved", "declined"]
PaymentStatus = Literal["PENDING", "AUTHORIZED", "DECLINED", "REFUNDED"]


class TransientPaymentError(RuntimeError):
    """The provider could not answer now; the same request may succeed later."""


@dataclass(frozen=True)
class Authorization:
    outcome: Outcome
    reason: str | None = None


class PaymentProvider(Protocol):
    def authorize(self, order_id: UUID, amount: Decimal, attempt: int) -> Authorization: ...

    def refund(self, order_id: UUID, amount: Decimal) -> None: ...


def _cents(amount: Decimal) -> int:
    return int((amount * 100) % 100)


def _int_set(raw: str) -> frozenset[int]:
    return frozenset(int(part) for part in raw.split(",") if part.strip())


@dataclass(frozen=True)
class SimulatedProvider:
    decline_above: Decimal = Decimal("100000.00")
    decline_cents: frozenset[int] = field(default_factory=lambda: frozenset({13}))
    transient_cents: frozenset[int] = field(default_factory=lambda: frozenset({42}))
    transient_failures: int = 2

    @classmethod
    def from_environment(cls) -> SimulatedProvider:
        return cls(
            decline_above=Decimal(os.environ.get("PAYMENT_DECLINE_ABOVE", "100000.00")),
            decline_cents=_int_set(os.environ.get("PAYMENT_DECLINE_CENTS", "13")),
            transient_cents=_int_set(os.environ.get("PAYMENT_TRANSIENT_CENTS", "42")),
            transient_failures=int(os.environ.get("PAYMENT_TRANSIENT_FAILURES", "2")),
        )

    def authorize(self, order_id: UUID, amount: Decimal, attempt: int) -> Authorization:
        if amount > self.decline_above:
            return Authorization("declined", f"amount {amount} exceeds the card limit")
        cents = _cents(amount)
        if cents in self.decline_cents:
            return Authorization("declined", "card declined by the issuer")
        if cents in self.transient_cents and attempt <= self.transient_failures:
            raise TransientPaymentError(f"payment provider unavailable (attempt {attempt})")
        return Authorization("approved")

    def refund(self, order_id: UUID, amount: Decimal) -> None:
        """The simulation always refunds."""


class PaymentLedger:
    """The payment of each order in Cassandra (`payments`), so a refund happens
    only for an authorized payment and at most once (compare-and-set)."""

    def __init__(self, database: Database, provider: PaymentProvider) -> None:
        self._db = database
        self._provider = provider

    def status(self, order_id: UUID) -> PaymentStatus | None:
        row = self._db.execute("SELECT status FROM payments WHERE order_id = ?", (order_id,)).one()
        return row.status if row is not None else None

    def authorize(self, order_id: UUID, user_id: UUID, amount: Decimal) -> Authorization:
        row = self._db.execute("SELECT status, attempts, reason FROM payments WHERE order_id = ?", (order_id,)).one()
        if row is not None and row.status in ("AUTHORIZED", "DECLINED", "REFUNDED"):
            # A retried task: answer what was decided, never charge twice.
            outcome: Outcome = "declined" if row.status == "DECLINED" else "approved"
            return Authorization(outcome, row.reason)
        attempt = (row.attempts if row is not None else 0) + 1
        self._record(order_id=order_id, user_id=user_id, amount=amount, status="PENDING", attempts=attempt, reason=None)
        result = self._provider.authorize(order_id, amount, attempt)
        status: PaymentStatus = "AUTHORIZED" if result.outcome == "approved" else "DECLINED"
        self._record(
            order_id=order_id, user_id=user_id, amount=amount, status=status, attempts=attempt, reason=result.reason
        )
        return result

    def refund(self, order_id: UUID) -> bool:
        """Refund an authorized payment; False when there is none (or it was refunded)."""
        row = self._db.execute("SELECT amount FROM payments WHERE order_id = ?", (order_id,)).one()
        if row is None:
            return False
        taken = self._db.execute(
            "UPDATE payments SET status = ?, updated_at = ? WHERE order_id = ? IF status = ?",
            ("REFUNDED", datetime.now(UTC), order_id, "AUTHORIZED"),
        )
        if not taken.was_applied:
            return False
        self._provider.refund(order_id, row.amount)
        return True

    def _record(
        self,
        *,
        order_id: UUID,
        user_id: UUID,
        amount: Decimal,
        status: PaymentStatus,
        attempts: int,
        reason: str | None,
    ) -> None:
        self._db.execute(
            "INSERT INTO payments (order_id, user_id, amount, status, attempts, reason, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (order_id, user_id, amount, status, attempts, reason, datetime.now(UTC)),
        )
