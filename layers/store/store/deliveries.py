"""The notification history: one record per channel a notification was sent
through (inbox, email, SMS), with its outcome, for admins.

Two tables hold the same records: by day (everyone's, newest first) and by
user. A record's key is a time uuid at the notification's time whose other
bits come from the notification id and the channel, so a redelivered event
writes the same rows again. Filters on channel and outcome are applied while
reading (their combinations are few and the history is kept 30 days).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from cassandra.util import datetime_from_uuid1, uuid_from_time
from pydantic import BaseModel

from store.clock import aware, utc_now
from store.db import Database
from store.paging import Page, decode_cursor, encode_cursor, invalid_cursor

ChannelName = Literal["inbox", "email", "sms"]
Outcome = Literal["sent", "failed", "limited"]
KEPT_DAYS = 30
# Rows read per query while filtering: bounded work per page.
_CHUNK = 200


class DeliveryPublic(BaseModel):
    user_id: UUID
    channel: ChannelName
    outcome: Outcome
    event_type: str
    notification_id: UUID
    message: str
    at: datetime


class DeliveryQuery(BaseModel):
    user_id: UUID | None = None
    channel: ChannelName | None = None
    outcome: Outcome | None = None

    def matches(self, row: Any) -> bool:
        return (self.channel is None or row.channel == self.channel) and (
            self.outcome is None or row.outcome == self.outcome
        )


def delivery_key(occurred_at: datetime, notification_id: UUID, channel: str) -> UUID:
    digest = int.from_bytes(hashlib.blake2b(f"{notification_id}:{channel}".encode(), digest_size=8).digest(), "big")
    key: UUID = uuid_from_time(occurred_at, node=digest & 0xFFFFFFFFFFFF, clock_seq=(digest >> 48) & 0x3FFF)
    return key


_COLUMNS = "at, channel, user_id, outcome, event_type, event_id, message"


class NotificationDeliveries:
    def __init__(self, database: Database, clock: Any = utc_now) -> None:
        self._db = database
        self._clock = clock

    def record(
        self,
        *,
        user_id: UUID,
        notification_id: UUID,
        event_type: str,
        occurred_at: datetime,
        channel: str,
        outcome: str,
        message: str,
    ) -> None:
        at = delivery_key(occurred_at, notification_id, channel)
        values = (channel, user_id, outcome, event_type, notification_id, message)
        self._db.execute(
            f"INSERT INTO notification_deliveries_by_day (day, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (occurred_at.astimezone(UTC).date(), at, *values),
        )
        self._db.execute(
            f"INSERT INTO notification_deliveries_by_user ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (at, *values),
        )

    def page(self, query: DeliveryQuery, limit: int, cursor: str | None = None) -> Page[DeliveryPublic]:
        """Newest first, `limit` matching records at a time."""
        day, after = _position(cursor) if cursor else (None, None)
        found: list[tuple[date | None, Any]] = []
        for partition, row in self._rows(query, day, after):
            if query.matches(row):
                found.append((partition, row))
                if len(found) > limit:
                    break
        items = [_public(row) for _, row in found[:limit]]
        if len(found) <= limit:
            return Page(items=items, next_cursor=None)
        last_day, last = found[limit - 1]
        fields: dict[str, Any] = {"t": str(last.at)}
        if last_day is not None:
            fields["d"] = last_day.isoformat()
        return Page(items=items, next_cursor=encode_cursor(fields))

    def _rows(self, query: DeliveryQuery, day: date | None, after: UUID | None) -> Iterator[tuple[date | None, Any]]:
        if query.user_id is not None:
            for row in self._scan("notification_deliveries_by_user", "user_id", query.user_id, after):
                yield None, row
            return
        today = self._clock().astimezone(UTC).date()
        current = day or today
        while current >= today - timedelta(days=KEPT_DAYS):
            for row in self._scan("notification_deliveries_by_day", "day", current, after):
                yield current, row
            current -= timedelta(days=1)
            after = None

    def _scan(self, table: str, key: str, value: Any, after: UUID | None) -> Iterator[Any]:
        while True:
            if after is None:
                rows = list(
                    self._db.execute(f"SELECT {_COLUMNS} FROM {table} WHERE {key} = ? LIMIT ?", (value, _CHUNK))
                )
            else:
                rows = list(
                    self._db.execute(
                        f"SELECT {_COLUMNS} FROM {table} WHERE {key} = ? AND at < ? LIMIT ?", (value, after, _CHUNK)
                    )
                )
            yield from rows
            if len(rows) < _CHUNK:
                return
            after = rows[-1].at


def _public(row: Any) -> DeliveryPublic:
    return DeliveryPublic(
        user_id=row.user_id,
        channel=row.channel,
        outcome=row.outcome,
        event_type=row.event_type,
        notification_id=row.event_id,
        message=row.message,
        at=aware(datetime_from_uuid1(row.at)),
    )


def _position(cursor: str) -> tuple[date | None, UUID]:
    fields = decode_cursor(cursor)
    try:
        at = UUID(str(fields["t"]))
        day = date.fromisoformat(str(fields["d"])) if "d" in fields else None
    except (KeyError, ValueError) as error:
        raise invalid_cursor() from error
    if at.version != 1:
        raise invalid_cursor()
    return day, at
