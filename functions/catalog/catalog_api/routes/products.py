"""ProductsDep: browse (any signed-in user), manage (admins)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from catalog_api.dependencies import ProductsDep
from store.audit import Actor
from store.auth import AdminUser, CurrentUser
from store.catalog import (
    ALL_PRODUCTS,
    MAX_LIMIT,
    Position,
    ProductCreate,
    ProductPage,
    ProductPublic,
    ProductUpdate,
    SortField,
    SortOrder,
    StockChange,
)
from store.errors import BadRequest
from store.observability import count
from store.openapi import errors
from store.paging import MAX_CURSOR_LENGTH

router = APIRouter(prefix="/products", tags=["products"])

MAX_BULK = 1000


class BulkImportCreate(BaseModel):
    products: Annotated[list[ProductCreate], Field(min_length=1, max_length=MAX_BULK)]


class BulkImportPublic(BaseModel):
    created: int
    ids: list[UUID]


class StockPublic(BaseModel):
    id: UUID
    quantity: int


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Annotated[str | None, Field(min_length=1, max_length=50, description="required for non-admins")] = None
    sort: SortField = "name"
    order: SortOrder = "asc"
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 20
    cursor: Annotated[
        str | None, Field(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
    ] = None


UNKNOWN_CATEGORY = "(unknown)"


@router.get("", response_model=ProductPage)
def list_products(user: CurrentUser, products: ProductsDep, query: Annotated[ListQuery, Query()]) -> ProductPage:
    scope = query.category.strip().lower() if query.category else ALL_PRODUCTS
    if scope == ALL_PRODUCTS and not user.is_admin:
        raise BadRequest(
            "the query parameter 'category' is required (only admins may list the whole catalog)",
            details={"parameter": "category"},
        )
    after = None
    if query.cursor is not None:
        after = Position.decode(query.cursor)
        if (after.scope, after.sort, after.order) != (scope, query.sort, query.order):
            raise BadRequest(
                "cursor belongs to another listing: repeat the same category, sort and order",
                details={"parameter": "cursor"},
            )
    page = products.list_page(
        scope=scope, sort=query.sort, order=query.order, limit=query.limit, page=query.page, after=after
    )
    if scope != ALL_PRODUCTS:
        # Only a category that has products becomes a metric dimension: a raw query
        # string must not mint a new metric series per request.
        count("category_requests_total", category=scope if page.items else UNKNOWN_CATEGORY)
    return page


@router.get("/{product_id:uuid}", response_model=ProductPublic)
def get_product(_: CurrentUser, products: ProductsDep, product_id: UUID) -> ProductPublic:
    product = products.require(product_id)
    count("product_views_total", category=product.category)
    return product


@router.post("", response_model=ProductPublic, status_code=201)
def create_product(admin: AdminUser, products: ProductsDep, product: ProductCreate) -> ProductPublic:
    return products.create_many([product], Actor.of(admin.user))[0]


@router.post("/bulk", response_model=BulkImportPublic, status_code=201)
def import_products(admin: AdminUser, products: ProductsDep, body: BulkImportCreate) -> BulkImportPublic:
    created = products.create_many(body.products, Actor.of(admin.user))
    return BulkImportPublic(created=len(created), ids=[product.id for product in created])


@router.put("/{product_id:uuid}", response_model=ProductPublic)
def update_product(admin: AdminUser, products: ProductsDep, product_id: UUID, change: ProductUpdate) -> ProductPublic:
    return products.update(product_id, change, Actor.of(admin.user))


@router.delete("/{product_id:uuid}", status_code=204)
def delete_product(admin: AdminUser, products: ProductsDep, product_id: UUID) -> Response:
    products.delete(product_id, Actor.of(admin.user))
    return Response(status_code=204)


@router.patch("/{product_id:uuid}/stock", response_model=StockPublic, responses=errors(409))
def change_stock(admin: AdminUser, products: ProductsDep, product_id: UUID, change: StockChange) -> StockPublic:
    return StockPublic(id=product_id, quantity=products.change_stock(product_id, change, Actor.of(admin.user)))
