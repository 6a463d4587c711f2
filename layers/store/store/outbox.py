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
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from cassandra.query import BatchStatement, BatchType

from store.config import Settings
from store.db import CassandraUnavailable, Database
from store.events import DomainEvent
from store.observability import logger

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


class Publisher(Protocol):
    def publish(self, event_type: str, body: str) -> None: ...


class SnsPublisher:
    """Publishes to the order events topic, with short timeouts so a checkout
    does not hang on SNS: a failure leaves the event for the sweep."""

    def __init__(self, topic_arn: str) -> None:
        import boto3  # noqa: PLC0415 - slow import, only where events are published
        from botocore.config import Config  # noqa: PLC0415

        self._topic_arn = topic_arn
        self._client = boto3.client(
            "sns",
            config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}),
        )

    def publish(self, event_type: str, body: str) -> None:
        self._client.publish(
            TopicArn=self._topic_arn,
            Message=body,
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}},
        )


def _ms(moment: datetime) -> datetime:
    """Cassandra keeps milliseconds; round so a read-back row compares equal."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class Outbox:
    def __init__(self, database: Database) -> None:
        self._db = database

    def add(self, batch: BatchStatement, event: DomainEvent) -> None:
        """Add the event's rows to the caller's logged batch (written with its change)."""
        body = event.model_dump_json()
        created_at = _ms(event.occurred_at)
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
                        lease_until=row.lease_until.replace(tzinfo=UTC) if row.lease_until else None,
                    )
                )
        return sorted(events, key=lambda event: event.created_at)

    def pending_event(self, event: DomainEvent) -> PendingEvent:
        """The pending row of an event just written (the fast path needs no read)."""
        return PendingEvent(
            bucket=bucket_of(event.id),
            created_at=_ms(event.occurred_at).replace(tzinfo=None),
            event_id=event.id,
            event_type=event.type,
            body=event.model_dump_json(),
            lease_until=None,
        )

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
    def __init__(self, outbox: Outbox, publisher: Publisher) -> None:
        self._outbox = outbox
        self._publisher = publisher

    def deliver(self, event: PendingEvent) -> bool:
        """Lease, publish, mark sent. False when leased elsewhere or publishing failed
        (the event then stays pending). Cassandra errors propagate."""
        now = datetime.now(UTC)
        if not self._outbox.lease(event, now):
            return False
        try:
            self._publisher.publish(event.event_type, event.body)
        except Exception as error:
            logger.warning(
                "publishing an outbox event failed; it stays pending",
                extra={"event_id": str(event.event_id), "error": repr(error)},
            )
            with suppress(CassandraUnavailable):  # if so, the lease simply expires
                self._outbox.release_lease(event)
            return False
        self._outbox.mark_sent(event, datetime.now(UTC))
        return True

    def sweep(self) -> SweepResult:
        result = SweepResult()
        now = datetime.now(UTC)
        for event in self._outbox.pending():
            if event.lease_until is not None and event.lease_until > now:
                result.skipped += 1
            elif self.deliver(event):
                result.published += 1
            else:
                result.failed += 1
        return result


def relay_for(database: Database, settings: Settings) -> OutboxRelay | None:
    """The relay of this function, or None when no topic is configured."""
    if not settings.order_events_topic_arn:
        return None
    return OutboxRelay(Outbox(database), SnsPublisher(settings.order_events_topic_arn))
