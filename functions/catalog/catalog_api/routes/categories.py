"""Categories with their product counts."""

from __future__ import annotations

from fastapi import APIRouter

from catalog_api.dependencies import Products
from store.auth import CurrentUser
from store.catalog import CategoryInfo
from store.observability import count

router = APIRouter(prefix="/categories", tags=["categories"])


@router.get("", response_model=list[CategoryInfo])
def list_categories(_: CurrentUser, products: Products) -> list[CategoryInfo]:
    categories = products.categories()
    for category in categories:
        count("products_per_category", value=category.product_count, category=category.name)
    return categories
