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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID

from store.clock import Clock, aware, utc_now
from store.config import Settings
from store.db import Database
from store.ports import PaymentRecords
from store.tracing import traced

Outcome = Literal["approved", "declined"]
PaymentStatus = Literal["PENDING", "AUTHORIZED", "DECLINED", "REFUNDING", "REFUNDED"]


class TransientPaymentError(RuntimeError):
    """The provider could not answer now; the same request may succeed later."""


@dataclass(frozen=True)
class Authorization:
    outcome: Outcome
    reason: str | None = None


class PaymentProvider(Protocol):
    def authorize(self, order_id: UUID, amount: Decimal, attempt: int) -> Authorization: ...

    def refund(self, order_id: UUID, amount: Decimal) -> None:
        """Refund the order's authorization; the order id is the idempotency key,
        so asking twice refunds once (as real providers' idempotency keys do)."""
        ...


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
    def from_settings(cls, settings: Settings) -> SimulatedProvider:
        return cls(
            decline_above=settings.payment_decline_above,
            decline_cents=_int_set(settings.payment_decline_cents),
            transient_cents=_int_set(settings.payment_transient_cents),
            transient_failures=settings.payment_transient_failures,
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


@dataclass(frozen=True)
class PaymentRecord:
    """An order's payment as the ledger keeps it (`payments`, by order id)."""

    order_id: UUID
    user_id: UUID
    amount: Decimal
    status: PaymentStatus
    attempts: int
    reason: str | None
    updated_at: datetime
    # When each status was first reached; the ledger only adds to it.
    times: dict[str, datetime] = field(default_factory=dict)


class PaymentRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    def get(self, order_id: UUID) -> PaymentRecord | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM payments WHERE order_id = ?",
            (order_id,),
        ).one()
        return _record(row) if row is not None else None

    def get_many(self, order_ids: Sequence[UUID]) -> dict[UUID, PaymentRecord]:
        """The payments of these orders (one query; a page of orders is small)."""
        if not order_ids:
            return {}
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM payments WHERE order_id IN ?", (list(order_ids),))
        return {row.order_id: _record(row) for row in rows}

    def put(self, record: PaymentRecord) -> None:
        # An UPDATE (an upsert) so `times` is added to, not replaced.
        self._db.execute(
            "UPDATE payments SET user_id = ?, amount = ?, status = ?, attempts = ?, reason = ?, updated_at = ?, "
            "times = times + ? WHERE order_id = ?",
            (
                record.user_id,
                record.amount,
                record.status,
                record.attempts,
                record.reason,
                record.updated_at,
                {record.status: record.updated_at},
                record.order_id,
            ),
        )

    def move(self, order_id: UUID, expected: PaymentStatus, target: PaymentStatus, now: datetime) -> bool:
        """Compare-and-set the payment's status; true for exactly one caller."""
        result = self._db.execute(
            "UPDATE payments SET status = ?, updated_at = ?, times = times + ? WHERE order_id = ? IF status = ?",
            (target, now, {target: now}, order_id, expected),
        )
        return bool(result.was_applied)


_COLUMNS = "order_id, user_id, amount, status, attempts, reason, updated_at, times"


def _record(row: Any) -> PaymentRecord:
    return PaymentRecord(
        order_id=row.order_id,
        user_id=row.user_id,
        amount=row.amount,
        status=row.status,
        attempts=row.attempts or 0,
        reason=row.reason,
        updated_at=aware(row.updated_at),
        times={status: aware(at) for status, at in (row.times or {}).items()},
    )


class PaymentLedger:
    """The payment of each order, so a retried task never charges twice and a
    refund happens only for an authorized payment, and at most once."""

    def __init__(self, records: PaymentRecords, provider: PaymentProvider, clock: Clock = utc_now) -> None:
        self._records = records
        self._provider = provider
        self._clock = clock

    @traced("payment.authorize")
    def authorize(self, order_id: UUID, user_id: UUID, amount: Decimal) -> Authorization:
        record = self._records.get(order_id)
        if record is not None and record.status != "PENDING":
            # A retried task: answer what was decided, never charge twice.
            outcome: Outcome = "declined" if record.status == "DECLINED" else "approved"
            return Authorization(outcome, record.reason)
        attempt = (record.attempts if record is not None else 0) + 1
        pending = PaymentRecord(order_id, user_id, amount, "PENDING", attempt, None, self._clock())
        self._records.put(pending)
        result = self._provider.authorize(order_id, amount, attempt)
        status: PaymentStatus = "AUTHORIZED" if result.outcome == "approved" else "DECLINED"
        self._records.put(replace(pending, status=status, reason=result.reason, updated_at=self._clock()))
        return result

    @traced("payment.refund")
    def refund(self, order_id: UUID) -> bool:
        """Refund an authorized payment, exactly once: AUTHORIZED -> REFUNDING is
        recorded before the provider is asked (with the order id as its
        idempotency key), REFUNDING -> REFUNDED after; a crash in between is
        finished by the next call. False when there is nothing (left) to refund."""
        record = self._records.get(order_id)
        if record is None:
            return False
        if record.status == "AUTHORIZED":
            if not self._records.move(order_id, "AUTHORIZED", "REFUNDING", self._clock()):
                return False  # another caller took it
        elif record.status != "REFUNDING":
            return False
        self._provider.refund(order_id, record.amount)
        return self._records.move(order_id, "REFUNDING", "REFUNDED", self._clock())
