"""Notifications for admins: the delivery history, sending one, and the templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from store.auth import AdminUser
from store.deliveries import DeliveryPublic, DeliveryQuery
from store.notification_admin import NotificationSend, send_notification
from store.notifications import SentNotification
from store.openapi import errors
from store.paging import MAX_CURSOR_LENGTH, Page
from store.templates import Language, TemplatePublic, TemplateType, TemplateUpdate
from users_api.dependencies import DeliveriesDep, NotifierDep, TemplatesDep, UsersDep

router = APIRouter(prefix="/notifications", tags=["admin"])


class HistoryQuery(DeliveryQuery):
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[
        str | None, Field(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
    ] = None


@router.get("", response_model=Page[DeliveryPublic])
def history(_: AdminUser, deliveries: DeliveriesDep, query: Annotated[HistoryQuery, Query()]) -> Page[DeliveryPublic]:
    """Every delivery (one per channel tried) of the last 30 days, newest first;
    filter by user, channel and outcome."""
    return deliveries.page(query, query.limit, query.cursor)


@router.post("", status_code=201, response_model=SentNotification, responses=errors(400, 404))
def send(data: NotificationSend, _: AdminUser, users: UsersDep, notifier: NotifierDep) -> SentNotification:
    """Send one notification to a user, rendered in their language with the
    template of `event_type`, to their inbox and every channel they have an
    address for; each channel's outcome is answered and recorded."""
    return send_notification(users, notifier, data)


@router.get("/templates", response_model=Page[TemplatePublic])
def list_templates(_: AdminUser, templates: TemplatesDep) -> Page[TemplatePublic]:
    """Every template (event type x language), changed or default: one page."""
    return Page(items=templates.all(), next_cursor=None)


@router.get("/templates/{event_type}/{language}", response_model=TemplatePublic)
def read_template(
    event_type: TemplateType, language: Language, _: AdminUser, templates: TemplatesDep
) -> TemplatePublic:
    return templates.get(event_type, language)


@router.put("/templates/{event_type}/{language}", response_model=TemplatePublic, responses=errors(400))
def change_template(
    event_type: TemplateType, language: Language, data: TemplateUpdate, admin: AdminUser, templates: TemplatesDep
) -> TemplatePublic:
    """The placeholders must be exactly the event's fields (see `placeholders`):
    400 names each unknown and each missing one."""
    return templates.put(event_type, language, data.body, admin.id)


@router.delete("/templates/{event_type}/{language}", response_model=TemplatePublic)
def reset_template(
    event_type: TemplateType, language: Language, _: AdminUser, templates: TemplatesDep
) -> TemplatePublic:
    """Back to the built-in text; answers the template now in use."""
    return templates.reset(event_type, language)
