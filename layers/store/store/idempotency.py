"""Idempotency in Cassandra: which effects of an event a consumer has done, and
the Powertools idempotency persistence layer behind checkout's Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import STATUS_CONSTANTS, DataRecord

from store.db import Database


class DeliveryMarks:
    """Which effects of an event were done, per consumer and effect (table
    `processed_events`, consumer `<consumer>.<effect>`), each marked after the
    effect: a crash in between repeats it (at least once), never loses it."""

    def __init__(self, database: Database, consumer: str) -> None:
        self._db = database
        self._consumer = consumer

    def done(self, effect: str, event_id: UUID) -> bool:
        row = self._db.execute(
            "SELECT event_id FROM processed_events WHERE consumer = ? AND event_id = ?",
            (f"{self._consumer}.{effect}", event_id),
        ).one()
        return row is not None

    def mark(self, effect: str, event_id: UUID) -> None:
        self._db.execute(
            "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, toTimestamp(now()))",
            (f"{self._consumer}.{effect}", event_id),
        )


class CassandraIdempotencyStore(BasePersistenceLayer):
    """Powertools idempotency records in Cassandra (table `idempotency_records`).

    The put is a lightweight transaction, as the DynamoDB layer's conditional
    put: a new key is inserted `IF NOT EXISTS`; an existing record is taken over
    only when it has expired or is an in-progress record whose function timed
    out, by compare-and-set on the values read, so two racing requests with one
    key never both run.
    """

    def __init__(self, database: Database) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._db = database

    def _get_record(self, idempotency_key: str) -> DataRecord:
        row = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM idempotency_records WHERE id = ?", (idempotency_key,))
        found = row.one()
        if found is None:
            raise IdempotencyItemNotFoundError
        return _to_record(found)

    def _put_record(self, data_record: DataRecord) -> None:
        values = (
            data_record.status,
            data_record.expiry_timestamp,
            data_record.in_progress_expiry_timestamp,
            data_record.payload_hash,
        )
        result = self._db.execute(
            "INSERT INTO idempotency_records (id, status, expiry_timestamp, in_progress_expiry_timestamp, "
            "payload_hash) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
            (data_record.idempotency_key, *values),
        )
        if result.was_applied:
            return
        existing = _to_record(result.one())
        now = datetime.now(UTC).timestamp()
        expired = existing.expiry_timestamp is not None and existing.expiry_timestamp < now
        stale = (
            existing.status == STATUS_CONSTANTS["INPROGRESS"]
            and existing.in_progress_expiry_timestamp is not None
            and existing.in_progress_expiry_timestamp < now * 1000
        )
        if expired or stale:
            taken = self._db.execute(
                "UPDATE idempotency_records SET status = ?, expiry_timestamp = ?, in_progress_expiry_timestamp = ?, "
                "payload_hash = ?, response_data = null WHERE id = ? IF status = ? AND expiry_timestamp = ?",
                (*values, data_record.idempotency_key, existing.status, existing.expiry_timestamp),
            )
            if taken.was_applied:
                return
            raise IdempotencyItemAlreadyExistsError
        self._validate_payload(data_payload=data_record, stored_data_record=existing)
        raise IdempotencyItemAlreadyExistsError(old_data_record=existing)

    def _update_record(self, data_record: DataRecord) -> None:
        self._db.execute(
            "UPDATE idempotency_records SET status = ?, expiry_timestamp = ?, response_data = ? WHERE id = ?",
            (data_record.status, data_record.expiry_timestamp, data_record.response_data, data_record.idempotency_key),
        )

    def _delete_record(self, data_record: DataRecord) -> None:
        self._db.execute("DELETE FROM idempotency_records WHERE id = ?", (data_record.idempotency_key,))


_RECORD_COLUMNS = "id, status, expiry_timestamp, in_progress_expiry_timestamp, response_data, payload_hash"


def _to_record(row: Any) -> DataRecord:
    return DataRecord(
        idempotency_key=row.id,
        status=row.status or "",
        expiry_timestamp=row.expiry_timestamp,
        in_progress_expiry_timestamp=row.in_progress_expiry_timestamp,
        response_data=row.response_data,
        payload_hash=row.payload_hash,
    )
