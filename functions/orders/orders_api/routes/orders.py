"""Orders: one's own (users), everyone's (admins); cancel; admin status changes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from orders_api.dependencies import OrderActionsDep, OrderPaymentsDep, OrdersDep
from store.auth import AdminUser, CurrentUser
from store.openapi import errors
from store.order_payments import PaymentPublic
from store.orders import (
    MAX_LIMIT,
    STATUSES,
    CancelUpdate,
    Cursor,
    OrderPublic,
    OrderStatus,
    OrderStatusUpdate,
)
from store.paging import MAX_CURSOR_LENGTH, Page
from store.statuses import STATUS_NAMES, Language, negotiate_language

router = APIRouter(prefix="/orders", tags=["orders"])


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 20
    cursor: Annotated[
        str | None, Field(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
    ] = None
    status: OrderStatus | None = None
    user_id: Annotated[UUID | None, Field(description="admins only: one user's orders")] = None


class StatusListPublic(BaseModel):
    statuses: list[OrderStatus]
    language: Language = Field(description="the language of `names`")
    names: dict[OrderStatus, str] = Field(description="each status's display name")


@router.get("/statuses/list", response_model=StatusListPublic)
def statuses(
    _: CurrentUser,
    response: Response,
    accept_language: Annotated[
        str | None, Header(description="`en` (default) or `ru`; anything else answers English")
    ] = None,
) -> StatusListPublic:
    """The status codes in lifecycle order, with display names in the language
    asked for with Accept-Language (English or Russian; English otherwise)."""
    language = negotiate_language(accept_language)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    return StatusListPublic(statuses=list(STATUSES), language=language, names=STATUS_NAMES[language])


@router.get("", response_model=Page[OrderPublic])
def list_orders(
    user: CurrentUser, orders: OrdersDep, payments: OrderPaymentsDep, query: Annotated[ListQuery, Query()]
) -> Page[OrderPublic]:
    """Newest first. Users see their own orders (`user_id` is ignored for them);
    admins see everyone's, or one user's with `user_id`."""
    cursor = Cursor.decode(query.cursor) if query.cursor else None
    if user.is_admin and query.user_id is None:
        return payments.attach_page(orders.list_all(limit=query.limit, cursor=cursor, status=query.status))
    owner = query.user_id if user.is_admin and query.user_id else user.id
    return payments.attach_page(orders.list_for_user(owner, limit=query.limit, cursor=cursor, status=query.status))


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(user: CurrentUser, actions: OrderActionsDep, payments: OrderPaymentsDep, order_id: UUID) -> OrderPublic:
    return payments.attach(actions.visible(order_id, user_id=user.id, is_admin=user.is_admin))


@router.get("/{order_id}/payment", response_model=PaymentPublic)
def get_payment(
    user: CurrentUser, actions: OrderActionsDep, payments: OrderPaymentsDep, order_id: UUID
) -> PaymentPublic:
    """The order's payment: status (PENDING, AUTHORIZED, DECLINED, REFUNDING,
    REFUNDED), amounts and when each status was reached. The owner or an admin;
    404 for another user's order and until the workflow has asked for payment."""
    return payments.of(actions.visible(order_id, user_id=user.id, is_admin=user.is_admin))


@router.put("/{order_id}/cancel", response_model=OrderPublic, responses=errors(409))
def cancel_order(
    user: CurrentUser,
    actions: OrderActionsDep,
    payments: OrderPaymentsDep,
    order_id: UUID,
    body: Annotated[CancelUpdate | None, Body()] = None,
) -> OrderPublic:
    reason = body.reason if body else None
    return payments.attach(actions.cancel(order_id, user_id=user.id, is_admin=user.is_admin, reason=reason))


@router.put("/{order_id}/status", response_model=OrderPublic, responses=errors(409))
def change_status(
    _: AdminUser, actions: OrderActionsDep, payments: OrderPaymentsDep, order_id: UUID, update: OrderStatusUpdate
) -> OrderPublic:
    return payments.attach(actions.set_status(order_id, update))


@router.delete("/{order_id}", status_code=204, responses=errors(409))
def delete_order(_: AdminUser, actions: OrderActionsDep, order_id: UUID) -> Response:
    actions.delete(order_id)
    return Response(status_code=204)
