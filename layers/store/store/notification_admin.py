"""What admins do with notifications: send one to a user (through the notifier,
so the same templates, channels and delivery records apply)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from store.clock import to_ms, utc_now
from store.errors import BadRequest, NotFound
from store.notifications import Notification, Notifier, SentNotification
from store.ports import UserDirectory
from store.templates import FIELDS, TemplateType
from store.wire import NOT_BLANK

FieldValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=NOT_BLANK)]


class NotificationSend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    event_type: TemplateType = Field(default="AdminMessage", description="the template to render")
    fields: dict[str, FieldValue] = Field(
        max_length=5, description="the template's placeholders: AdminMessage takes `text`"
    )


def send_notification(users: UserDirectory, notifier: Notifier, data: NotificationSend) -> SentNotification:
    """404 for an unknown user; 400 naming each field the template does not take or lacks."""
    user = users.get(data.user_id)
    if user is None:
        raise NotFound(f"user {data.user_id} does not exist")
    expected = FIELDS[data.event_type]
    unknown, missing = sorted(set(data.fields) - expected), sorted(expected - set(data.fields))
    if unknown or missing:
        parts = [f"unknown field {name!r}" for name in unknown] + [f"missing field {name!r}" for name in missing]
        raise BadRequest(
            f"{'; '.join(parts)}: an {data.event_type} notification takes {', '.join(sorted(expected))}",
            details=[{"field": "fields", "unknown": unknown, "missing": missing}],
        )
    notification = Notification(
        id=uuid.uuid4(),
        type=data.event_type,
        user_id=user.id,
        order_id=None,
        occurred_at=to_ms(utc_now()),
        fields=dict(data.fields),
    )
    return notifier.deliver(notification)
