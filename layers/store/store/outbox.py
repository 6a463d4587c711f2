"""The transactional outbox of order events.

An event is written in the same logged batch as the change that caused it (the
order), into `outbox` (kept for audit) and `outbox_pending` (one of BUCKETS
small partitions). The relay publishes pending events to SNS `order-events`:
right after the change (the fast path) and on a schedule (the sweep). Before
publishing, a relay leases the row by compare-and-set, so the fast path and a
sweep, or two sweeps, do not both publish it; after publishing it deletes the
row. If SNS is down the row simply stays pending for the next sweep. A relay
that dies between publishing and deleting publishes the event again later, so
consumers stay idempotent on the event id (at-least-once, deduplicated).
"""

from __future__ import annotations

import zlib
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from cassandra.query import BatchStatement, BatchType
from pybreaker import CircuitBreaker

from store.clock import Clock, aware, to_ms, utc_now
from store.db import CassandraUnavailable, Database
from store.events import DomainEvent
from store.observability import MetricUnit, logger, observe
from store.ports import EventOutbox, EventPublisher
from store.tracing import from_body, span

BUCKETS = 16
LEASE = timedelta(seconds=30)
SWEEP_LIMIT_PER_BUCKET = 100


def bucket_of(event_id: UUID) -> int:
    """A stable bucket in [0, BUCKETS) (not Python's hash(), which varies per process)."""
    return zlib.crc32(event_id.bytes) % BUCKETS


@dataclass(frozen=True)
class PendingEvent:
    bucket: int
    created_at: datetime
    event_id: UUID
    event_type: str
    body: str
    lease_until: datetime | None


def pending_event(event: DomainEvent) -> PendingEvent:
    """The pending row of an event just written (the fast path needs no read)."""
    return PendingEvent(
        bucket=bucket_of(event.id),
        created_at=to_ms(event.occurred_at).replace(tzinfo=None),
        event_id=event.id,
        event_type=event.type,
        body=event.model_dump_json(),
        lease_until=None,
    )


class Outbox:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, batch: BatchStatement, event: DomainEvent) -> None:
        """Add the event's rows to the caller's logged batch (written with its change)."""
        body = event.model_dump_json()
        created_at = to_ms(event.occurred_at)
        batch.add(
            self._db.prepare(
                "INSERT INTO outbox (event_id, event_type, order_id, body, created_at) VALUES (?, ?, ?, ?, ?)"
            ),
            (event.id, event.type, event.order_id, body, created_at),
        )
        batch.add(
            self._db.prepare(
                "INSERT INTO outbox_pending (bucket, created_at, event_id, event_type, body) VALUES (?, ?, ?, ?, ?)"
            ),
            (bucket_of(event.id), created_at, event.id, event.type, body),
        )

    def write(self, event: DomainEvent) -> None:
        """Record an event on its own (when its change was a compare-and-set, which cannot join a batch)."""
        batch = BatchStatement(batch_type=BatchType.LOGGED)
        self.add(batch, event)
        self._db.execute(batch)

    def pending(self, limit_per_bucket: int = SWEEP_LIMIT_PER_BUCKET) -> list[PendingEvent]:
        """The oldest pending events of every bucket, read concurrently."""
        statement = self._db.prepare(
            "SELECT bucket, created_at, event_id, event_type, body, lease_until FROM outbox_pending "
            "WHERE bucket = ? LIMIT ?"
        )
        futures = [self._db.execute_async(statement, (bucket, limit_per_bucket)) for bucket in range(BUCKETS)]
        events = []
        for future in futures:
            for row in self._db.result(future):
                events.append(
                    PendingEvent(
                        bucket=row.bucket,
                        created_at=row.created_at,
                        event_id=row.event_id,
                        event_type=row.event_type,
                        body=row.body,
                        lease_until=aware(row.lease_until) if row.lease_until else None,
                    )
                )
        return sorted(events, key=lambda event: event.created_at)

    def lease(self, event: PendingEvent, now: datetime) -> bool:
        """Take the row for publishing. Fails if another relay holds a live lease,
        or the row is gone (published). `event_type = ?` makes a deleted row fail
        the condition instead of being recreated by the update."""
        if event.lease_until is not None and event.lease_until > now:
            return False
        result = self._db.execute(
            "UPDATE outbox_pending SET lease_until = ? WHERE bucket = ? AND created_at = ? AND event_id = ? "
            "IF event_type = ? AND lease_until = ?",
            (
                now + LEASE,
                event.bucket,
                event.created_at,
                event.event_id,
                event.event_type,
                event.lease_until,
            ),
        )
        return bool(result.was_applied)

    def release_lease(self, event: PendingEvent) -> None:
        """Publishing failed: let the next sweep retry at once rather than after the lease."""
        self._db.execute(
            "UPDATE outbox_pending SET lease_until = null WHERE bucket = ? AND created_at = ? AND event_id = ? "
            "IF event_type = ?",
            (event.bucket, event.created_at, event.event_id, event.event_type),
        )

    def mark_sent(self, event: PendingEvent, now: datetime) -> None:
        batch = BatchStatement(batch_type=BatchType.LOGGED)
        batch.add(
            self._db.prepare("DELETE FROM outbox_pending WHERE bucket = ? AND created_at = ? AND event_id = ?"),
            (event.bucket, event.created_at, event.event_id),
        )
        batch.add(self._db.prepare("UPDATE outbox SET sent_at = ? WHERE event_id = ?"), (now, event.event_id))
        self._db.execute(batch)


