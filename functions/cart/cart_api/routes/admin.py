"""Every open cart, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cart_api.dependencies import Carts
from store.auth import AdminUser
from store.cart import CartPublic

router = APIRouter(prefix="/carts", tags=["admin"])


@router.get("", response_model=list[CartPublic])
def all_carts(_: AdminUser, carts: Carts, limit: Annotated[int, Query(ge=1, le=100)] = 50) -> list[CartPublic]:
    return carts.all_carts(limit)
