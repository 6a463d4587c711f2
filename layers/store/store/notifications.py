"""User notifications: the per-user inbox, newest first, of which the last
INBOX_SIZE are kept, and the notifier that renders a notification in the
user's language (templates: store.templates) and sends it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from cassandra.util import datetime_from_uuid1, uuid_from_time
from pydantic import BaseModel, Field

from store.channels import ADDRESSES, send_all
from store.clock import aware
from store.db import Database
from store.events import DomainEvent
from store.observability import count, logger
from store.paging import Page, decode_cursor, encode_cursor, invalid_cursor
from store.ports import Channel, DeliveryLog, EffectMarks, Inbox, TemplateSource, UserDirectory
from store.templates import DEFAULTS, FIELDS, Language, TemplateType, render
from store.tracing import tag, traced
from store.users import User

INBOX_SIZE = 100


@dataclass(frozen=True)
class Notification:
    """What a user is told: an order event, or an admin's message."""

    id: UUID
    type: TemplateType
    user_id: UUID
    order_id: UUID | None
    occurred_at: datetime
    fields: dict[str, str]

    @classmethod
    def of_event(cls, event: DomainEvent) -> Notification:
        fields = {"order_id": str(event.order_id), "status": str(event.payload.get("status", ""))}
        return cls(
            id=event.id,
            type=event.type,
            user_id=event.user_id,
            order_id=event.order_id,
            occurred_at=event.occurred_at,
            fields={name: fields[name] for name in FIELDS[event.type]},
        )


def render_message(event: DomainEvent, language: str = "en") -> str:
    """The event's message with the built-in template (unknown languages: English)."""
    notification = Notification.of_event(event)
    chosen: Language = "ru" if language == "ru" else "en"
    return render(DEFAULTS[(notification.type, chosen)], notification.fields)


class NotificationPublic(BaseModel):
    event_id: UUID
    event_type: str
    order_id: UUID | None = Field(description="null for a message from an admin")
    message: str
    created_at: datetime


class SentNotification(BaseModel):
    """What POST /notifications did: the message, in the user's language, and each channel's outcome."""

    notification_id: UUID
    user_id: UUID
    event_type: TemplateType
    language: Language
    message: str
    outcomes: dict[str, str] = Field(
        description="inbox, email, sms: sent or failed (a channel without address: absent)"
    )


def entry_key(event: DomainEvent | Notification) -> UUID:
    """A time uuid at the event's time whose other bits come from the event id."""
    key: UUID = uuid_from_time(
        event.occurred_at, node=event.id.int & 0xFFFFFFFFFFFF, clock_seq=(event.id.int >> 48) & 0x3FFF
    )
    return key


class NotificationInbox:
    def __init__(self, database: Database, size: int = INBOX_SIZE) -> None:
        self._db = database
        self._size = size

    def add(self, user_id: UUID, event: Notification, message: str) -> None:
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
    """Turns a notification (an order event, an admin's message) into the user's
    inbox entry and channel messages, in the user's language, with a delivery
    record per channel. Each effect is idempotent or marked done after it
    happens, so a redelivered event (after a crash or a failure) does what is
    left and repeats nothing that was done, save a channel message whose mark
    was lost."""

    def __init__(
        self,
        *,
        marks: EffectMarks,
        inbox: Inbox,
        users: UserDirectory,
        channels: Sequence[Channel],
        templates: TemplateSource,
        deliveries: DeliveryLog,
        language: Language,
        allow: Callable[[UUID], bool] | None = None,
    ) -> None:
        self._marks = marks
        self._inbox = inbox
        self._users = users
        self._channels = channels
        self._templates = templates
        self._deliveries = deliveries
        self._language = language
        # Per-user allowance of channel messages (SMS, email cost money and can
        # be abused, e.g. a checkout-then-cancel loop); the inbox is not limited.
        self._allow = allow

    @traced("notification")
    def handle(self, event: DomainEvent) -> None:
        tag(order_id=event.order_id, event_type=event.type, status=event.payload.get("status"))
        self.deliver(Notification.of_event(event))
        logger.info("notification handled", extra={"event_id": str(event.id), "order_id": str(event.order_id)})

    def deliver(self, notification: Notification) -> SentNotification:
        user = self._users.get(notification.user_id)
        language = language_of(user, self._language)
        message = self._templates.render(notification.type, language, notification.fields)
        outcomes: dict[str, str] = {}
        try:
            self._inbox.add(notification.user_id, notification, message)
        except Exception:
            count("notifications_sent_total", channel="inbox", outcome="failed")
            self._record(notification, "inbox", "failed", message)
            raise
        count("notifications_sent_total", channel="inbox", outcome="sent")
        outcomes["inbox"] = "sent"
        self._record(notification, "inbox", "sent", message)
        if user is None:
            return self._sent(notification, language, message, outcomes)
        due = [c for c in self._channels if ADDRESSES[c.name](user) and not self._marks.done(c.name, notification.id)]
        if due and self._allow is not None and not self._allow(user.id):
            for channel in due:
                count("notifications_sent_total", channel=channel.name, outcome="limited")
                outcomes[channel.name] = "limited"
                self._record(notification, channel.name, "limited", message)
                self._marks.mark(channel.name, notification.id)  # dropped for good, not retried
            logger.warning(
                "notification limit reached",
                extra={"user_id": str(user.id), "notification_id": str(notification.id)},
            )
            return self._sent(notification, language, message, outcomes)
        for channel in due:
            # Best effort: a failure is counted and recorded, not raised.
            outcome = send_all([channel], user, message, language)[channel.name]
            outcomes[channel.name] = outcome
            self._record(notification, channel.name, outcome, message)
            self._marks.mark(channel.name, notification.id)
        return self._sent(notification, language, message, outcomes)

    def _record(self, notification: Notification, channel: str, outcome: str, message: str) -> None:
        try:
            self._deliveries.record(
                user_id=notification.user_id,
                notification_id=notification.id,
                event_type=notification.type,
                occurred_at=notification.occurred_at,
                channel=channel,
                outcome=outcome,
                message=message,
            )
        except Exception as error:
            # The history is for reading: losing one record must not resend a message.
            logger.warning("notification delivery not recorded", extra={"channel": channel, "error": repr(error)})

    @staticmethod
    def _sent(
        notification: Notification, language: Language, message: str, outcomes: dict[str, str]
    ) -> SentNotification:
        return SentNotification(
            notification_id=notification.id,
            user_id=notification.user_id,
            event_type=notification.type,
            language=language,
            message=message,
            outcomes=outcomes,
        )


def language_of(user: User | None, default: Language) -> Language:
    """The user's own language, else the deployment's."""
    return user.language if user is not None and user.language is not None else default