@dataclass
class SweepResult:
    published: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"published": self.published, "failed": self.failed, "skipped": self.skipped}


class OutboxRelay:
    def __init__(
        self,
        outbox: EventOutbox,
        publisher: EventPublisher,
        clock: Clock = utc_now,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._clock = clock
        # Around the publish (store.breakers): while SNS is down, a sweep stops at
        # the first refused event instead of trying (and timing out on) every one.
        self._breaker = breaker

    @property
    def breaker_state(self) -> str:
        return self._breaker.current_state if self._breaker is not None else "none"

    def _publish(self, event: PendingEvent) -> None:
        if self._breaker is None:
            self._publisher.publish(event.event_type, event.body)
        else:
            self._breaker.call(self._publisher.publish, event.event_type, event.body)

    def deliver_soon(self, event: DomainEvent) -> None:
        """The fast path, right after the change that recorded `event`: never fails
        the caller, whose change is made; what is not published here stays
        pending for the sweep."""
        try:
            self.deliver(pending_event(event))
        except Exception as error:
            logger.warning(
                "fast-path publish failed; left for the sweep",
                extra={"event_id": str(event.id), "order_id": str(event.order_id), "error": repr(error)},
            )

    def deliver(self, event: PendingEvent) -> bool:
        """Lease, publish, mark sent. False when leased elsewhere or publishing failed
        (the event then stays pending). Cassandra errors propagate."""
        now = self._clock()
        if not self._outbox.lease(event, now):
            return False
        try:
            # A child of the operation that recorded the event, whichever relay publishes it.
            with span("outbox.publish", context=from_body(event.body), event_type=event.event_type):
                self._publish(event)
        except Exception as error:
            logger.warning(
                "publishing an outbox event failed; it stays pending",
                extra={"event_id": str(event.event_id), "error": repr(error)},
            )
            with suppress(CassandraUnavailable):  # if so, the lease simply expires
                self._outbox.release_lease(event)
            return False
        sent = self._clock()
        self._outbox.mark_sent(event, sent)
        # From the change that recorded the event to its publication.
        observe("outbox_processing_seconds", MetricUnit.Seconds, (sent - aware(event.created_at)).total_seconds())
        return True

    def sweep(self) -> SweepResult:
        result = SweepResult()
        now = self._clock()
        for event in self._outbox.pending():
            if event.lease_until is not None and event.lease_until > now:
                result.skipped += 1
            elif self.deliver(event):
                result.published += 1
            else:
                result.failed += 1
                if self.breaker_state == "open":
                    break  # the rest would be refused too; the next sweep tries again
        return result
