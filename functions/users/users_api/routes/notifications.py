"""One's own notification inbox (written by the notifications consumer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from store.auth import CurrentUser
from store.notifications import INBOX_SIZE, NotificationPublic
from store.paging import MAX_CURSOR_LENGTH, Page
from users_api.dependencies import InboxDep

router = APIRouter(prefix="/me", tags=["me"])


@router.get("/notifications", response_model=Page[NotificationPublic])
def my_notifications(
    principal: CurrentUser,
    inbox: InboxDep,
    limit: Annotated[int, Query(ge=1, le=INBOX_SIZE)] = INBOX_SIZE,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
    ] = None,
) -> Page[NotificationPublic]:
    """Newest first; the inbox keeps the last 100."""
    return inbox.page(principal.id, limit, cursor)
