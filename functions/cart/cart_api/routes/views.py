"""Recently viewed products of the signed-in user (last 20, expiring after 30 days)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from cart_api.dependencies import Views
from store.auth import CurrentUser
from store.cart import RecentView

router = APIRouter(prefix="/products", tags=["recent views"])


@router.post("/{product_id}/view", status_code=204)
def record_view(user: CurrentUser, views: Views, product_id: UUID) -> Response:
    views.record(user.id, product_id)
    return Response(status_code=204)


@router.get("/recent-views", response_model=list[RecentView])
def recent_views(user: CurrentUser, views: Views) -> list[RecentView]:
    return views.latest(user.id)
