"""User notifications: message templates (English, Russian) and the per-user
inbox, newest first, of which the last INBOX_SIZE are kept."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from cassandra.util import datetime_from_uuid1

from store.db import Database
from store.events import DomainEvent

INBOX_SIZE = 100
LANGUAGES = ("en", "ru")

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


@dataclass(frozen=True)
class Notification:
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

    def latest(self, user_id: UUID, limit: int = INBOX_SIZE) -> list[Notification]:
        rows = self._db.execute(
            "SELECT created_at, event_id, event_type, order_id, message "
            "FROM notifications_by_user WHERE user_id = ? LIMIT ?",
            (user_id, limit),
        )
        return [
            Notification(
                event_id=row.event_id,
                event_type=row.event_type,
                order_id=row.order_id,
                message=row.message,
                created_at=datetime_from_uuid1(row.created_at),
            )
            for row in rows
        ]
