"""At-most-once handling of an event per consumer, recorded in Cassandra."""

from __future__ import annotations

from uuid import UUID

from store.db import Database

_CLAIM = (
    "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, toTimestamp(now())) IF NOT EXISTS"
)
_RELEASE = "DELETE FROM processed_events WHERE consumer = ? AND event_id = ?"


class ProcessedEvents:
    def __init__(self, database: Database, consumer: str) -> None:
        self._db = database
        self._consumer = consumer

    def claim(self, event_id: UUID) -> bool:
        """True the first time `event_id` is claimed by this consumer (a lightweight
        transaction, so two concurrent deliveries cannot both win)."""
        return bool(self._db.execute(_CLAIM, (self._consumer, event_id)).was_applied)

    def release(self, event_id: UUID) -> None:
        """Undo a claim whose processing failed, so the redelivery is handled."""
        self._db.execute(_RELEASE, (self._consumer, event_id))
