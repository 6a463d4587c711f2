"""Reservations that survive a crash: checkout intents and their sweeper.

A checkout records its intent (order id, user, lines, a deadline) before it
takes any stock, and the intent is deleted in the same logged batch that
writes the order. So an intent still there after its deadline is a checkout
that died, timed out, or whose order write had an unknown outcome. The sweeper
(run by the outbox relay's schedule) settles each: if the order exists, the
stock was sold and only the intent goes; if not, it gives back exactly what
the checkout took. Stock movements are keyed by the order
(`reserve:<order>` / `release:<order>`, in the product row), so a release
happens only for a reservation that happened, and once.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cassandra.query import BatchStatement

from store.clock import Clock, aware, to_ms, utc_now
from store.db import Database
from store.observability import count, logger
from store.ports import IntentStore, OrderStore, ProductStock

BUCKETS = 16
# Far longer than a checkout can run (the function times out at 15 s) and than
# Cassandra takes to replay a logged batch from its batch log: an order whose
# write had an unknown outcome exists by then, or never will.
# (Settings.checkout_intent_seconds; this is its default.)
INTENT_LIFETIME = timedelta(minutes=2)
SWEEP_LIMIT_PER_BUCKET = 200


@dataclass(frozen=True)
class CheckoutIntent:
    order_id: UUID
    user_id: UUID
    lines: dict[UUID, int]
    expires_at: datetime

    @property
    def bucket(self) -> int:
        return zlib.crc32(self.order_id.bytes) % BUCKETS


class CheckoutIntents:
    def __init__(self, database: Database) -> None:
        self._db = database

    def open(self, intent: CheckoutIntent) -> None:
        self._db.execute(
            "INSERT INTO checkout_intents (bucket, expires_at, order_id, user_id, lines) VALUES (?, ?, ?, ?, ?)",
            (intent.bucket, intent.expires_at, intent.order_id, intent.user_id, intent.lines),
        )

    def close_in(self, batch: BatchStatement, intent: CheckoutIntent) -> None:
        """End the checkout in the caller's logged batch (the order's): the intent
        goes, and so do the cart lines it ordered. A retry after a lost answer
        then finds them gone and cannot order them twice."""
        batch.add(self._db.prepare(_DELETE), (intent.bucket, intent.expires_at, intent.order_id))
        take = self._db.prepare("DELETE FROM cart_items WHERE user_id = ? AND product_id = ?")
        for product_id in intent.lines:
            batch.add(take, (intent.user_id, product_id))

    def close(self, intent: CheckoutIntent) -> None:
        self._db.execute(_DELETE, (intent.bucket, intent.expires_at, intent.order_id))

    def expired(self, now: datetime) -> list[CheckoutIntent]:
        statement = self._db.prepare(
            "SELECT expires_at, order_id, user_id, lines FROM checkout_intents "
            "WHERE bucket = ? AND expires_at <= ? LIMIT ?"
        )
        futures = [self._db.execute_async(statement, (b, now, SWEEP_LIMIT_PER_BUCKET)) for b in range(BUCKETS)]
        return [_intent(row) for future in futures for row in self._db.result(future)]


_DELETE = "DELETE FROM checkout_intents WHERE bucket = ? AND expires_at = ? AND order_id = ?"


def _intent(row: Any) -> CheckoutIntent:
    return CheckoutIntent(
        order_id=row.order_id, user_id=row.user_id, lines=dict(row.lines or {}), expires_at=aware(row.expires_at)
    )


def new_intent(
    order_id: UUID, user_id: UUID, lines: dict[UUID, int], now: datetime, lifetime: timedelta = INTENT_LIFETIME
) -> CheckoutIntent:
    return CheckoutIntent(order_id, user_id, lines, to_ms(now + lifetime))


class ReservationSweeper:
    """Settles checkout intents that outlived their deadline."""

    def __init__(
        self, *, intents: IntentStore, orders: OrderStore, products: ProductStock, clock: Clock = utc_now
    ) -> None:
        self._intents = intents
        self._orders = orders
        self._products = products
        self._clock = clock

    def sweep(self) -> dict[str, int]:
        settled = {"sold": 0, "released": 0}
        for intent in self._intents.expired(self._clock()):
            outcome = self.settle(intent)
            settled[outcome] += 1
        return settled

    def settle(self, intent: CheckoutIntent) -> str:
        if self._orders.get(intent.order_id) is not None:
            self._intents.close(intent)  # the order (and so its stock) stands
            return "sold"
        for product_id, units in sorted(intent.lines.items(), key=lambda line: str(line[0])):
            if self._products.release(product_id, units, order_id=intent.order_id):
                count("reservations_released_total")
        self._intents.close(intent)
        logger.warning("a checkout left stock reserved; given back", extra={"order_id": str(intent.order_id)})
        return "released"
