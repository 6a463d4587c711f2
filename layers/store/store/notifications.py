"""User notifications: message templates (English, Russian) and the per-user
inbox, newest first, of which the last INBOX_SIZE are kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from cassandra.util import datetime_from_uuid1, uuid_from_time
from pydantic import BaseModel

from store.channels import ADDRESSES, send_all
from store.clock import aware
from store.db import Database
from store.events import DomainEvent
from store.observability import count, logger
from store.paging import Page, decode_cursor, encode_cursor, invalid_cursor
from store.ports import Channel, EffectMarks, Inbox, UserDirectory
from store.tracing import tag, traced

INBOX_SIZE = 100

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "OrderCreated": "Your order {order_id} has been created.",
        "OrderStatusChanged": "Your order {order_id} changed status to: {status}",
    },
    "ru": {
        "OrderCreated": "Ваш заказ {order_id} создан.",
        "OrderStatusChanged": "Ваш заказ {order_id} изменил статус на: {status}",
    },
}


def render_message(event: DomainEvent, language: str = "en") -> str:
    template = TEMPLATES.get(language, TEMPLATES["en"])[event.type]
    return template.format(order_id=event.order_id, status=event.payload.get("status", ""))


class NotificationPublic(BaseModel):
    event_id: UUID
    event_type: str
    order_id: UUID
    message: str
    created_at: datetime


def entry_key(event: DomainEvent) -> UUID:
    """A time uuid at the event's time whose other bits come from the event id."""
    key: UUID = uuid_from_time(
        event.occurred_at, node=event.id.int & 0xFFFFFFFFFFFF, clock_seq=(event.id.int >> 48) & 0x3FFF
    )
    return key


class NotificationInbox:
    def __init__(self, database: Database, size: int = INBOX_SIZE) -> None:
        self._db = database
        self._size = size

    def add(self, user_id: UUID, event: DomainEvent, message: str) -> None:
        """One entry per event: its key is made from the event (its time and id),
        so a redelivered event writes the same row again."""
        self._db.execute(
            "INSERT INTO notifications_by_user (user_id, created_at, event_id, event_type, order_id, message) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, entry_key(event), event.id, event.type, event.order_id, message),
        )
        self._trim(user_id)

    def _trim(self, user_id: UUID) -> None:
        """Keep the newest `size`: one range delete of everything older (reads keys only)."""
        keys = list(
            self._db.execute(
                "SELECT created_at FROM notifications_by_user WHERE user_id = ? LIMIT ?", (user_id, self._size + 1)
            )
        )
        if len(keys) > self._size:
            self._db.execute(
                "DELETE FROM notifications_by_user WHERE user_id = ? AND created_at <= ?",
                (user_id, keys[-1].created_at),
            )

    def page(self, user_id: UUID, limit: int, cursor: str | None = None) -> Page[NotificationPublic]:
        """Newest first, `limit` at a time; the cursor is the last entry's time id."""
        if cursor is None:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM notifications_by_user WHERE user_id = ? LIMIT ?", (user_id, limit + 1)
            )
        else:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM notifications_by_user WHERE user_id = ? AND created_at < ? LIMIT ?",
                (user_id, _inbox_cursor(cursor), limit + 1),
            )
        found = list(rows)
        items = [
            NotificationPublic(
                event_id=row.event_id,
                event_type=row.event_type,
                order_id=row.order_id,
                message=row.message,
                created_at=aware(datetime_from_uuid1(row.created_at)),
            )
            for row in found[:limit]
        ]
        more = len(found) > limit
        return Page(items=items, next_cursor=encode_cursor({"t": str(found[limit - 1].created_at)}) if more else None)


_COLUMNS = "created_at, event_id, event_type, order_id, message"


def _inbox_cursor(cursor: str) -> UUID:
    try:
        time_id = UUID(str(decode_cursor(cursor)["t"]))
    except (KeyError, ValueError) as error:
        raise invalid_cursor() from error
    if time_id.version != 1:
        raise invalid_cursor()
    return time_id


class Notifier:
    """Turns an order event into the user's inbox entry and channel messages.
    Each effect is idempotent or marked done after it happens, so a redelivered
    event (after a crash or a failure) does what is left and repeats nothing
    that was done, save a channel message whose mark was lost."""

    def __init__(
        self,
        *,
        marks: EffectMarks,
        inbox: Inbox,
        users: UserDirectory,
        channels: Sequence[Channel],
        language: str,
    ) -> None:
        self._marks = marks
        self._inbox = inbox
        self._users = users
        self._channels = channels
        self._language = language

    @traced("notification")
    def handle(self, event: DomainEvent) -> None:
        tag(order_id=event.order_id, event_type=event.type, status=event.payload.get("status"))
        message = render_message(event, self._language)
        try:
            self._inbox.add(event.user_id, event, message)
        except Exception:
            count("notifications_sent_total", channel="inbox", outcome="failed")
            raise
        count("notifications_sent_total", channel="inbox", outcome="sent")
        user = self._users.get(event.user_id)
        if user is None:
            return
        for channel in self._channels:
            if ADDRESSES[channel.name](user) and not self._marks.done(channel.name, event.id):
                send_all([channel], user, message, self._language)  # best effort: a failure is counted
                self._marks.mark(channel.name, event.id)
        logger.info("notification handled", extra={"event_id": str(event.id), "order_id": str(event.order_id)})
