"""One's own notification inbox (written by the notifications consumer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from store.auth import CurrentUser
from store.notifications import INBOX_SIZE, NotificationInbox
from users_api.dependencies import DatabaseDep

router = APIRouter(prefix="/me", tags=["me"])


class NotificationOut(BaseModel):
    event_id: UUID
    event_type: str
    order_id: UUID
    message: str
    created_at: datetime


class NotificationList(BaseModel):
    items: list[NotificationOut]


@router.get("/notifications", response_model=NotificationList)
def my_notifications(
    principal: CurrentUser, database: DatabaseDep, limit: Annotated[int, Query(ge=1, le=INBOX_SIZE)] = INBOX_SIZE
) -> NotificationList:
    """Newest first; the inbox keeps the last 100."""
    items = NotificationInbox(database).latest(principal.id, limit)
    return NotificationList(items=[NotificationOut.model_validate(item, from_attributes=True) for item in items])
