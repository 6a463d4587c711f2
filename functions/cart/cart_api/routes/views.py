"""Recently viewed products of the signed-in user (last 20, expiring after 30 days)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from cart_api.dependencies import RecentViewsDep
from store.auth import CurrentUser
from store.cart import RecentViewPublic
from store.paging import Page

router = APIRouter(prefix="/products", tags=["recent views"])


@router.post("/{product_id}/view", status_code=204)
def record_view(user: CurrentUser, views: RecentViewsDep, product_id: UUID) -> Response:
    views.record(user.id, product_id)
    return Response(status_code=204)


@router.get("/recent-views", response_model=Page[RecentViewPublic])
def recent_views(user: CurrentUser, views: RecentViewsDep) -> Page[RecentViewPublic]:
    """The last 20 distinct products viewed, newest first: always one page."""
    return Page(items=views.latest(user.id), next_cursor=None)
