"""Orders: one's own (users), everyone's (admins); cancel; admin status changes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from orders_api.dependencies import Actions, Orders
from store.auth import AdminUser, CurrentUser
from store.orders import (
    MAX_LIMIT,
    STATUSES,
    CancelRequest,
    Cursor,
    OrderPage,
    OrderPublic,
    OrderStatus,
    StatusUpdate,
)

router = APIRouter(prefix="/orders", tags=["orders"])


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 20
    cursor: Annotated[str | None, Field(max_length=500, description="next_cursor of the previous page")] = None
    status: OrderStatus | None = None
    user_id: Annotated[UUID | None, Field(description="admins only: one user's orders")] = None


class StatusList(BaseModel):
    statuses: list[OrderStatus]


@router.get("/statuses/list", response_model=StatusList)
def statuses(_: CurrentUser) -> StatusList:
    return StatusList(statuses=list(STATUSES))


@router.get("", response_model=OrderPage)
def list_orders(user: CurrentUser, orders: Orders, query: Annotated[ListQuery, Query()]) -> OrderPage:
    """Newest first. Users see their own orders (`user_id` is ignored for them);
    admins see everyone's, or one user's with `user_id`."""
    cursor = Cursor.decode(query.cursor) if query.cursor else None
    if user.is_admin and query.user_id is None:
        return orders.list_all(limit=query.limit, cursor=cursor, status=query.status)
    owner = query.user_id if user.is_admin and query.user_id else user.id
    return orders.list_for_user(owner, limit=query.limit, cursor=cursor, status=query.status)


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(user: CurrentUser, actions: Actions, order_id: UUID) -> OrderPublic:
    return actions.visible(order_id, user_id=user.id, is_admin=user.is_admin)


@router.put("/{order_id}/cancel", response_model=OrderPublic)
def cancel_order(
    user: CurrentUser, actions: Actions, order_id: UUID, body: Annotated[CancelRequest | None, Body()] = None
) -> OrderPublic:
    reason = body.reason if body else None
    return actions.cancel(order_id, user_id=user.id, is_admin=user.is_admin, reason=reason)


@router.put("/{order_id}/status", response_model=OrderPublic)
def change_status(_: AdminUser, actions: Actions, order_id: UUID, update: StatusUpdate) -> OrderPublic:
    return actions.set_status(order_id, update)


@router.delete("/{order_id}", status_code=204)
def delete_order(_: AdminUser, actions: Actions, order_id: UUID) -> Response:
    actions.delete(order_id)
    return Response(status_code=204)
