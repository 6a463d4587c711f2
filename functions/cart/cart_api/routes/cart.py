"""The signed-in user's own cart, and checkout. The user comes only from the token."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, Request, Response

from cart_api.dependencies import CartsDep, CheckoutDep, IdempotencyStoreDep
from store.auth import CurrentUser
from store.cart import CartItemCreate, CartItemUpdate, CartPublic
from store.checkout import CheckoutCreate, checkout_once
from store.observability import count
from store.openapi import errors
from store.orders import OrderPublic

router = APIRouter(prefix="/cart", tags=["cart"])


@router.get("", response_model=CartPublic)
def show_cart(user: CurrentUser, carts: CartsDep) -> CartPublic:
    return carts.show(user.id)


@router.delete("", status_code=204)
def clear_cart(user: CurrentUser, carts: CartsDep) -> Response:
    carts.clear(user.id)
    return Response(status_code=204)


@router.post("/items", response_model=CartPublic, status_code=201, responses=errors(404, 409))
def add_item(user: CurrentUser, carts: CartsDep, item: CartItemCreate) -> CartPublic:
    cart = carts.add(user.id, item)
    count("items_added_to_cart_total", value=item.quantity)
    return cart


@router.put("/items/{item_id}", response_model=CartPublic, responses=errors(409))
def update_item(user: CurrentUser, carts: CartsDep, item_id: UUID, change: CartItemUpdate) -> CartPublic:
    return carts.update(user.id, item_id, change)


@router.delete("/items/{item_id}", response_model=CartPublic)
def remove_item(user: CurrentUser, carts: CartsDep, item_id: UUID) -> CartPublic:
    """`item_id` is a line's id or its product's id."""
    return carts.remove(user.id, item_id)


@router.post("/checkout", response_model=OrderPublic, status_code=201, responses=errors(400, 409))
def checkout(  # noqa: PLR0917 - FastAPI passes the dependencies by name
    user: CurrentUser,
    service: CheckoutDep,
    idempotency_store: IdempotencyStoreDep,
    request: Request,
    body: Annotated[CheckoutCreate | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)] = None,
) -> OrderPublic:
    context: Any = request.scope.get("aws.context")
    return checkout_once(
        service,
        idempotency_store=idempotency_store,
        user_id=user.id,
        request=body or CheckoutCreate(),
        idempotency_key=idempotency_key,
        context=context,
    )
