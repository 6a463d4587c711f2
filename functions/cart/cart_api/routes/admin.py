"""Every open cart, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cart_api.dependencies import CartsDep
from store.auth import AdminUser
from store.cart import CartPublic
from store.paging import MAX_CURSOR_LENGTH, Page

router = APIRouter(prefix="/carts", tags=["admin"])


@router.get("", response_model=Page[CartPublic])
def all_carts(
    _: AdminUser,
    carts: CartsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
    ] = None,
) -> Page[CartPublic]:
    return carts.all_carts(limit, cursor)
