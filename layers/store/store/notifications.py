"""User notifications: message templates (English, Russian) and the per-user
inbox, newest first, of which the last INBOX_SIZE are kept."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from cassandra.util import datetime_from_uuid1
from pydantic import BaseModel

from store.channels import send_all
from store.clock import aware
from store.db import Database
from store.events import DomainEvent
from store.observability import count, logger
from store.paging import Page, decode_cursor, encode_cursor, invalid_cursor
from store.ports import Channel, EventClaims, Inbox, UserDirectory

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


class NotificationInbox:
    def __init__(self, database: Database, size: int = INBOX_SIZE) -> None:
        self._db = database
        self._size = size

    def add(self, user_id: UUID, event: DomainEvent, message: str) -> None:
        self._db.execute(
            "INSERT INTO notifications_by_user (user_id, created_at, event_id, event_type, order_id, message) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, uuid.uuid1(), event.id, event.type, event.order_id, message),
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
    """Turns an order event into the user's inbox entry and channel messages,
    at most once per event (claimed by id)."""

    def __init__(
        self,
        *,
        claims: EventClaims,
        inbox: Inbox,
        users: UserDirectory,
        channels: Sequence[Channel],
        language: str,
    ) -> None:
        self._claims = claims
        self._inbox = inbox
        self._users = users
        self._channels = channels
        self._language = language

    def handle(self, event: DomainEvent) -> None:
        if not self._claims.claim(event.id):
            logger.info("duplicate event skipped", extra={"event_id": str(event.id)})
            return
        try:
            message = render_message(event, self._language)
            self._inbox.add(event.user_id, event, message)
        except Exception:
            self._claims.release(event.id)
            count("notifications_sent_total", channel="inbox", outcome="failed")
            raise
        count("notifications_sent_total", channel="inbox", outcome="sent")
        user = self._users.get(event.user_id)
        if user is not None:
            send_all(self._channels, user, message, self._language)
        logger.info("notification stored", extra={"event_id": str(event.id), "order_id": str(event.order_id)})
